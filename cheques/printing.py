"""Printing an issued order (or reprinting one booklet): the database side of the engine.

`start_printing` creates a print job; the Celery tasks of cheques.tasks then call,
in order, `plan_job` (the job's chunks of whole booklets), `render_chunk` for every chunk
(in parallel when several workers run) and `merge_job`. Each step is safe to run twice:

- a chunk writes its own file, whose name depends only on the job and the chunk's rank, and
  the same booklets always give the same bytes. Each attempt writes a file of its own and
  moves it into place (an atomic rename) under the job's row lock, only while the job is
  rendering: a chunk retried after a worker crash (``acks_late``), or run twice at once,
  never leaves a half-written file where the merge reads;
- a chunk is counted once, by a conditional update of its state, in the transaction that
  adds its cheques to the job's progress;
- the last chunk counted moves the job to ``merging`` by a conditional update (only one
  chunk wins); the merge locks the job row and does nothing if it was merged already.

A job whose messages were lost (a worker killed with its messages, a broker that forgot
them) stops moving: every step moves ``progress_at`` on, so a running job whose progress is
older than PRINT_STALL_MINUTES is stalled. The operator sees it and may restart it, and the
beat job restarts it by itself (`restart_job`, `resume_stalled_jobs`): what the job still
needs is sent again, which the steps above allow.

Files live under ``MEDIA_ROOT/private/print/<order>/<job token>/`` and are never served by
a public URL: the download views check permission, then stream the file.
"""

import datetime
import logging
import mimetypes
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from aptic import audit
from aptic.celery import send, send_each
from aptic.errors import DomainError

from . import access, codes, logos
from .models import Booklet, Cheque, Order, PrintChunk, PrintJob
from .pdf import booklets as booklet_pdf

logger = logging.getLogger(__name__)

STALE_QUEUED_JOB = datetime.timedelta(minutes=15)
NOT_PRINTED_BOOKLET_STATES = (Booklet.State.CANCELLED, Booklet.State.EXPIRED,
                              Booklet.State.REPLACED)
# A chunk started this many times without being counted kills its worker each time (say
# out of memory): the job fails instead of being restarted for ever.
MAX_CHUNK_ATTEMPTS = 5




# --- who may do what ------------------------------------------------------------------------


# --- files ----------------------------------------------------------------------------------


def print_root():
    """The private folder of print files (outside anything a URL serves)."""
    return Path(settings.MEDIA_ROOT) / "private" / "print"


def job_dir(job):
    return print_root() / str(job.order_id) / str(job.token)


def chunk_path(job, index):
    return job_dir(job) / f"morceau-{index:05d}.pdf"


def file_path(job):
    """The job's PDF on disk, or None before it is printed."""
    if not job.file:
        return None
    path = (print_root() / job.file).resolve()
    if print_root().resolve() not in path.parents:
        return None
    return path


def printed_pdf(job):
    """(open file, download name) of a printed job's PDF, or the refusal `not_printed`."""
    path = file_path(job) if job is not None else None
    if job is None or job.state != PrintJob.State.PRINTED or path is None \
            or not path.is_file():
        raise DomainError("not_printed", _("Le PDF de cette commande n’est pas encore prêt."))
    return path.open("rb"), download_name(job)


def latest_printed_job(order):
    """The latest whole-order job that printed, or None."""
    return order.print_jobs.filter(booklet=None, state=PrintJob.State.PRINTED).order_by(
        "-finished_at", "-id").first()


def download_name(job):
    if job.booklet_id:
        return f"carnet-{job.booklet.number}.pdf"
    return f"cheques-aptic-commande-{job.order_id}.pdf"


# --- reading the state ----------------------------------------------------------------------


def current_job(order):
    """The latest whole-order print job, or None."""
    return order.print_jobs.filter(booklet=None).order_by("-created_at", "-id").first()


def stall_cutoff():
    """Running jobs whose last progress is older than this are stalled."""
    return timezone.now() - datetime.timedelta(minutes=settings.PRINT_STALL_MINUTES)


def is_stalled(job):
    return job.is_active and job.progress_at < stall_cutoff()


def stalled_jobs():
    return PrintJob.objects.filter(state__in=PrintJob.ACTIVE_STATES,
                                   progress_at__lt=stall_cutoff())


def _restarted_lately(job):
    return job.restarted_at is not None and job.restarted_at >= stall_cutoff()


