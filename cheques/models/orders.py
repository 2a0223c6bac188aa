"""Orders, booklets and cheques: the start of the money path.

An order (commande) is placed by a funder, approved by the operator, then issued: booklets
(carnets) numbered ``YYYY-NNNNNN`` and cheques numbered ``<booklet>-NN``, each with a unique
code (cheques.codes). The rules that change states live in cheques.ordering (orders),
cheques.issuance (issuance) and cheques.lifecycle (hand-over, cancellation, end of validity).
"""


from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection, models
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from places import departments, search

from .. import codes, pricing, validity

MAX_BOOKLETS_PER_ORDER = 100_000
MAX_CHEQUES_PER_BOOKLET = 20
# 1 000 € a cheque: far above any real voucher, and it keeps totals within their columns.
MAX_FACE_VALUE_CENTS = 100_000
# The funder's wording on the cover of every booklet (the cover's layout holds this much).
MAX_WORDING_LENGTH = 500


class PricingSettings(models.Model):
    """The operator's settings for orders (one row, edited in the admin)."""

    per_booklet_fee_cents = models.PositiveIntegerField(
        _("frais par carnet (centimes)"), default=0,
        help_text=_("Ajoutés au prix de chaque carnet commandé (impression, envoi)."),
    )

    class Meta:
        verbose_name = _("tarif des commandes")
        verbose_name_plural = _("tarif des commandes")

    def __str__(self):
        return str(self._meta.verbose_name)

    @classmethod
    def current(cls):
        return cls.objects.get_or_create(pk=1)[0]


