"""Where booklets are before they are handed out: moves between prescribers, and the weekly
digest of idle stock (rules in cheques.lifecycle and cheques.funnel)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BookletMove(models.Model):
    """An undistributed booklet moved from one holder to another (none: the funder's own
    stock). Counted by the funnel; audited as well."""

    booklet = models.ForeignKey("cheques.Booklet", verbose_name=_("carnet"),
                                on_delete=models.PROTECT, related_name="moves")
    order = models.ForeignKey("cheques.Order", verbose_name=_("commande"),
                              on_delete=models.PROTECT, related_name="+")
    from_holder = models.ForeignKey("aptic.Organisation", verbose_name=_("de"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    to_holder = models.ForeignKey("aptic.Organisation", verbose_name=_("vers"), null=True,
                                  blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("le"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("par"), null=True,
                              blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("déplacement de carnet")
        verbose_name_plural = _("déplacements de carnets")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["order", "at"], name="booklet_move_order")]

    def __str__(self):
        return f"{self.booklet_id}: {self.from_holder_id} → {self.to_holder_id}"


class IdleStockDigest(models.Model):
    """The weekly digest of idle stock sent to one organisation (funder or prescriber):
    one row per organisation and ISO week, so that the job sends it once a week."""

    organisation = models.ForeignKey("aptic.Organisation", verbose_name=_("destinataire"),
                                     on_delete=models.CASCADE, related_name="+")
    week = models.CharField(_("semaine"), max_length=8)  # ISO week, 2027-W01
    sent_at = models.DateTimeField(_("envoyé le"), default=timezone.now)
    held = models.PositiveIntegerField(_("carnets non remis"), default=0)
    unstarted = models.PositiveIntegerField(_("carnets remis non entamés"), default=0)

    class Meta:
        verbose_name = _("alerte de stock dormant")
        verbose_name_plural = _("alertes de stock dormant")
        constraints = [models.UniqueConstraint(fields=["organisation", "week"],
                                               name="one_idle_digest_per_week")]

    def __str__(self):
        return f"{self.organisation_id} {self.week}"
