"""Mediation structures' places (points de présence), their qualification, and the
gazetteer of French communes."""

import opening_hours
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aptic.models import Organisation

from . import banking, hours
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
        """Bank details a transfer can be paid to (places.banking)."""
        return banking.are_valid(self)


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


class Request(models.TextChoices):
    """Where a request waiting for a decision stands (claims, changes under review)."""

    PENDING = "pending", _("En attente")
    APPROVED = "approved", _("Acceptée")
    REFUSED = "refused", _("Refusée")
    WITHDRAWN = "withdrawn", _("Retirée")


class AwaitingDecision(models.Model):
    """What a claim and a change under review share: where the request stands, who asked,
    and who decided, when and why (places.decisions)."""

    state = models.CharField(_("état"), max_length=20, choices=Request.choices,
                             default=Request.PENDING, db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("demandée par"),
                                     on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("décidée par"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(_("décidée le"), null=True, blank=True)
    decision_reason = models.TextField(_("motif de la décision"), blank=True)

    class Meta:
        abstract = True


class PlaceClaim(AwaitingDecision):
    """A structure asks to run a place that is listed already (imported, or another
    structure's qualified place). Nothing changes on the place until the decision: the
    operator approves, and so does the structure that holds the place, if one does
    (places.claims)."""

    place = models.ForeignKey(Place, verbose_name=_("lieu"), on_delete=models.CASCADE,
                              related_name="claims")
    structure = models.ForeignKey(
        Organisation, verbose_name=_("structure demandeuse"), on_delete=models.PROTECT,
        related_name="place_claims", limit_choices_to={"kind": Organisation.Kind.STRUCTURE})
    # The structure that held the place when the claim was made: its approval is needed.
    holder = models.ForeignKey(
        Organisation, verbose_name=_("structure actuelle"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("motif de la demande"), blank=True)
    requested_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    operator_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("acceptée pour l’opérateur par"), null=True,
        blank=True, on_delete=models.PROTECT, related_name="+")
    operator_approved_at = models.DateTimeField(_("acceptée par l’opérateur le"), null=True,
                                                blank=True)
    holder_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("acceptée pour la structure actuelle par"),
        null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    holder_approved_at = models.DateTimeField(_("acceptée par la structure actuelle le"),
                                              null=True, blank=True)

    class Meta:
        verbose_name = _("demande de rattachement")
        verbose_name_plural = _("demandes de rattachement")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["place", "structure"],
                                    condition=Q(state="pending"),
                                    name="one_pending_claim_per_place_and_structure"),
        ]

    def __str__(self):
        return f"{self.structure} → {self.place}"[:200]


class ChangeRequest(AwaitingDecision):
    """A sensitive edit of a public record, kept aside until the operator approves it: the
    name or address of a qualified place, the bank details of a structure that has one
    (places.review). The record keeps its values until then."""

    class Kind(models.TextChoices):
        PLACE = "place", _("Nom ou adresse du lieu")
        BANK = "bank", _("Coordonnées bancaires")

    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    structure = models.ForeignKey(Organisation, verbose_name=_("structure"),
                                  on_delete=models.PROTECT, related_name="change_requests")
    place = models.ForeignKey(Place, verbose_name=_("lieu"), null=True, blank=True,
                              on_delete=models.CASCADE, related_name="change_requests")
    values = models.JSONField(_("nouvelles valeurs"), default=dict)
    previous = models.JSONField(_("valeurs au moment de la demande"), default=dict)
    # A new edit of the same record replaces the request and its date.
    requested_at = models.DateTimeField(_("demandée le"), default=timezone.now)

    class Meta:
        verbose_name = _("modification à valider")
        verbose_name_plural = _("modifications à valider")
        ordering = ["requested_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="place", place__isnull=False)
                | Q(kind="bank", place__isnull=True),
                name="change_request_target_matches_kind"),
            models.UniqueConstraint(fields=["place"], condition=Q(state="pending", kind="place"),
                                    name="one_pending_change_per_place"),
            models.UniqueConstraint(fields=["structure"],
                                    condition=Q(state="pending", kind="bank"),
                                    name="one_pending_bank_change_per_structure"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.place or self.structure}"[:200]


class StructureSignup(models.Model):
    """Someone without an account registers a structure: nothing is created until they
    confirm their e-mail address (places.signup). The answer to the form is then the same
    whether the address has an account or not, and a SIRET is taken only by a confirmed
    signup."""

    email = models.EmailField(_("adresse e-mail"))
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    password = models.CharField(_("mot de passe (empreinte)"), max_length=128)
    structure = models.JSONField(_("structure"), default=dict)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("inscription à confirmer")
        verbose_name_plural = _("inscriptions à confirmer")

    def __str__(self):
        return self.email
