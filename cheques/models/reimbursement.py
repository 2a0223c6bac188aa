"""Models of reimbursement (statements, payment batches, transfers, the bank's files and
the corrections after a statement); the rules live in cheques.reimbursement,
cheques.corrections and cheques.bank_reports.

A statement (relevé) is a document: its lines copy what they show (date, place, cheque,
service, mediator, amount) so that a validated statement never changes, even when a place is
renamed. A correction found later is a signed line of a later statement.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentBatch(models.Model):
    """Validated statements paid by one SEPA credit-transfer file (virement groupé).

    ``draft → sent`` (the operator downloaded the file for the bank) ``→ accepted,
    partly_rejected or rejected`` (the bank's status report) ``→ paid`` (the bank booked
    every transfer it accepted). The state follows the batch's transfers
    (cheques.reimbursement.batch_state_of)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon : fichier non téléchargé")
        SENT = "sent", _("Envoyé à la banque")
        ACCEPTED = "accepted", _("Accepté par la banque")
        PARTLY_REJECTED = "partly_rejected", _("Partiellement rejeté")
        REJECTED = "rejected", _("Rejeté")
        PAID = "paid", _("Payé")

    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.DRAFT)
    execution_date = models.DateField(_("date d’exécution demandée"))
    total_cents = models.BigIntegerField(_("total (centimes)"))
    transfers = models.PositiveIntegerField(_("nombre de virements"))
    message_id = models.CharField(_("identifiant du message SEPA"), max_length=35)
    sepa_xml = models.TextField(_("fichier SEPA (pain.001.001.03)"))
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("créé par"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("envoyé par"),
                                null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")
    paid_at = models.DateTimeField(_("payé le"), null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("payé par"),
                                null=True, blank=True, on_delete=models.PROTECT,
                                related_name="+")

    class Meta:
        verbose_name = _("lot de paiement")
        verbose_name_plural = _("lots de paiement")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["message_id"],
                                               name="unique_batch_message_id")]

    def __str__(self):
        return _("Lot de paiement n° %(id)s") % {"id": self.pk}