class Order(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("En attente de validation")
        APPROVED = "approved", _("Validée, émission en cours")
        ISSUED = "issued", _("Émise")
        REJECTED = "rejected", _("Refusée")
        CANCELLED = "cancelled", _("Annulée")

    funder = models.ForeignKey(
        "aptic.Organisation", verbose_name=_("financeur"), on_delete=models.PROTECT,
        related_name="cheque_orders", limit_choices_to={"kind": "funder"},
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("commandée par"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    status = models.CharField(_("statut"), max_length=20, choices=Status.choices,
                              default=Status.SUBMITTED, db_index=True)
    booklets = models.PositiveIntegerField(
        _("nombre de carnets"),
        validators=[MinValueValidator(1), MaxValueValidator(MAX_BOOKLETS_PER_ORDER)],
    )
    cheques_per_booklet = models.PositiveSmallIntegerField(
        _("chèques par carnet"), default=10,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CHEQUES_PER_BOOKLET)],
    )
    face_value_cents = models.PositiveIntegerField(
        _("valeur faciale (centimes)"), default=1000, validators=[MinValueValidator(1)]
    )
    valid_until = models.DateField(_("valable jusqu’au"), default=validity.default_valid_until)
    allowed_services = models.ManyToManyField(
        "services.Service", verbose_name=_("services autorisés"), blank=True,
        related_name="+", help_text=_("Aucun : tous les services de la nomenclature."),
    )
    territory = models.JSONField(
        _("territoire (départements)"), default=list, blank=True,
        help_text=_("Codes des départements ; vide : tout le territoire."),
    )
    target_public = models.CharField(_("public visé"), max_length=300, blank=True)
    requires_activation = models.BooleanField(
        _("activation à la remise"), default=False,
        help_text=_("Les chèques ne peuvent être encaissés qu’après leur remise enregistrée."),
    )
    logo = models.FileField(_("logo"), upload_to="cheques/logos/%Y/", blank=True)
    custom_wording = models.CharField(_("mention personnalisée"), max_length=MAX_WORDING_LENGTH,
                                      blank=True)
    contact_name = models.CharField(_("nom du contact"), max_length=200)
    contact_email = models.EmailField(_("e-mail du contact"))
    contact_phone = models.CharField(_("téléphone du contact"), max_length=30, blank=True)
    per_booklet_fee_cents = models.PositiveIntegerField(_("frais par carnet (centimes)"),
                                                        default=0)
    total_cents = models.BigIntegerField(_("montant total (centimes)"), default=0)
    rejection_reason = models.TextField(_("motif du refus"), blank=True)
    issued_cheques = models.PositiveIntegerField(_("chèques émis"), default=0)
    credit_note_cents = models.BigIntegerField(_("avoir (centimes)"), null=True, blank=True)
    expiry_alert_sent_at = models.DateTimeField(_("alerte de fin de validité envoyée le"),
                                                null=True, blank=True)
    expired_at = models.DateTimeField(_("chèques expirés le"), null=True, blank=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    decided_at = models.DateTimeField(_("décision le"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("décision par"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    issued_at = models.DateTimeField(_("émise le"), null=True, blank=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    class Meta:
        verbose_name = _("commande")
        verbose_name_plural = _("commandes")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The domain allows 3 years (cheques.validity); whatever writes a row, a date
            # this far from the end of the date type keeps "validity + grace" computable.
            models.CheckConstraint(condition=models.Q(valid_until__lte=validity.LAST_POSSIBLE),
                                   name="order_valid_until_computable"),
        ]

    def __str__(self):
        return _("Commande n° %(id)s") % {"id": self.pk}

    @property
    def cheque_count(self):
        return self.booklets * self.cheques_per_booklet

    @property
    def price(self):
        return pricing.price(booklets=self.booklets, cheques_per_booklet=self.cheques_per_booklet,
                             face_value_cents=self.face_value_cents,
                             per_booklet_fee_cents=self.per_booklet_fee_cents)

    @property
    def expiry_date(self):
        """The last day cheques are accepted: validity plus the grace period."""
        return validity.last_day_of_acceptance(self.valid_until)

    @property
    def handover_deadline(self):
        return validity.handover_deadline(self.valid_until)

    @property
    def territory_names(self):
        """The départements where the cheques are accepted, « Gironde (33) »; empty: all."""
        return [departments.named(code) for code in self.territory]

    @property
    def map_path(self):
        """The public map showing only the places where these cheques are accepted (the
        order's services, its départements): what the booklet's cover QR code and the
        cheque's public page open."""
        query = search.map_query(
            services=sorted(self.allowed_services.values_list("slug", flat=True)),
            departments=self.territory)
        return reverse("public-map") + (f"?{query}" if query else "")

    def counts_by_state(self):
        counts = dict.fromkeys(Cheque.State.values, 0)
        for row in self.cheques.values("state").annotate(n=Count("id")).order_by():
            counts[row["state"]] = row["n"]
        return counts


class YearlySequence(models.Model):
    """The last number used each year, for numbers that are never reused (booklets,
    invoices)."""

    year = models.PositiveSmallIntegerField(_("année"), primary_key=True)
    last = models.PositiveIntegerField(_("dernier numéro"), default=0)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.year}: {self.last}"

    @classmethod
    def reserve(cls, year, count=1):
        """Reserve `count` consecutive numbers of `year`; returns the last one. The counter
        row stays locked until the calling transaction ends, so concurrent callers get
        disjoint ranges, and a rolled-back transaction gives its numbers back: committed
        numbers have no gaps and are never given twice."""
        table = cls._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (year, last) VALUES (%s, %s) "  # noqa: S608
                f"ON CONFLICT (year) DO UPDATE SET last = {table}.last + excluded.last "
                "RETURNING last",
                [year, count],
            )
            return cursor.fetchone()[0]


class BookletSequence(YearlySequence):
    """The last booklet number used each year."""

    class Meta:
        verbose_name = _("numérotation des carnets")
        verbose_name_plural = _("numérotation des carnets")


class Booklet(models.Model):
    class State(models.TextChoices):
        ISSUED = "issued", _("Émis")
        DISTRIBUTED = "distributed", _("Remis")
        STARTED = "started", _("Entamé")
        CANCELLED = "cancelled", _("Annulé")
        EXPIRED = "expired", _("Expiré")
        # Damaged or lost: its unused cheques moved to a replacement booklet
        # (cheques.replacement).
        REPLACED = "replaced", _("Remplacé")

    class AgeBracket(models.TextChoices):
        UNDER_25 = "under_25", _("Moins de 25 ans")
        FROM_25_TO_44 = "25_44", _("25 à 44 ans")
        FROM_45_TO_64 = "45_64", _("45 à 64 ans")
        FROM_65_TO_79 = "65_79", _("65 à 79 ans")
        OVER_80 = "over_80", _("80 ans et plus")

    class Situation(models.TextChoices):
        EMPLOYED = "employed", _("En emploi")
        JOB_SEEKER = "job_seeker", _("En recherche d’emploi")
        RETIRED = "retired", _("Retraité·e")
        STUDENT = "student", _("En formation")
        OTHER = "other", _("Autre situation")

    order = models.ForeignKey(Order, verbose_name=_("commande"), on_delete=models.PROTECT,
                              related_name="booklet_set")
    number = models.CharField(_("numéro"), max_length=11)
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.ISSUED)
    state_changed_at = models.DateTimeField(_("changement d’état le"), default=timezone.now)
    distributed_at = models.DateTimeField(_("remis le"), null=True, blank=True)
    # Indexed only where set (see Meta): booklets are written a hundred thousand at a time,
    # all of them not yet handed over.
    distributed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("remis par"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+", db_index=False,
    )
    age_bracket = models.CharField(_("tranche d’âge"), max_length=20, blank=True,
                                   choices=AgeBracket.choices)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    situation = models.CharField(_("situation"), max_length=20, blank=True,
                                 choices=Situation.choices)
    cancellation_reason = models.CharField(_("motif d’annulation"), max_length=300,
                                           blank=True)
    # The damaged or lost booklet this one replaces (cheques.replacement). Indexed only where
    # set (see Meta), and without a database constraint, whose trigger would run for each of
    # the hundred thousand booklets of an issuance (booklets are never deleted: PROTECT).
    replaces = models.ForeignKey(
        "self", verbose_name=_("remplace le carnet"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="replacements", db_index=False,
        db_constraint=False,
    )
    # The prescriber organisation that holds the booklet until it is handed out (none: the
    # funder's own stock). Moved by cheques.lifecycle.move_booklets; indexed only where set.
    holder = models.ForeignKey(
        "aptic.Organisation", verbose_name=_("prescripteur détenteur"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="held_booklets", db_index=False,
    )
    held_since = models.DateTimeField(_("détenu depuis le"), null=True, blank=True)
    # The territory recorded at hand-over (the beneficiary's postcode, through the
    # gazetteer). Database defaults: issuance inserts booklets with raw SQL.
    department = models.CharField(_("département de remise"), max_length=3, blank=True,
                                  db_default="")
    commune = models.CharField(_("commune de remise"), max_length=150, blank=True,
                               db_default="")

    class Meta:
        verbose_name = _("carnet")
        verbose_name_plural = _("carnets")
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="unique_booklet_number"),
            # A booklet is replaced once (a replacement may be replaced in turn).
            models.UniqueConstraint(fields=["replaces"], name="booklet_replaced_once",
                                    condition=models.Q(replaces__isnull=False)),
        ]
        indexes = [models.Index(fields=["distributed_by"], name="booklet_distributed_by",
                                condition=models.Q(distributed_by__isnull=False)),
                   models.Index(fields=["holder"], name="booklet_holder",
                                condition=models.Q(holder__isnull=False))]

    def __str__(self):
        return _("Carnet %(number)s") % {"number": self.number}


class Cheque(models.Model):
    class State(models.TextChoices):
        ISSUED = "issued", _("Émis")
        DISTRIBUTED = "distributed", _("Remis")
        REDEEMED = "redeemed", _("Encaissé")
        REIMBURSED = "reimbursed", _("Remboursé")
        CANCELLED = "cancelled", _("Annulé")
        EXPIRED = "expired", _("Expiré")
        # Unused when its booklet was replaced: its value lives on in a cheque of the
        # replacement booklet (cheques.replacement), so it counts nowhere in the ledger.
        REPLACED = "replaced", _("Remplacé")

    # States in which a cheque still has value (may still be redeemed, cancelled, expired).
    OPEN_STATES = (State.ISSUED, State.DISTRIBUTED)

    # No database constraint on either foreign key: issuance writes the booklets and their
    # cheques in one transaction (cheques.issuance), from ids it reserved itself, and
    # booklets are never deleted (on_delete=PROTECT in Django). A deferred foreign-key
    # trigger would check each of the million rows again at commit (about a third of the
    # issuance time).
    # Indexed by the unique (booklet, number) constraint below, which serves both the
    # booklet's cheques and the uniqueness of numbers.
    booklet = models.ForeignKey(Booklet, verbose_name=_("carnet"), on_delete=models.PROTECT,
                                related_name="cheques", db_constraint=False, db_index=False)
    # Denormalised from the booklet for fast counts per order (index with the state below);
    # it always equals booklet.order.
    order = models.ForeignKey(Order, verbose_name=_("commande"), on_delete=models.PROTECT,
                              related_name="cheques", db_index=False, db_constraint=False)
    # Codes and numbers are ASCII: on Postgres, migration 0002 gives them the "C" collation,
    # which makes their unique indexes several times cheaper to maintain.
    # (Unique through Meta constraints, which spare the useless `varchar_pattern_ops` twin
    # index Django adds for `unique=True` on Postgres.)
    number = models.CharField(_("numéro"), max_length=14)
    code = models.CharField(_("code"), max_length=13)
    face_value_cents = models.PositiveIntegerField(_("valeur faciale (centimes)"))
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.ISSUED)
    state_changed_at = models.DateTimeField(_("changement d’état le"), default=timezone.now)
    activated_at = models.DateTimeField(_("activé le"), null=True, blank=True)
    cancellation_reason = models.CharField(_("motif d’annulation"), max_length=300,
                                           blank=True)

    class Meta:
        verbose_name = _("chèque")
        verbose_name_plural = _("chèques")
        ordering = ["number"]
        indexes = [
            models.Index(fields=["order", "state"], name="cheque_order_state"),
            # The funder dashboard counts used, cancelled and expired cheques on this small
            # index; open ones are the rest (cheques.reporting.cheque_counts).
            models.Index(fields=["order", "state"], name="cheque_order_closed_state",
                         condition=~models.Q(state__in=["issued", "distributed"])),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="unique_cheque_code"),
            # A cheque number is its booklet's number (unique) plus its position, so it is
            # unique within its booklet and therefore everywhere. One index for both the
            # booklet's cheques and that uniqueness: issuance maintains one index fewer, a
            # million entries fewer for a million cheques (about a tenth of its time).
            models.UniqueConstraint(fields=["booklet", "number"],
                                    name="unique_cheque_number_in_booklet"),
        ]

    def __str__(self):
        return _("Chèque %(number)s") % {"number": self.number}

    @property
    def display_code(self):
        return codes.format_code(self.code)

    @property
    def qr_url(self):
        return codes.qr_url(self.code)
