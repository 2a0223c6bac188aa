"""The funds ledger (rules in cheques.ledger): every movement of an order's money. Entries are
append-only (a Postgres trigger refuses UPDATE and DELETE) and each one balances by itself (a
CHECK constraint), so every order's balances always satisfy
prepaid = outstanding + redeemed-unpaid + paid + credited + recoverable."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LedgerEntry(models.Model):
    """One movement of an order's funds, in cents, by bucket. Append-only; each entry
    balances: Δprepaid = Δoutstanding + Δredeemed_unpaid + Δpaid + Δcredited + Δrecoverable.
    An entry without an order moves the operator's own money (a goodwill payment)."""

    class Kind(models.TextChoices):
        OPENING = "opening", _("Solde d’ouverture")
        ISSUE = "issue", _("Émission")
        REDEEM = "redeem", _("Encaissement")
        UNDO = "undo", _("Annulation d’encaissement")
        CANCEL = "cancel", _("Annulation de chèques")
        EXPIRE = "expire", _("Expiration (avoir)")
        REIMBURSE = "reimburse", _("Remboursement des lieux")
        CORRECTION = "correction", _("Correction après relevé")
        RECOVER = "recover", _("Retenue sur relevé")
        GOODWILL = "goodwill", _("Geste commercial")
        RETURN = "return", _("Virement rendu par la banque")

    order = models.ForeignKey("cheques.Order", verbose_name=_("commande"), null=True,
                              blank=True, on_delete=models.PROTECT,
                              related_name="ledger_entries")
    kind = models.CharField(_("nature"), max_length=20, choices=Kind.choices)
    at = models.DateTimeField(_("le"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("par"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")
    cheques = models.IntegerField(_("nombre de chèques"), default=0)
    reference = models.CharField(_("référence"), max_length=100, blank=True)
    prepaid_cents = models.BigIntegerField(_("prépayé (centimes)"), default=0)
    outstanding_cents = models.BigIntegerField(_("en circulation (centimes)"), default=0)
    redeemed_unpaid_cents = models.BigIntegerField(_("encaissé non payé (centimes)"), default=0)
    paid_cents = models.BigIntegerField(_("payé aux lieux (centimes)"), default=0)
    credited_cents = models.BigIntegerField(_("crédité au financeur (centimes)"), default=0)
    # Paid (or owed) to places for redemptions corrected after their statement, not yet
    # deducted from a paid statement: zero or negative (the places owe it back).
    recoverable_cents = models.BigIntegerField(_("à récupérer auprès des lieux (centimes)"),
                                               default=0)

    class Meta:
        verbose_name = _("écriture du grand livre")
        verbose_name_plural = _("écritures du grand livre")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="ledger_order_at")]
        constraints = [
            models.CheckConstraint(
                condition=Q(prepaid_cents=F("outstanding_cents") + F("redeemed_unpaid_cents")
                            + F("paid_cents") + F("credited_cents")
                            + F("recoverable_cents")),
                name="ledger_entry_balances_with_recoverable",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.order_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Ledger entries are append-only.")