class Statement(models.Model):
    """What a structure is owed for its redemptions up to `until` (relevé de remboursement).

    ``draft → validated → paid``: the operator validates; a validated statement never
    changes (no code path edits its lines or totals). A transfer the bank rejects puts it
    ``to_repay`` (à repayer) until a later batch pays it. Its total is the sum of its lines,
    corrections included, and never below zero (the rest is carried over)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        VALIDATED = "validated", _("Validé")
        TO_REPAY = "to_repay", _("À repayer")
        PAID = "paid", _("Payé")

    structure = models.ForeignKey("aptic.Organisation", verbose_name=_("structure"),
                                  on_delete=models.PROTECT, related_name="statements")
    until = models.DateField(_("encaissements jusqu’au"))
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.DRAFT, db_index=True)
    line_count = models.PositiveIntegerField(_("nombre de lignes"), default=0)
    total_cents = models.BigIntegerField(_("total (centimes)"), default=0)
    first_redemption_on = models.DateField(_("premier encaissement le"), null=True, blank=True)
    last_redemption_on = models.DateField(_("dernier encaissement le"), null=True, blank=True)
    batch = models.ForeignKey(PaymentBatch, verbose_name=_("lot de paiement"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="statements")
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("créé par"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    validated_at = models.DateTimeField(_("validé le"), null=True, blank=True)
    validated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("validé par"),
                                     null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    paid_at = models.DateTimeField(_("payé le"), null=True, blank=True)
    # The day the bank paid the structure (its booking date), or the day the operator
    # recorded the payment without a bank file.
    paid_on = models.DateField(_("date de paiement"), null=True, blank=True)

    class Meta:
        verbose_name = _("relevé de remboursement")
        verbose_name_plural = _("relevés de remboursement")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["structure", "state"], name="statement_structure_state")]

    def __str__(self):
        return _("Relevé n° %(id)s") % {"id": self.pk}

    @property
    def reference(self):
        return f"R{self.pk:06d}"


class StatementLine(models.Model):
    """One line of a statement, as printed (copied when the statement is drawn up): a
    redemption, or a signed adjustment (a correction's debit, a carry-over, a goodwill
    payment) with its reason and a link to the original."""

    class Kind(models.TextChoices):
        REDEMPTION = "redemption", _("Encaissement")
        CORRECTION = "correction", _("Correction")
        CARRY_OVER = "carry_over", _("Report au relevé suivant")
        GOODWILL = "goodwill", _("Geste commercial")

    statement = models.ForeignKey(Statement, verbose_name=_("relevé"), on_delete=models.PROTECT,
                                  related_name="lines")
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices,
                            default=Kind.REDEMPTION)
    redemption = models.OneToOneField("cheques.Redemption", verbose_name=_("encaissement"),
                                      null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="statement_line")
    adjustment = models.ForeignKey("cheques.Adjustment", verbose_name=_("régularisation"),
                                   null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="lines")
    # The order whose funds the line moves (none for a goodwill payment: the operator's).
    order = models.ForeignKey("cheques.Order", verbose_name=_("commande"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    redeemed_at = models.DateTimeField(_("encaissé le"), null=True, blank=True)
    place = models.ForeignKey("places.Place", verbose_name=_("lieu"), null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    place_name = models.CharField(_("lieu"), max_length=250, blank=True)
    cheque_number = models.CharField(_("chèque"), max_length=14, blank=True)
    service = models.ForeignKey("services.Service", verbose_name=_("service"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="+")
    service_label = models.CharField(_("service"), max_length=250, blank=True)
    mediator_name = models.CharField(_("médiateur"), max_length=300, blank=True)
    label = models.CharField(_("libellé"), max_length=400, blank=True)
    # Signed: a correction is a debit (negative).
    amount_cents = models.BigIntegerField(_("montant (centimes)"))

    class Meta:
        verbose_name = _("ligne de relevé")
        verbose_name_plural = _("lignes de relevé")
        ordering = ["redeemed_at", "id"]

    def __str__(self):
        return f"{self.statement} — {self.cheque_number or self.get_kind_display()}"

    @property
    def is_redemption(self):
        return self.kind == self.Kind.REDEMPTION


class Adjustment(models.Model):
    """A correction after a statement (the structure owes back a redemption's amount: a
    debit on its next statements) or a goodwill payment by the operator (a credit on its
    next statement). Created once, never changed; the lines it gives say where it went."""

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction d’encaissement")
        GOODWILL = "goodwill", _("Geste commercial")

    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    structure = models.ForeignKey("aptic.Organisation", verbose_name=_("structure"),
                                  on_delete=models.PROTECT, related_name="adjustments")
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    reason = models.CharField(_("motif"), max_length=300)
    redemption = models.OneToOneField("cheques.Redemption", verbose_name=_("encaissement corrigé"),
                                      null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="correction")
    order = models.ForeignKey("cheques.Order", verbose_name=_("commande"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    # The statement that carried the redemption corrected (the original).
    original_statement = models.ForeignKey(Statement, verbose_name=_("relevé d’origine"),
                                           null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="+")
    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("par"), null=True,
                                   blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("régularisation")
        verbose_name_plural = _("régularisations")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0),
                                   name="adjustment_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="goodwill", redemption__isnull=True)
                | models.Q(kind="correction", redemption__isnull=False),
                name="adjustment_correction_has_redemption"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.structure}"


class Transfer(models.Model):
    """One credit transfer of a batch: a statement paid to its structure, found again in
    the bank's files by its EndToEndId. The bank details are those the file carried."""

    class State(models.TextChoices):
        PENDING = "pending", _("En attente de la banque")
        ACCEPTED = "accepted", _("Accepté")
        REJECTED = "rejected", _("Rejeté")
        PAID = "paid", _("Payé")

    batch = models.ForeignKey(PaymentBatch, verbose_name=_("lot"), on_delete=models.PROTECT,
                              related_name="credit_transfers")
    statement = models.ForeignKey(Statement, verbose_name=_("relevé"), on_delete=models.PROTECT,
                                  related_name="transfers")
    structure = models.ForeignKey("aptic.Organisation", verbose_name=_("structure"),
                                  on_delete=models.PROTECT, related_name="+")
    end_to_end_id = models.CharField(_("référence de bout en bout (EndToEndId)"), max_length=35)
    amount_cents = models.BigIntegerField(_("montant (centimes)"))
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11)
    holder = models.CharField(_("titulaire du compte"), max_length=140)
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.PENDING)
    reason_code = models.CharField(_("motif de la banque (code)"), max_length=35, blank=True)
    reason_detail = models.CharField(_("précision de la banque"), max_length=300, blank=True)
    # A rejection whose reason says the account is wrong: the structure must change it.
    bank_details_to_fix = models.BooleanField(_("coordonnées bancaires à corriger"),
                                              default=False)
    paid_on = models.DateField(_("date de paiement"), null=True, blank=True)
    changed_at = models.DateTimeField(_("dernier changement le"), default=timezone.now)

    class Meta:
        verbose_name = _("virement")
        verbose_name_plural = _("virements")
        ordering = ["batch", "id"]
        constraints = [models.UniqueConstraint(fields=["end_to_end_id"],
                                               name="unique_transfer_end_to_end_id")]

    def __str__(self):
        return self.end_to_end_id


class BankFile(models.Model):
    """A file the bank sent back, read once: a status report (pain.002.001.03), an account
    notification (camt.054.001.02) or an account statement (camt.053.001.02)."""

    class Kind(models.TextChoices):
        STATUS_REPORT = "pain.002.001.03", _("Rapport d’état (pain.002)")
        NOTIFICATION = "camt.054.001.02", _("Avis d’opération (camt.054)")
        ACCOUNT_STATEMENT = "camt.053.001.02", _("Relevé de compte (camt.053)")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    message_id = models.CharField(_("identifiant du message"), max_length=35)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    name = models.CharField(_("nom du fichier"), max_length=200, blank=True)
    content = models.TextField(_("contenu"))
    batches = models.ManyToManyField(PaymentBatch, verbose_name=_("lots concernés"),
                                     related_name="bank_files", blank=True)
    summary = models.JSONField(_("résumé"), default=dict, blank=True)
    uploaded_at = models.DateTimeField(_("lu le"), default=timezone.now)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("déposé par"),
                                    null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        verbose_name = _("fichier de la banque")
        verbose_name_plural = _("fichiers de la banque")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["sha256"], name="unique_bank_file_content"),
            models.UniqueConstraint(fields=["kind", "message_id"],
                                    name="unique_bank_file_message"),
        ]

    def __str__(self):
        return f"{self.kind} {self.message_id}"
