"""Accounts (users, organisations, memberships and roles) and the audit trail."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siret as stdnum_siret


class EmailUserManager(UserManager):
    def _create_user(self, username, email, password, **extra_fields):
        return super()._create_user(username or email, email, password, **extra_fields)

    def create_user(self, email, password=None, **extra_fields):
        username = extra_fields.pop("username", None)
        return super().create_user(username, email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        username = extra_fields.pop("username", None)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person. Logs in with an e-mail address (or the user name, as a convenience)."""

    email = models.EmailField(_("adresse e-mail"), unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = EmailUserManager()

    class Meta:
        verbose_name = _("utilisateur")
        verbose_name_plural = _("utilisateurs")

    def __str__(self):
        return self.get_full_name() or self.username or self.email


def validate_siret(value):
    """A SIRET is 14 digits with a Luhn check (La Poste's own SIRETs excepted by stdnum)."""
    try:
        stdnum_siret.validate(value)
    except StdnumError as error:
        raise ValidationError(
            _("SIRET invalide : vérifiez les 14 chiffres (%(reason)s)."),
            code="invalid_siret",
            params={"reason": error.message},
        ) from error


def normalise_siret(value):
    return stdnum_siret.compact(value or "")


class Organisation(models.Model):
    class Kind(models.TextChoices):
        OPERATOR = "operator", _("Opérateur")
        FUNDER = "funder", _("Financeur")
        PRESCRIBER = "prescriber", _("Prescripteur")
        STRUCTURE = "structure", _("Structure de médiation")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("nom"), max_length=200)
    siret = models.CharField(
        _("SIRET"), max_length=14, blank=True, validators=[validate_siret],
        help_text=_("14 chiffres, sans espace."),
    )
    email = models.EmailField(_("e-mail de contact"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    address = models.CharField(_("adresse"), max_length=300, blank=True)
    # A prescriber organisation (a social-services team, a France Travail agency…) hands out
    # the booklets of the funder it works for.
    funder = models.ForeignKey(
        "self", verbose_name=_("financeur de rattachement"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="prescribers",
        limit_choices_to={"kind": "funder"},
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["siret"], condition=~Q(siret=""), name="unique_siret_when_present",
                violation_error_message=_("Une organisation avec ce SIRET existe déjà."),
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.siret = normalise_siret(self.siret)
        if self.funder_id and self.kind != self.Kind.PRESCRIBER:
            raise ValidationError(
                {"funder": _("Seul un prescripteur a un financeur de rattachement.")}
            )


class Role(models.TextChoices):
    FUNDER_MANAGER = "funder_manager", _("Gestionnaire financeur")
    PRESCRIBER = "prescriber", _("Prescripteur")
    PLACE_MANAGER = "place_manager", _("Gestionnaire de lieu")
    MEDIATOR = "mediator", _("Médiateur numérique")
    OPERATOR_STAFF = "operator_staff", _("Équipe opérateur")


# Which roles make sense in which kind of organisation.
ROLES_BY_KIND = {
    Organisation.Kind.OPERATOR: {Role.OPERATOR_STAFF},
    Organisation.Kind.FUNDER: {Role.FUNDER_MANAGER, Role.PRESCRIBER},
    Organisation.Kind.PRESCRIBER: {Role.PRESCRIBER},
    Organisation.Kind.STRUCTURE: {Role.PLACE_MANAGER, Role.MEDIATOR},
}


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"), on_delete=models.CASCADE,
        related_name="memberships",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("rôle"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(_("depuis le"), auto_now_add=True)

    class Meta:
        verbose_name = _("appartenance")
        verbose_name_plural = _("appartenances")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "role"], name="unique_membership_role"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.organisation}"

    def clean(self):
        if self.organisation_id and self.role not in ROLES_BY_KIND[self.organisation.kind]:
            raise ValidationError(
                {"role": _("Ce rôle n’existe pas dans ce type d’organisation.")}
            )


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit trail is append-only.")

    def delete(self):
        raise PermissionError("The audit trail is append-only.")

    def for_object(self, obj):
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )


class AuditEvent(models.Model):
    """One recorded change: who, when, which object, what action, from which state to which."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("auteur"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    at = models.DateTimeField(_("date"), auto_now_add=True, db_index=True)
    # Indexes are what each row costs to write (issuance writes one event per booklet, a
    # hundred thousand at a time): the content type is looked up through the
    # (content_type, object_id) index, the action through a plain one, without the
    # `varchar_pattern_ops` twin Django adds for db_index=True (no LIKE on actions).
    content_type = models.ForeignKey(
        ContentType, verbose_name=_("type d’objet"), on_delete=models.PROTECT, db_index=False
    )
    object_id = models.CharField(_("identifiant"), max_length=64)
    object_repr = models.CharField(_("objet"), max_length=200)
    action = models.CharField(_("action"), max_length=60)
    from_state = models.CharField(_("état avant"), max_length=30, blank=True)
    to_state = models.CharField(_("état après"), max_length=30, blank=True)
    details = models.JSONField(_("détails"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement du journal")
        verbose_name_plural = _("journal d’audit")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id"]),
                   models.Index(fields=["action"], name="audit_action")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit trail is append-only.")


class ApiTokenQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 digest is stored: the token itself is shown
    once, when it is created."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("utilisateur"),
                             on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("début du jeton"), max_length=PREFIX_LENGTH)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("révoqué par"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton d’API")
        verbose_name_plural = _("jetons d’API")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self):
        return self.revoked_at is None
