"""Mediation structures' places (points de présence), their qualification, and the
gazetteer of French communes."""

import opening_hours
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from aptic.models import Organisation

from . import hours
from .departments import department_of


def validate_opening_hours(value):
    """OpenStreetMap `opening_hours` syntax, e.g. "Mo-Fr 09:00-12:00; Sa 09:00-12:00"."""
    if not value:
        return
    try:
        opening_hours.OpeningHours(value)
    except (opening_hours.ParserError, ValueError) as error:
        raise ValidationError(
            _("Horaires invalides : utilisez la syntaxe OpenStreetMap « opening_hours », "
              "par exemple « Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00 »."),
            code="invalid_opening_hours",
        ) from error


class Qualification(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    SUBMITTED = "submitted", _("En attente de qualification")
    QUALIFIED = "qualified", _("Qualifié")
    REJECTED = "rejected", _("Refusé")
    SUSPENDED = "suspended", _("Suspendu")


class PlaceQuerySet(models.QuerySet):
    def qualified(self):
        return self.filter(qualification=Qualification.QUALIFIED)

    def in_bbox(self, south, west, north, east):
        return self.filter(latitude__range=(south, north), longitude__range=(west, east))


class Place(models.Model):
    """A place (lieu, point de présence) where a structure delivers help.

    Imported places may have no structure yet: they are listed but not qualified until a
    structure claims them."""

    structure = models.ForeignKey(
        Organisation, verbose_name=_("structure"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="places",
        limit_choices_to={"kind": Organisation.Kind.STRUCTURE},
    )
    # Identity in the national data standard: (source, source_id) is the upsert key.
    source = models.CharField(_("source"), max_length=100, blank=True)
    source_id = models.CharField(_("identifiant dans la source"), max_length=100, blank=True)
    pivot = models.CharField(_("SIRET ou RNA (pivot)"), max_length=14, blank=True)

    name = models.CharField(_("nom"), max_length=250)
    address = models.CharField(_("adresse"), max_length=300)
    address_complement = models.CharField(_("complément d’adresse"), max_length=300,
                                          blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, db_index=True)
    insee_code = models.CharField(_("code INSEE"), max_length=5, blank=True, db_index=True)
    town = models.CharField(_("commune"), max_length=150)
    department = models.CharField(_("département"), max_length=3, blank=True, db_index=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    opening_hours = models.CharField(
        _("horaires d’ouverture"), max_length=500, blank=True,
        validators=[validate_opening_hours],
        help_text=_("Syntaxe OpenStreetMap, par exemple « Mo-Fr 09:00-12:00,14:00-17:00 »."),
    )
    services = models.ManyToManyField(
        "services.Service", verbose_name=_("services proposés"), blank=True,
        related_name="places",
    )

    # Other fields of the national standard (v1.0.2); multi-valued ones are lists.
    typology = models.CharField(_("typologie"), max_length=200, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    emails = models.JSONField(_("courriels"), default=list, blank=True)
    websites = models.JSONField(_("sites web"), default=list, blank=True)
    summary = models.CharField(_("présentation résumée"), max_length=280, blank=True)
    description = models.TextField(_("présentation détaillée"), blank=True)
    itinerancy = models.JSONField(_("itinérance"), default=list, blank=True)
    parent_structure = models.CharField(_("structure parente"), max_length=250, blank=True)
    publics = models.JSONField(_("publics spécifiquement adressés"), default=list, blank=True)
    specific_support = models.JSONField(_("prise en charge spécifique"), default=list,
                                        blank=True)
    fees = models.JSONField(_("frais à charge"), default=list, blank=True)
    national_schemes = models.JSONField(_("dispositifs et programmes nationaux"),
                                        default=list, blank=True)
    labels = models.JSONField(_("formations et labels"), default=list, blank=True)
    other_labels = models.CharField(_("autres formations et labels"), max_length=500,
                                    blank=True)
    access_modes = models.JSONField(_("modalités d’accès"), default=list, blank=True)
    support_modes = models.JSONField(_("modalités d’accompagnement"), default=list,
                                     blank=True)
    accessibility_url = models.URLField(_("fiche Accès libre"), max_length=500, blank=True)
    booking_url = models.URLField(_("prise de rendez-vous"), max_length=500, blank=True)
    source_updated_on = models.DateField(_("mise à jour dans la source"), null=True,
                                         blank=True)

    qualification = models.CharField(
        _("qualification"), max_length=20, choices=Qualification.choices,
        default=Qualification.DRAFT, db_index=True,
    )
    qualification_reason = models.TextField(_("motif"), blank=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifié le"), auto_now=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("lieu")
        verbose_name_plural = _("lieux")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["latitude", "longitude"], name="place_coordinates"),
            models.Index(fields=["qualification", "latitude", "longitude"],
                         name="place_qualified_coordinates"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"], condition=~Q(source_id=""),
                name="unique_place_per_source",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="place_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True)
                | Q(longitude__gte=-180, longitude__lte=180),
                name="place_longitude_range",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.town})"

    def save(self, *args, **kwargs):
        self.department = department_of(self.insee_code or self.postcode)
        super().save(*args, **kwargs)

    @property
    def is_qualified(self):
        return self.qualification == Qualification.QUALIFIED

    def parsed_opening_hours(self):
        return hours.parse(self.opening_hours)

    def is_open_at(self, moment):
        """True/False, or None when the hours are unknown. `moment` is an aware datetime."""
        return hours.is_open(self.opening_hours, moment)


class StructureProfile(models.Model):
    """What a mediation structure gives to be qualified and paid: questionnaire answers,
    charter, and bank details for reimbursements."""

    organisation = models.OneToOneField(
        Organisation, verbose_name=_("structure"), on_delete=models.CASCADE,
        related_name="structure_profile",
        limit_choices_to={"kind": Organisation.Kind.STRUCTURE},
    )
    eligibility = models.JSONField(_("questionnaire d’éligibilité"), default=dict, blank=True)
    charter_accepted_at = models.DateTimeField(_("charte acceptée le"), null=True, blank=True)
    charter_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("charte acceptée par"), null=True,
        blank=True, on_delete=models.PROTECT, related_name="+",
    )
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    account_holder = models.CharField(_("titulaire du compte"), max_length=140, blank=True)

    class Meta:
        verbose_name = _("profil de structure")
        verbose_name_plural = _("profils de structure")

    def __str__(self):
        return str(self.organisation)

    @property
    def has_bank_details(self):
        return bool(self.iban and self.bic and self.account_holder)


class Commune(models.Model):
    """The gazetteer: one row per (commune, postcode), loaded from a file in the repo so that
    search by postcode or town works offline."""

    insee_code = models.CharField(_("code INSEE"), max_length=5, db_index=True)
    name = models.CharField(_("nom"), max_length=150)
    # Lower case, no accents, hyphens as spaces: what autocompletion matches against.
    search_name = models.CharField(max_length=150, db_index=True)
    postcode = models.CharField(_("code postal"), max_length=5, db_index=True)
    department = models.CharField(_("département"), max_length=3, db_index=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["search_name", "postcode"]
        constraints = [
            models.UniqueConstraint(fields=["insee_code", "postcode"],
                                    name="unique_commune_postcode")
        ]

    def __str__(self):
        return f"{self.name} ({self.postcode})"
