"""Models of reimbursement (statements, payment batches); the rules live in
cheques.reimbursement.

A statement (relevé) is a document: its lines copy what they show (date, place, cheque,
service, mediator, amount) so that a validated statement never changes, even when a place is
renamed.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PaymentBatch(models.Model):
    """Validated statements paid by one SEPA credit-transfer file (virement groupé)."""

    class State(models.TextChoices):
        EXPORTED = "exported", _("Fichier SEPA émis")
        PAID = "paid", _("Payé")

    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.EXPORTED)
    execution_date = models.DateField(_("date d’exécution demandée"))
    total_cents = models.BigIntegerField(_("total (centimes)"))
    transfers = models.PositiveIntegerField(_("nombre de virements"))
    message_id = models.CharField(_("identifiant du message SEPA"), max_length=35)
    sepa_xml = models.TextField(_("fichier SEPA (pain.001.001.03)"))
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("créé par"),
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

    def __str__(self):
        return _("Lot de paiement n° %(id)s") % {"id": self.pk}


class Statement(models.Model):
    """What a structure is owed for its redemptions up to `until` (relevé de remboursement).

    ``draft → validated → paid``: the operator validates; a validated statement never
    changes (no code path edits its lines or totals)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Brouillon")
        VALIDATED = "validated", _("Validé")
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
    """One redemption on a statement, as printed (copied when the statement is drawn up)."""

    statement = models.ForeignKey(Statement, verbose_name=_("relevé"), on_delete=models.PROTECT,
                                  related_name="lines")
    redemption = models.OneToOneField("cheques.Redemption", verbose_name=_("encaissement"),
                                      on_delete=models.PROTECT, related_name="statement_line")
    order = models.ForeignKey("cheques.Order", verbose_name=_("commande"),
                              on_delete=models.PROTECT, related_name="+")
    redeemed_at = models.DateTimeField(_("encaissé le"))
    place = models.ForeignKey("places.Place", verbose_name=_("lieu"), on_delete=models.PROTECT,
                              related_name="+")
    place_name = models.CharField(_("lieu"), max_length=250)
    cheque_number = models.CharField(_("chèque"), max_length=14)
    service = models.ForeignKey("services.Service", verbose_name=_("service"),
                                on_delete=models.PROTECT, related_name="+")
    service_label = models.CharField(_("service"), max_length=250)
    mediator_name = models.CharField(_("médiateur"), max_length=300)
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))

    class Meta:
        verbose_name = _("ligne de relevé")
        verbose_name_plural = _("lignes de relevé")
        ordering = ["redeemed_at", "id"]

    def __str__(self):
        return f"{self.statement} — {self.cheque_number}"