def status(order, job=None):
    """What the progress bar and the API show: ``{state, done, total, stalled}`` and more."""
    job = job if job is not None else current_job(order)
    if job is None:
        return {"state": None, "state_label": _("Pas encore imprimée"), "done": 0,
                "total": order.issued_cheques, "percent": 0, "stalled": False,
                "warnings": [], "download_url": None}
    printed = job.state == PrintJob.State.PRINTED
    return {
        "state": job.state,
        "state_label": str(job.get_state_display()),
        "done": job.total if printed else job.done,
        "total": job.total,
        "percent": job.percent,
        "stalled": is_stalled(job),
        "warnings": [warning["message"] for warning in job.warnings],
        "download_url": (reverse("print-download", args=[order.pk]) if printed and not
                         job.booklet_id else
                         reverse("print-job-download", args=[job.pk]) if printed else None),
    }


# --- starting -------------------------------------------------------------------------------


def start_printing(order, *, actor=None, booklet=None):
    """Queue the printing of an issued order, or the reprint of one of its booklets.

    Refuses (DomainError, 409) an order that is not issued yet, a second printing of an
    order while one runs, and a booklet of another order or that is cancelled. Only the
    operator prints (no actor: the platform, after issuance)."""
    access.require(access.may_act_as_platform(actor),
                   _("Seul l’opérateur imprime les carnets."))
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.status == Order.Status.APPROVED:
            raise DomainError("not_issued", _(
                "Les chèques de cette commande sont en cours d’émission : l’impression "
                "démarrera d’elle-même à la fin de l’émission."))
        if order.status != Order.Status.ISSUED:
            raise DomainError("not_approved", _(
                "Cette commande est « %(status)s » : seule une commande validée et émise "
                "peut être imprimée.") % {"status": order.get_status_display()})
        if booklet is not None:
            if booklet.order_id != order.pk:
                raise DomainError("wrong_booklet", _(
                    "Ce carnet n’appartient pas à cette commande."))
            if booklet.state in NOT_PRINTED_BOOKLET_STATES:
                raise DomainError("booklet_not_printable", _(
                    "Le carnet %(number)s est « %(state)s » : il ne peut pas être "
                    "réimprimé.") % {"number": booklet.number,
                                      "state": booklet.get_state_display()})
            if not _may_print_again(booklet):
                raise DomainError("booklet_handed_out", _(
                    "Le carnet %(number)s a été remis : le réimprimer ferait circuler deux "
                    "exemplaires des mêmes chèques. Remplacez-le : ses chèques inutilisés "
                    "seront annulés et un nouveau carnet imprimé.") % {
                    "number": booklet.number})
        elif _active_jobs(order).exists():
            raise DomainError("already_printing", _(
                "L’impression de cette commande est déjà en cours."))
        job = PrintJob.objects.create(
            order=order, booklet=booklet, requested_by=_user(actor),
            total=(booklet.cheques.count() if booklet is not None else order.issued_cheques),
        )
        if booklet is not None:
            audit.record(actor, booklet, "booklet.reprint_requested", "", job.state,
                         job=job.pk)
        else:
            audit.record(actor, order, "order.print_requested", "", job.state, job=job.pk)
    transaction.on_commit(lambda: send("cheques.tasks.print_job_task", job.pk))
    return job


def _may_print_again(booklet):
    """A booklet in someone's hands is replaced, never reprinted (cheques.replacement). A
    replacement is handed out from the start: it is printed until one printing succeeds."""
    if booklet.distributed_at is None:
        return True
    return booklet.replaces_id is not None and not booklet.print_jobs.filter(
        state=PrintJob.State.PRINTED).exists()


def _active_jobs(order):
    """The order's running whole-order job; one queued for too long (its message was never
    sent, say the broker was down) is given up, so that the operator may print again."""
    jobs = order.print_jobs.filter(booklet=None, state__in=PrintJob.ACTIVE_STATES)
    jobs.filter(state=PrintJob.State.QUEUED,
                created_at__lt=timezone.now() - STALE_QUEUED_JOB).update(
        state=PrintJob.State.FAILED, finished_at=timezone.now(),
        error=_("Impression jamais commencée : abandonnée."))
    return jobs


