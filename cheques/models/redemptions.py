"""Redemptions (encaissements) and the answers replayed to retries of an idempotent
request."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .orders import Cheque, Order


class Redemption(models.Model):
    """A cheque paid at a place for a service (encaissement). Undone redemptions stay, with
    their undo date, for the record; at most one live redemption per cheque."""

    cheque = models.ForeignKey(Cheque, verbose_name=_("chèque"), on_delete=models.PROTECT,
                               related_name="redemptions")
    order = models.ForeignKey(Order, verbose_name=_("commande"), on_delete=models.PROTECT,
                              related_name="redemptions")
    place = models.ForeignKey("places.Place", verbose_name=_("lieu"),
                              on_delete=models.PROTECT, related_name="redemptions")
    structure = models.ForeignKey("aptic.Organisation", verbose_name=_("structure"),
                                  on_delete=models.PROTECT, related_name="redemptions")
    service = models.ForeignKey("services.Service", verbose_name=_("service"),
                                on_delete=models.PROTECT, related_name="redemptions")
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("médiateur"),
                                 on_delete=models.PROTECT, related_name="redemptions")
    amount_cents = models.PositiveIntegerField(_("montant (centimes)"))
    # When the server received the basket: undo windows and statements follow it.
    redeemed_at = models.DateTimeField(_("encaissé le"), default=timezone.now, db_index=True)
    # When the device scanned it, for a basket kept offline (cheques.offline); else empty.
    scanned_at = models.DateTimeField(_("scanné le"), null=True, blank=True)
    device = models.CharField(_("appareil"), max_length=60, blank=True)
    # The cheque's state before it was redeemed, restored by an undo.
    previous_state = models.CharField(_("état précédent"), max_length=20)
    # All cheques of one basket share it (one confirmation, one idempotency key).
    basket = models.UUIDField(_("panier"), db_index=True)
    undone_at = models.DateTimeField(_("annulé le"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("annulé par"),
                                  null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    statement = models.ForeignKey("cheques.Statement", verbose_name=_("relevé"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="redemptions")

    class Meta:
        verbose_name = _("encaissement")
        verbose_name_plural = _("encaissements")
        ordering = ["-redeemed_at", "-id"]
        constraints = [
            # The last line of defence: a cheque is paid once, whatever the code above does.
            models.UniqueConstraint(fields=["cheque"], condition=models.Q(undone_at=None),
                                    name="one_live_redemption_per_cheque"),
        ]
        indexes = [
            models.Index(fields=["place", "redeemed_at"], name="redemption_place_date"),
            # The funder dashboard (cheques.reporting): index-only scans of live redemptions.
            models.Index(fields=["order", "redeemed_at", "service", "place", "amount_cents"],
                         condition=models.Q(undone_at=None), name="redemption_live_report"),
        ]

    def __str__(self):
        return _("Encaissement du chèque %(number)s") % {"number": self.cheque.number}

    @property
    def is_live(self):
        return self.undone_at is None

    @property
    def scanned_apart(self):
        """Whether it was scanned at another minute than it was received (offline)."""
        from ..offline import scan_differs

        return scan_differs(self.scanned_at, self.redeemed_at)


class IdempotentResponse(models.Model):
    """The first answer given to a request with an `Idempotency-Key`, replayed to retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    key = models.CharField(max_length=100)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("réponse idempotente")
        verbose_name_plural = _("réponses idempotentes")
        constraints = [models.UniqueConstraint(fields=["user", "key"],
                                               name="unique_idempotency_key_per_user")]

    def __str__(self):
        return f"{self.key} → {self.status_code}"
