"""Models of invoicing: see cheques.invoicing.

An invoice (facture) is written once, when the operator approves an order, and never
changes: it keeps its own copy of the lines, the amounts and both parties' identities, so
that a later edit of the order, of the funder or of the settings leaves a sent invoice as it
was sent.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .orders import YearlySequence


class InvoiceSequence(YearlySequence):
    """The last invoice number used each year (French invoices are numbered without gaps)."""

    class Meta:
        verbose_name = _("numérotation des factures")
        verbose_name_plural = _("numérotation des factures")


class Invoice(models.Model):
    order = models.OneToOneField("cheques.Order", verbose_name=_("commande"),
                                 on_delete=models.PROTECT, related_name="invoice")
    number = models.CharField(_("numéro"), max_length=20)
    issued_at = models.DateTimeField(_("émise le"))
    # [{"kind": "cheques" | "fees", "quantity", "unit_cents", "amount_cents", …}]: the
    # labels are written when the document is rendered (cheques.invoicing.line_label).
    lines = models.JSONField(_("lignes"))
    total_cents = models.BigIntegerField(_("montant total (centimes)"))
    funder_name = models.CharField(_("financeur"), max_length=200)
    funder_siret = models.CharField(_("SIRET du financeur"), max_length=14, blank=True)
    funder_address = models.CharField(_("adresse du financeur"), max_length=300, blank=True)
    operator_name = models.CharField(_("opérateur"), max_length=200)
    operator_siret = models.CharField(_("SIRET de l’opérateur"), max_length=14, blank=True)
    operator_address = models.CharField(_("adresse de l’opérateur"), max_length=300,
                                        blank=True)
    operator_iban = models.CharField(_("IBAN de l’opérateur"), max_length=34)
    operator_bic = models.CharField(_("BIC de l’opérateur"), max_length=11, blank=True)
    operator_account_name = models.CharField(_("titulaire du compte de l’opérateur"),
                                             max_length=70, blank=True)
    legal_mention = models.TextField(_("mention légale"), blank=True)

    class Meta:
        verbose_name = _("facture")
        verbose_name_plural = _("factures")
        ordering = ["-issued_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["number"],
                                               name="unique_invoice_number")]

    def __str__(self):
        return _("Facture %(number)s") % {"number": self.number}