def start_printing_after_issuance(order_id):
    """Called once issuance has committed: print the order, never failing the caller."""
    try:
        return start_printing(Order.objects.get(pk=order_id))
    except DomainError as error:
        logger.info("Order %s not printed after issuance: %s", order_id, error.detail)
    except Exception:  # the order is issued whatever happens to its printing
        logger.exception("Could not start printing order %s", order_id)
    return None


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


# --- planning -------------------------------------------------------------------------------


def _pages_of(cheques):
    return 1 + -(-cheques // booklet_pdf.SLOTS_PER_PAGE)


def plan_job(job_id):
    """Split the job into chunks (once) and return the ids of the chunks still to print."""
    with transaction.atomic():
        job = (PrintJob.objects.select_for_update(of=("self",)).select_related("order")
               .get(pk=job_id))
        if job.state == PrintJob.State.QUEUED:
            order = job.order
            booklets = Booklet.objects.filter(order=order).exclude(
                state__in=NOT_PRINTED_BOOKLET_STATES)
            if job.booklet_id:
                booklets = booklets.filter(pk=job.booklet_id)
            rows = list(booklets.order_by("number").values_list("pk", "number", "replaces"))
            per_booklet = order.cheques_per_booklet
            # A replacement holds only the cheques its booklet had left; the others are full.
            sizes = _replacement_sizes([pk for pk, _number, replaces in rows if replaces])
            counts = [sizes.get(pk, per_booklet) for pk, _number, _replaces in rows]
            per_chunk = max(1, settings.PRINT_CHUNK_CHEQUES // per_booklet)
            chunks = []
            for index, start in enumerate(range(0, len(rows), per_chunk)):
                part = rows[start:start + per_chunk]
                chunks.append(PrintChunk(
                    job=job, index=index, booklet_ids=[row[0] for row in part],
                    first_booklet=part[0][1], last_booklet=part[-1][1],
                    cheques=sum(counts[start:start + per_chunk])))
            PrintChunk.objects.bulk_create(chunks, batch_size=1000)
            job.total = sum(counts)
            job.pages = sum(_pages_of(count) for count in counts)
            job.chunk_count = len(chunks)
            job.state = PrintJob.State.RENDERING if chunks else PrintJob.State.FAILED
            job.error = "" if chunks else _("Aucun carnet à imprimer.")
            job.started_at = job.progress_at = timezone.now()
            job.save()
        if job.state != PrintJob.State.RENDERING:
            return []
        return list(job.chunks.filter(state=PrintChunk.State.PENDING)
                    .order_by("index").values_list("pk", flat=True))


def _replacement_sizes(booklet_ids):
    """{booklet id: number of cheques} of these replacement booklets."""
    if not booklet_ids:
        return {}
    return dict(Cheque.objects.filter(booklet_id__in=booklet_ids).values("booklet_id")
                .annotate(n=Count("id")).order_by().values_list("booklet_id", "n"))


# --- rendering ------------------------------------------------------------------------------


def _logo(order):
    """(bytes, content type) of the order's logo; b"" when the file has gone missing (the
    engine then prints without it and warns); (None, "") when there is no logo. The type
    comes from the content when it can, the file name otherwise."""
    if not order.logo:
        return None, ""
    content_type = mimetypes.guess_type(order.logo.name)[0] or ""
    try:
        with order.logo.open("rb") as logo:
            data = logo.read(booklet_pdf.LOGO_MAX_BYTES + 1)
            return data, logos.content_type_of(data) or content_type
    except (OSError, ValueError):
        return b"", content_type


def booklet_data(order, booklet_ids):
    """The engine's input for these booklets of `order`, in booklet number order."""
    logo, content_type = _logo(order)
    services = sorted(order.allowed_services.values_list("label", flat=True))
    cover_map_url = settings.SITE_URL + order.map_path
    territory = order.territory_names
    cheques = {}
    for booklet_id, number, code in (Cheque.objects.filter(booklet_id__in=booklet_ids)
                                     .order_by("number")
                                     .values_list("booklet_id", "number", "code")):
        cheques.setdefault(booklet_id, []).append(
            booklet_pdf.ChequeData(number, codes.format_code(code), codes.qr_url(code)))
    return [
        booklet_pdf.BookletData(
            number=number, funder_name=order.funder.name,
            face_value_cents=order.face_value_cents, valid_until=order.valid_until,
            map_url=cover_map_url, cheques=cheques.get(pk, []), logo_bytes=logo,
            logo_content_type=content_type, custom_wording=order.custom_wording,
            allowed_services=services, territory=territory,
            requires_activation=order.requires_activation, replaces=replaces or "")
        for pk, number, replaces in Booklet.objects.filter(pk__in=booklet_ids)
        .order_by("number").values_list("pk", "number", "replaces__number")
    ]


def render_chunk(chunk_id):
    """Render one chunk to its file and count it once. Returns True when the job is ready
    to merge (this chunk was the last one, or a redelivered chunk finds it so)."""
    chunk = PrintChunk.objects.select_related("job__order__funder").get(pk=chunk_id)
    job = chunk.job
    if job.state == PrintJob.State.MERGING:
        return True  # counted before a crash: make sure the merge is sent
    if job.state != PrintJob.State.RENDERING:
        return False
    if chunk.state == PrintChunk.State.PENDING:
        if chunk.attempts >= MAX_CHUNK_ATTEMPTS:
            fail_job(job.pk, _(
                "Le morceau n° %(index)s (carnets %(first)s à %(last)s) a été commencé "
                "%(attempts)s fois sans aboutir : impression abandonnée.") % {
                "index": chunk.index + 1, "first": chunk.first_booklet,
                "last": chunk.last_booklet, "attempts": chunk.attempts})
            return False
        PrintChunk.objects.filter(pk=chunk.pk).update(attempts=F("attempts") + 1)
        PrintJob.objects.filter(pk=job.pk).update(progress_at=timezone.now())
        path = chunk_path(job, chunk.index)
        path.parent.mkdir(parents=True, exist_ok=True)
        # This attempt's own file: another attempt of the same chunk may be writing too.
        part = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        try:
            # Booklets are printed in French, whatever the language of the page whose
            # request ran the task (the demo runs its tasks inside the request).
            with translation.override(settings.LANGUAGE_CODE):
                booklets = booklet_data(job.order, chunk.booklet_ids)
                report = booklet_pdf.render_booklets(booklets, part, title=str(job))
            if report.cheques != chunk.cheques:
                raise RuntimeError(f"chunk {chunk.pk}: {report.cheques} cheques rendered, "
                                   f"{chunk.cheques} expected")
            _count_chunk(chunk, part, path, report)
        finally:
            part.unlink(missing_ok=True)
    return bool(PrintJob.objects.filter(
        pk=job.pk, state=PrintJob.State.RENDERING, chunks_done=F("chunk_count"),
    ).update(state=PrintJob.State.MERGING, progress_at=timezone.now()))


def _count_chunk(chunk, part, path, report):
    """Put the chunk's file in place and count the chunk, once. Under the job's row lock,
    which the merge holds while it reads the files: a file is never replaced under it."""
    with transaction.atomic():
        state = (PrintJob.objects.select_for_update().filter(pk=chunk.job_id)
                 .values_list("state", flat=True).get())
        if state != PrintJob.State.RENDERING:
            return  # merged or given up meanwhile: this attempt's file is not needed
        os.replace(part, path)
        counted = PrintChunk.objects.filter(
            pk=chunk.pk, state=PrintChunk.State.PENDING,
        ).update(state=PrintChunk.State.DONE, done_at=timezone.now(),
                 file=str(path.relative_to(print_root())))
        if counted:
            PrintJob.objects.filter(pk=chunk.job_id).update(
                done=F("done") + chunk.cheques, chunks_done=F("chunks_done") + 1,
                progress_at=timezone.now())
            if report.warnings:
                PrintJob.objects.filter(pk=chunk.job_id, warnings=[]).update(
                    warnings=[{"code": w.code, "message": w.message}
                              for w in report.warnings])


def merge_job(job_id):
    """Join the chunks into the job's PDF (once), check it, mark the job printed."""
    with transaction.atomic():
        job = (PrintJob.objects.select_for_update(of=("self",))
               .select_related("order", "booklet").get(pk=job_id))
        if job.state != PrintJob.State.MERGING:
            return job
        indexes = list(job.chunks.order_by("index").values_list("index", flat=True))
        out = job_dir(job) / download_name(job)
        part = out.with_name(out.name + ".part")
        pages = booklet_pdf.merge_chunks([chunk_path(job, index) for index in indexes], part,
                                      title=str(job))
        if pages != job.pages:
            raise RuntimeError(f"job {job.pk}: {pages} pages merged, {job.pages} expected")
        os.replace(part, out)
        from_state = job.state
        job.state = PrintJob.State.PRINTED
        job.done = job.total
        job.file = str(out.relative_to(print_root()))
        job.finished_at = job.progress_at = timezone.now()
        job.save(update_fields=["state", "done", "file", "finished_at", "progress_at"])
        subject = job.booklet if job.booklet_id else job.order
        audit.record(job.requested_by, subject,
                     "booklet.reprinted" if job.booklet_id else "order.printed",
                     from_state, job.state, job=job.pk, cheques=job.total, pages=pages,
                     warnings=[warning["code"] for warning in job.warnings])
    # The chunks' files, and those of attempts killed before they could clean up.
    for leftover in job_dir(job).glob("morceau-*"):
        leftover.unlink(missing_ok=True)
    return job


def fail_job(job_id, error):
    """Give up on a job (a chunk kept failing): the operator may print again."""
    with transaction.atomic():
        job = PrintJob.objects.select_for_update().get(pk=job_id)
        if not job.is_active:
            return job
        from_state = job.state
        job.state = PrintJob.State.FAILED
        job.error = str(error)[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["state", "error", "finished_at"])
        audit.record(None, job.booklet if job.booklet_id else job.order,
                     "order.print_failed", from_state, job.state, job=job.pk)
    return job


# --- stalled jobs ---------------------------------------------------------------------------


def restart_printing(order, *, actor):
    """The operator restarts the order's printing (its latest whole-order job)."""
    return restart_job(current_job(order), actor=actor)


def restart_job(job, *, actor=None):
    """Send again what a stalled job still needs: its planning, its chunks not counted yet,
    or its merge. The operator restarts from the print page or the API, the beat job
    (`resume_stalled_jobs`) with no actor. Refused (DomainError 409) for a job that is not
    running, or that moved within PRINT_STALL_MINUTES: a restart must not race a live
    worker. Audited. The beat job leaves a job it restarted for PRINT_STALL_MINUTES before
    the next restart; the operator may restart a stalled job at any time."""
    access.require(access.may_act_as_platform(actor),
                   _("Seul l’opérateur peut relancer une impression."))
    with transaction.atomic():
        # skip_locked: a row that someone else holds is a merge (or a count) at work.
        locked = None if job is None else (
            PrintJob.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("order", "booklet").filter(pk=job.pk).first())
        if job is None or (locked is not None and not locked.is_active):
            raise DomainError("not_running", _(
                "Cette impression n’est pas en cours : il n’y a rien à relancer."))
        if (locked is None or locked.progress_at >= stall_cutoff()
                or (actor is None and _restarted_lately(locked))):
            raise DomainError("not_stalled", _(
                "Cette impression avance encore : elle ne peut être relancée qu’après "
                "%(minutes)s minutes sans progrès.") % {
                "minutes": settings.PRINT_STALL_MINUTES})
        job, from_state = locked, locked.state
        pending = list(job.chunks.filter(state=PrintChunk.State.PENDING).order_by("index")
                       .values_list("pk", flat=True))
        if job.state == PrintJob.State.RENDERING and not pending:
            job.state = PrintJob.State.MERGING  # all counted; the merge was never sent
        job.restarted_at = timezone.now()
        job.save(update_fields=["state", "restarted_at"])
        resent = pending if job.state == PrintJob.State.RENDERING else []
        audit.record(actor, job.booklet if job.booklet_id else job.order,
                     "order.print_restarted", from_state, job.state, job=job.pk,
                     chunks=len(resent), automatic=actor is None)
        state = job.state
        transaction.on_commit(lambda: _send(job.pk, state, resent))
    return job


def _send(job_id, state, chunk_ids):
    if state == PrintJob.State.QUEUED:
        send("cheques.tasks.print_job_task", job_id)
    elif state == PrintJob.State.RENDERING:
        send_each("cheques.tasks.print_chunk_task", chunk_ids)
    else:
        send("cheques.tasks.merge_print_task", job_id)


def resume_stalled_jobs():
    """The beat job: restart every stalled job not restarted within PRINT_STALL_MINUTES.
    Returns the ids of the jobs restarted."""
    restarted = []
    for job in stalled_jobs().exclude(restarted_at__gte=stall_cutoff()).order_by("pk"):
        try:
            restart_job(job)
        except DomainError:
            continue  # it moved, or is being merged, since the query
        restarted.append(job.pk)
    return restarted
