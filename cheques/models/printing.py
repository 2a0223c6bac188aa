"""Models of printing (PDF cheque books): the engine is cheques.pdf.booklets, the jobs
cheques.printing.

A print job renders an order (or, for a reprint, one booklet) in chunks of whole booklets.
Each chunk writes its own file and is counted once (conditional update), the last chunk to
finish hands over to the merge, which writes the job's PDF. Files live under
``MEDIA_ROOT/private/print/``, which no URL serves: downloads go through a view that checks
permission.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PrintJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("En attente")
        RENDERING = "rendering", _("Impression en cours")
        MERGING = "merging", _("Assemblage du PDF")
        PRINTED = "printed", _("Imprimé")
        FAILED = "failed", _("Échec de l’impression")

    ACTIVE_STATES = (State.QUEUED, State.RENDERING, State.MERGING)

    order = models.ForeignKey("cheques.Order", verbose_name=_("commande"),
                              on_delete=models.PROTECT, related_name="print_jobs")
    # Empty for the whole order; a booklet for a single-booklet reprint.
    booklet = models.ForeignKey("cheques.Booklet", verbose_name=_("carnet réimprimé"),
                                null=True, blank=True, on_delete=models.PROTECT,
                                related_name="print_jobs")
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.QUEUED, db_index=True)
    # The folder of the job's files: random, so two jobs never share a file.
    token = models.UUIDField(_("dossier"), default=uuid.uuid4, editable=False, unique=True)
    total = models.PositiveIntegerField(_("chèques à imprimer"), default=0)
    done = models.PositiveIntegerField(_("chèques imprimés"), default=0)
    chunk_count = models.PositiveIntegerField(_("morceaux"), default=0)
    chunks_done = models.PositiveIntegerField(_("morceaux terminés"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    file = models.CharField(_("fichier"), max_length=300, blank=True)
    warnings = models.JSONField(_("avertissements"), default=list, blank=True)
    error = models.TextField(_("erreur"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("demandée par"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("demandée le"), auto_now_add=True)
    started_at = models.DateTimeField(_("commencée le"), null=True, blank=True)
    # Moved on by every step (planned, a chunk started or counted, merge): a running job
    # whose progress is older than PRINT_STALL_MINUTES is stalled (cheques.printing).
    progress_at = models.DateTimeField(_("dernier progrès le"), default=timezone.now)
    # The last restart of a stalled job (by the operator or the beat job): a restart is not
    # progress, but the beat job waits as long again before the next one.
    restarted_at = models.DateTimeField(_("relancée le"), null=True, blank=True)
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("impression")
        verbose_name_plural = _("impressions")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One whole-order printing at a time per order.
            models.UniqueConstraint(
                fields=["order"], name="one_active_order_print_job",
                condition=models.Q(booklet=None, state__in=["queued", "rendering",
                                                            "merging"]),
            ),
        ]

    def __str__(self):
        if self.booklet_id and self.booklet.replaces_id:
            return _("Carnet de remplacement %(number)s") % {"number": self.booklet.number}
        if self.booklet_id:
            return _("Réimpression du carnet %(number)s") % {"number": self.booklet.number}
        return _("Impression de la commande n° %(id)s") % {"id": self.order_id}

    @property
    def is_active(self):
        return self.state in self.ACTIVE_STATES

    @property
    def percent(self):
        if self.state == self.State.PRINTED:
            return 100
        if not self.total:
            return 0
        # A full count waits for the merge: 99 % until the PDF exists.
        return min(99, self.done * 100 // self.total)


class PrintChunk(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("À imprimer")
        DONE = "done", _("Imprimé")

    job = models.ForeignKey(PrintJob, verbose_name=_("impression"), on_delete=models.CASCADE,
                            related_name="chunks")
    index = models.PositiveIntegerField(_("rang"))
    booklet_ids = models.JSONField(_("carnets"), default=list)
    first_booklet = models.CharField(_("premier carnet"), max_length=11)
    last_booklet = models.CharField(_("dernier carnet"), max_length=11)
    cheques = models.PositiveIntegerField(_("chèques"))
    state = models.CharField(_("état"), max_length=20, choices=State.choices,
                             default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    file = models.CharField(_("fichier"), max_length=300, blank=True)
    done_at = models.DateTimeField(_("imprimé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("morceau d’impression")
        verbose_name_plural = _("morceaux d’impression")
        ordering = ["job", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "index"],
                                               name="unique_print_chunk_index")]

    def __str__(self):
        return f"{self.job_id}/{self.index}"
