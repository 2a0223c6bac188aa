"""Printing issued orders from the database: jobs, chunks, Celery, downloads, permissions."""

import io
import os
import signal
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import translation
from PIL import Image
from pypdf import PdfReader

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import codes, printing
from cheques.models import Booklet, Cheque, PrintChunk, PrintJob
from cheques.pdf import booklets as booklet_pdf
from cheques.pdf.booklets import SLOT_H, SLOT_Y
from tests.cheques.print_crash_worker import CRASH_ONCE_ENV, HOLD_ENV, HOLD_FROM_CHUNK
from tests.cheques.test_printing_engine import CODE, NUMBER, read_pages
from tests.conftest import start_celery_worker


@pytest.fixture(autouse=True)
def print_media(settings, tmp_path, monkeypatch):
    """Print files in a temporary MEDIA_ROOT (also for a Celery worker started later)."""
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    monkeypatch.setenv("MEDIA_ROOT", str(media))
    return media


@pytest.fixture
def small_chunks(settings, monkeypatch):
    settings.PRINT_CHUNK_CHEQUES = 20
    monkeypatch.setenv("PRINT_CHUNK_CHEQUES", "20")


def printed_order(make_order, funder, user, operator, django_capture_on_commit_callbacks,
                  **terms):
    """An order approved by the operator; printing starts by itself once it is issued."""
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(funder, user, approve_by=operator, **terms)
    order.refresh_from_db()
    return order


def check_pdf_against_database(path, order):
    """Every QR decodes, verifies and belongs to the cheque printed beside it; every issued
    cheque is printed once. Returns the printed numbers."""
    issued = dict(Cheque.objects.filter(order=order).values_list("number", "code"))
    printed, seen_codes = [], set()
    for page in read_pages(path):
        if "Où utiliser mes chèques ?" in page["text"]:
            continue
        assert page["barcodes"], "a cheque page without QR code"
        for barcode in page["barcodes"]:
            text = page["slots"][int((barcode["y"] - SLOT_Y) // SLOT_H)]
            (number,) = NUMBER.findall(text)
            (code,) = CODE.findall(text)
            url = urlsplit(barcode["text"])
            scanned = url.path.rsplit("/", 1)[-1]
            (signature,) = parse_qs(url.query)["s"]
            assert codes.verify_signature(scanned, signature)
            assert scanned == issued[number]
            assert codes.format_code(scanned) == code
            assert scanned not in seen_codes
            seen_codes.add(scanned)
            printed.append(number)
        assert sum(1 for text in page["slots"] if NUMBER.search(text)) == len(page["barcodes"])
    assert len(printed) == len(set(printed)) == order.issued_cheques == len(issued)
    assert set(printed) == set(issued)
    return printed


def test_approving_an_order_prints_it_and_every_qr_code_matches_the_cheque_beside_it(
        make_order, funder_a, manager_a, operator, small_chunks,
        django_capture_on_commit_callbacks):
    order = printed_order(make_order, funder_a, manager_a, operator,
                          django_capture_on_commit_callbacks, booklets=5,
                          cheques_per_booklet=7)
    job = printing.current_job(order)
    assert job.state == PrintJob.State.PRINTED
    assert (job.done, job.total, job.chunk_count, job.pages) == (35, 35, 3, 5 * 3)
    assert job.warnings == []
    path = printing.file_path(job)
    assert path.is_file() and printing.print_root() in path.parents
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # chunks removed
    check_pdf_against_database(path, order)
    assert AuditEvent.objects.filter(action="order.printed", object_id=str(order.pk)).count() == 1


def test_booklets_approved_from_an_english_page_are_printed_in_french(
        make_order, funder_a, manager_a, operator, django_capture_on_commit_callbacks):
    with translation.override("en"):
        order = printed_order(make_order, funder_a, manager_a, operator,
                              django_capture_on_commit_callbacks, booklets=1,
                              cheques_per_booklet=5)
    text = "\n".join(page["text"] for page in read_pages(printing.file_path(
        printing.current_job(order))))
    assert "Où utiliser mes chèques ?" in text and "Valable jusqu" in text
    assert "Where" not in text and "Valid until" not in text


def test_the_order_api_shows_the_printing_and_serves_the_pdf(
        api, make_order, funder_a, manager_a, operator, django_capture_on_commit_callbacks):
    waiting = make_order(funder_a, manager_a)
    api.force_authenticate(manager_a)
    assert api.get(f"/api/v1/orders/{waiting.pk}/").json()["print"] == {
        "state": None, "done": 0, "total": 0, "stalled": False}
    assert api.get(f"/api/v1/orders/{waiting.pk}/pdf/").status_code == 409
    order = printed_order(make_order, funder_a, manager_a, operator,
                          django_capture_on_commit_callbacks)
    assert api.get(f"/api/v1/orders/{order.pk}/").json()["print"] == {
        "state": "printed", "done": 10, "total": 10, "stalled": False}
    response = api.get(f"/api/v1/orders/{order.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    body = b"".join(response.streaming_content)
    assert body.startswith(b"%PDF") and len(PdfReader(io.BytesIO(body)).pages) == 2 * 2


def test_another_funder_a_mediator_and_an_anonymous_user_cannot_get_the_pdf(
        client, api, make_order, funder_a, manager_a, manager_b, mediator, operator,
        django_capture_on_commit_callbacks):
    order = printed_order(make_order, funder_a, manager_a, operator,
                          django_capture_on_commit_callbacks)
    job = printing.current_job(order)
    urls = [f"/commandes/{order.pk}/impression/pdf/", f"/impressions/{job.pk}/pdf/",
            f"/commandes/{order.pk}/impression/etat.json"]
    # Another funder is told the order does not exist; a role without order pages, or an
    # anonymous visitor, is refused whatever the order (cheques.access).
    for user, status in ((manager_b, 404), (mediator, 403), (None, 403)):
        client.logout()
        api.force_authenticate(user)
        if user:
            client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == status, (user, url)
        assert api.get(f"/api/v1/orders/{order.pk}/pdf/").status_code == status, user
    # Never a public media URL.
    relative = printing.file_path(job).relative_to(printing.print_root().parent.parent)
    client.force_login(manager_a)
    assert client.get(f"/media/{relative}").status_code == 404
    for user in (manager_a, operator):
        client.force_login(user)
        response = client.get(urls[0])
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert b"".join(response.streaming_content).startswith(b"%PDF")
        api.force_authenticate(user)
        assert api.get(f"/api/v1/orders/{order.pk}/pdf/").status_code == 200


@pytest.mark.parametrize("status", ["submitted", "rejected"])
def test_printing_an_order_that_is_not_approved_is_refused_with_a_clear_409(
        client, api, make_order, funder_a, manager_a, operator, status):
    from cheques import ordering

    order = make_order(funder_a, manager_a)
    if status == "rejected":
        ordering.reject_order(order, actor=operator, reason="Budget")
    client.force_login(operator)
    response = client.post(f"/commandes/{order.pk}/imprimer/")
    assert response.status_code == 409
    assert "seule une commande validée et émise peut être imprimée" in response.content.decode()
    api.force_authenticate(operator)
    response = api.post(f"/api/v1/orders/{order.pk}/print/")
    assert response.status_code == 409
    assert response.json()["code"] == "not_approved"
    assert not PrintJob.objects.exists()


def test_only_the_operator_prints_and_a_second_printing_waits_for_the_first(
        client, make_order, funder_a, manager_a, operator, django_capture_on_commit_callbacks):
    order = printed_order(make_order, funder_a, manager_a, operator,
                          django_capture_on_commit_callbacks)
    client.force_login(manager_a)  # sees the order, may not print it
    assert client.post(f"/commandes/{order.pk}/imprimer/").status_code == 403
    client.force_login(operator)
    # In this test the tasks never run (they wait for a commit): the new job stays queued.
    assert client.post(f"/commandes/{order.pk}/imprimer/").status_code == 302
    again = client.post(f"/commandes/{order.pk}/imprimer/")
    assert again.status_code == 409
    assert "déjà en cours" in again.content.decode()
    status = client.get(f"/commandes/{order.pk}/impression/etat.json").json()
    assert (status["state"], status["download_url"]) == ("queued", None)
    # The PDF printed before stays available meanwhile.
    assert client.get(f"/commandes/{order.pk}/impression/pdf/").status_code == 200


def test_a_job_left_queued_for_long_does_not_block_printing_again(clock,
        make_order, funder_a, manager_a, operator):
    import datetime


    order = make_order(funder_a, manager_a, approve_by=operator)
    lost = printing.start_printing(order, actor=operator)  # its task is never sent here
    with pytest.raises(DomainError):
        printing.start_printing(order, actor=operator)
    PrintJob.objects.filter(pk=lost.pk).update(
        created_at=clock.now - datetime.timedelta(minutes=16))
    again = printing.start_printing(order, actor=operator)
    lost.refresh_from_db()
    assert (lost.state, again.state) == (PrintJob.State.FAILED, PrintJob.State.QUEUED)


def logo_file(content):
    return SimpleUploadedFile("logo.png", content, "image/png")


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (90, 30), (0, 90, 160)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_logo_prints_without_it_and_warns_on_the_order_page(
        client, make_order, funder_a, manager_a, operator, damage,
        django_capture_on_commit_callbacks):
    logo = logo_file(png_bytes() if damage == "missing" else b"\x89PNG\r\n\x1a\nbroken")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(funder_a, manager_a, logo=logo)
        if damage == "missing":
            Path(order.logo.path).unlink()
        from cheques import ordering

        ordering.approve_order(order, actor=operator)
    order.refresh_from_db()
    job = printing.current_job(order)
    assert job.state == PrintJob.State.PRINTED
    assert [warning["code"] for warning in job.warnings] == ["logo_unreadable"]
    check_pdf_against_database(printing.file_path(job), order)
    client.force_login(manager_a)
    page = client.get(f"/commandes/{order.pk}/impression/").content.decode()
    assert "imprimés sans logo" in page
    assert "imprimés sans logo" in client.get(
        f"/commandes/{order.pk}/impression/etat.json").json()["warnings"][0]


def test_a_good_logo_prints_without_warning(
        make_order, funder_a, manager_a, operator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(funder_a, manager_a, logo=logo_file(png_bytes()),
                           approve_by=operator)
    job = printing.current_job(order)
    assert (job.state, job.warnings) == (PrintJob.State.PRINTED, [])


def test_a_single_booklet_reprint_prints_that_booklet_only(
        client, make_order, funder_a, manager_a, manager_b, operator,
        django_capture_on_commit_callbacks):
    order = printed_order(make_order, funder_a, manager_a, operator,
                          django_capture_on_commit_callbacks, booklets=3)
    booklet = Booklet.objects.filter(order=order).order_by("number")[1]
    client.force_login(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/commandes/{order.pk}/reimprimer-un-carnet/",
                               {"booklet": booklet.number})
    assert response.status_code == 302
    job = PrintJob.objects.get(booklet=booklet)
    assert (job.state, job.total, job.pages) == (PrintJob.State.PRINTED, 5, 2)
    text = " ".join(page.extract_text() for page in PdfReader(printing.file_path(job)).pages)
    assert set(NUMBER.findall(text)) == set(booklet.cheques.values_list("number", flat=True))
    # The whole order's PDF is still the current one.
    assert printing.current_job(order).booklet is None
    assert client.post(f"/commandes/{order.pk}/reimprimer-un-carnet/",
                       {"booklet": "2000-999999"}).status_code == 404
    client.force_login(manager_a)
    assert client.get(f"/impressions/{job.pk}/pdf/").status_code == 200
    client.force_login(manager_b)
    assert client.get(f"/impressions/{job.pk}/pdf/").status_code == 404


def test_a_chunk_that_crashed_after_writing_is_rewritten_and_counted_once(
        make_order, funder_a, manager_a, operator, small_chunks, monkeypatch):
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=6,
                       cheques_per_booklet=10)  # printing is not started: no commit here
    with transaction.atomic():
        job = printing.start_printing(order, actor=operator)
    chunk_ids = printing.plan_job(job.pk)
    assert len(chunk_ids) == 3
    render_booklets = booklet_pdf.render_booklets

    def crash(booklets, out, **kwargs):
        render_booklets(booklets, out, **kwargs)
        Path(out).write_bytes(Path(out).read_bytes()[:500])  # half written, then the crash
        raise SystemExit("worker lost")

    monkeypatch.setattr(booklet_pdf, "render_booklets", crash)
    with pytest.raises(SystemExit):
        printing.render_chunk(chunk_ids[0])
    monkeypatch.setattr(booklet_pdf, "render_booklets", render_booklets)
    first = PrintChunk.objects.get(pk=chunk_ids[0])
    assert (first.state, first.attempts) == (PrintChunk.State.PENDING, 1)
    assert not printing.chunk_path(job, 0).exists()  # the merge never sees half a file
    assert printing.plan_job(job.pk) == chunk_ids  # a redelivered job task resends all
    ready = [printing.render_chunk(chunk_id) for chunk_id in chunk_ids]
    assert ready == [False, False, True]
    assert printing.render_chunk(chunk_ids[0]) is True  # redelivered again: no recount
    job.refresh_from_db()
    assert (job.done, job.chunks_done, job.state) == (60, 3, PrintJob.State.MERGING)
    printing.merge_job(job.pk)
    printing.merge_job(job.pk)  # a second merge changes nothing
    job.refresh_from_db()
    assert job.state == PrintJob.State.PRINTED
    check_pdf_against_database(printing.file_path(job), order)


def test_a_chunk_rendered_twice_at_once_is_counted_once_and_the_pdf_stays_whole(
        make_order, funder_a, manager_a, operator, small_chunks, monkeypatch):
    """Two deliveries of one chunk (a message given back while its first worker still runs,
    or a restart) render side by side: one counts, neither corrupts the other's file."""
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=4,
                       cheques_per_booklet=10)
    with transaction.atomic():
        job = printing.start_printing(order, actor=operator)
    first, second = printing.plan_job(job.pk)
    render_booklets = booklet_pdf.render_booklets
    twin = []

    def with_a_twin(booklets, out, **kwargs):
        # The twin delivery renders and counts while this one renders.
        monkeypatch.setattr(booklet_pdf, "render_booklets", render_booklets)
        twin.append(printing.render_chunk(first))
        return render_booklets(booklets, out, **kwargs)

    monkeypatch.setattr(booklet_pdf, "render_booklets", with_a_twin)
    assert printing.render_chunk(first) is False
    assert twin == [False]
    chunk = PrintChunk.objects.get(pk=first)
    assert (chunk.state, chunk.attempts) == (PrintChunk.State.DONE, 2)
    # A killed attempt leaves its own file behind: the merge cleans it up.
    leftover = printing.chunk_path(job, 1).with_name("morceau-00001.pdf.killed.part")
    leftover.write_bytes(b"%PDF-1.7 half")
    assert printing.render_chunk(second) is True
    job = printing.merge_job(job.pk)
    assert (job.state, job.done, job.chunks_done) == (PrintJob.State.PRINTED, 40, 2)
    path = printing.file_path(job)
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    check_pdf_against_database(path, order)


@pytest.fixture
def print_workers(transactional_db, settings):
    """`start(**env)` starts a real worker of tests.cheques.print_crash_worker in a process
    group of its own; every one started is stopped, whole group, at the end."""
    from aptic.celery import app

    started = []

    def start(**env):
        worker = start_celery_worker(settings.REDIS_URL, app="tests.cheques.print_crash_worker",
                                     env=env, own_process_group=True)
        started.append(worker)
        return worker

    app.conf.task_always_eager = False
    try:
        yield start
    finally:
        app.conf.task_always_eager = True
        for worker in started:
            stop_process_group(worker)


def stop_process_group(worker, sig=signal.SIGTERM):
    """Signal the worker's whole process group (main process and children), then wait."""
    try:
        os.killpg(worker.pid, sig)
    except ProcessLookupError:
        return
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def wait_for(job, states, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in states:
            return job
        time.sleep(0.3)
    pytest.fail(f"job {job.pk} still {job.state} after {seconds} s")


def test_a_worker_killed_in_the_middle_of_a_chunk_still_ends_with_a_complete_pdf(
        print_media, small_chunks, print_workers, tmp_path, make_order, funder_a, manager_a,
        operator):
    """One worker process dies (its worker gives its message back at once)."""
    flag = tmp_path / "crash-once"
    flag.write_text("the first chunk task to see this file kills its worker process")
    print_workers(**{CRASH_ONCE_ENV: str(flag)})
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=8,
                       cheques_per_booklet=10)  # issued; printing goes to the worker
    job = wait_for(PrintJob.objects.get(order=order),
                   {PrintJob.State.PRINTED, PrintJob.State.FAILED})
    assert job.state == PrintJob.State.PRINTED, job.error
    assert not flag.exists(), "no chunk task crashed"
    attempts = sorted(job.chunks.values_list("attempts", flat=True))
    assert attempts == [1, 1, 1, 2]  # the killed chunk ran again, the others once
    assert (job.done, job.total, job.chunks_done) == (80, 80, 4)
    check_pdf_against_database(printing.file_path(job), order)


@pytest.fixture
def ten_chunks(settings, monkeypatch):
    """Ten booklets of ten cheques print in ten chunks, for the workers too."""
    settings.PRINT_CHUNK_CHEQUES = 10
    monkeypatch.setenv("PRINT_CHUNK_CHEQUES", "10")


def kill_mid_job(print_workers, tmp_path, order_of):
    """Start a worker that holds every chunk from the third on, wait until it holds (two
    chunks counted, others half written or still queued), SIGKILL its whole process group.
    Returns the job, caught in the middle."""
    hold = tmp_path / "hold"
    hold.mkdir()
    worker = print_workers(**{HOLD_ENV: str(hold)})
    order = order_of()
    deadline = time.monotonic() + 120
    while not (any(hold.iterdir()) and PrintJob.objects.filter(
            order=order, chunks_done=HOLD_FROM_CHUNK).exists()):
        if time.monotonic() > deadline:
            pytest.fail("no chunk was held")
        time.sleep(0.2)
    stop_process_group(worker, signal.SIGKILL)
    job = PrintJob.objects.get(order=order, booklet=None)
    assert (job.state, job.chunks_done, job.chunk_count) == (
        PrintJob.State.RENDERING, HOLD_FROM_CHUNK, 10)
    return order, job


def test_a_worker_killed_mid_job_leaves_the_order_printed_with_every_code_once(
        print_media, ten_chunks, print_workers, tmp_path, monkeypatch, make_order, funder_a,
        manager_a, operator):
    """The whole worker dies, main process and children, with messages it had taken: a new
    worker gets them back once the broker's visibility timeout has passed."""
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "3")
    order, job = kill_mid_job(print_workers, tmp_path, lambda: make_order(
        funder_a, manager_a, approve_by=operator, booklets=10, cheques_per_booklet=10))
    print_workers()
    job = wait_for(job, {PrintJob.State.PRINTED, PrintJob.State.FAILED}, seconds=60)
    assert job.state == PrintJob.State.PRINTED, job.error
    assert (job.done, job.total, job.chunks_done) == (100, 100, 10)
    assert max(job.chunks.values_list("attempts", flat=True)) >= 2  # a held chunk, again
    check_pdf_against_database(printing.file_path(job), order)
    assert AuditEvent.objects.filter(action="order.printed", object_id=str(order.pk)).count() == 1


def test_a_job_whose_messages_were_lost_with_its_worker_is_resumed_by_the_beat_job(
        print_media, ten_chunks, print_workers, tmp_path, settings, monkeypatch, make_order,
        funder_a, manager_a, operator):
    """The worker dies and the broker forgets its messages (Redis restarted without its
    data): nothing would ever move the job again, but the beat job restarts it."""
    import redis

    from aptic.celery import app
    from cheques.tasks import resume_stalled_print_jobs_task

    order, job = kill_mid_job(print_workers, tmp_path, lambda: make_order(
        funder_a, manager_a, approve_by=operator, booklets=10, cheques_per_booklet=10))
    broker = redis.Redis.from_url(settings.REDIS_URL)
    broker.delete("unacked", "unacked_index")
    app.control.purge()
    broker.close()
    settings.PRINT_STALL_MINUTES = 0  # any job not moving now is stalled
    monkeypatch.setenv("PRINT_STALL_MINUTES", "0")
    print_workers()
    time.sleep(2)
    job.refresh_from_db()
    assert job.state == PrintJob.State.RENDERING and job.chunks_done < 10
    assert printing.status(order)["stalled"] is True
    resume_stalled_print_jobs_task.delay()
    job = wait_for(job, {PrintJob.State.PRINTED, PrintJob.State.FAILED}, seconds=60)
    assert job.state == PrintJob.State.PRINTED, job.error
    assert (job.done, job.total, job.chunks_done) == (100, 100, 10)
    check_pdf_against_database(printing.file_path(job), order)
    restart = AuditEvent.objects.get(action="order.print_restarted")
    assert (restart.actor, restart.details["automatic"]) == (None, True)
    assert restart.details["chunks"] == 10 - HOLD_FROM_CHUNK


# --- stalled jobs: seen, restarted by the operator and by the beat job ---------------------


def stop_printing(clock, settings, make_order, funder_a, manager_a, operator, at="rendering"):
    """An order of three chunks whose printing stopped, its messages lost, longer ago than
    PRINT_STALL_MINUTES: never planned ("queued"), after one chunk ("rendering"), after
    counting every chunk but before sending the merge ("counted"), or with its merge
    message lost ("merging"). Tasks never run here: they wait for a commit."""
    import datetime

    order = make_order(funder_a, manager_a, approve_by=operator, booklets=6,
                       cheques_per_booklet=10)
    job = printing.start_printing(order, actor=operator)
    if at != "queued":
        chunk_ids = printing.plan_job(job.pk)
        for chunk_id in chunk_ids[:1] if at == "rendering" else chunk_ids:
            printing.render_chunk(chunk_id)
    if at == "counted":
        PrintJob.objects.filter(pk=job.pk).update(state=PrintJob.State.RENDERING)
    PrintJob.objects.filter(pk=job.pk).update(progress_at=clock.now - datetime.timedelta(
        minutes=settings.PRINT_STALL_MINUTES + 1))
    job.refresh_from_db()
    return order, job


@pytest.fixture
def stalled(clock, settings, make_order, funder_a, manager_a, operator, small_chunks):
    return stop_printing(clock, settings, make_order, funder_a, manager_a, operator)


def test_a_stalled_job_shows_on_the_print_page_and_the_operator_restarts_it(
        client, stalled, manager_a, manager_b, operator, django_capture_on_commit_callbacks):
    order, job = stalled
    page, restart = f"/commandes/{order.pk}/impression/", \
        f"/commandes/{order.pk}/impression/relancer/"
    client.force_login(manager_a)
    shown = client.get(page).content.decode()
    assert "L’impression n’avance plus" in shown and restart not in shown
    assert client.get(f"/commandes/{order.pk}/impression/etat.json").json()["stalled"] is True
    assert client.post(restart).status_code == 403  # sees the order, may not restart it
    client.force_login(manager_b)
    assert client.post(restart).status_code == 404
    client.force_login(operator)
    assert restart in client.get(page).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(restart)
    assert (response.status_code, response["Location"]) == (302, page)
    job.refresh_from_db()
    assert (job.state, job.done, job.chunks_done) == (PrintJob.State.PRINTED, 60, 3)
    check_pdf_against_database(printing.file_path(job), order)
    event = AuditEvent.objects.get(action="order.print_restarted")
    assert (event.actor, event.object_id, event.from_state) == (
        operator, str(order.pk), PrintJob.State.RENDERING)
    assert (event.details["chunks"], event.details["automatic"]) == (2, False)
    again = client.post(restart)
    assert again.status_code == 409
    assert "n’est pas en cours" in again.content.decode()


def test_the_api_shows_a_stalled_printing_and_only_the_operator_restarts_it(
        api, stalled, manager_a, manager_b, mediator, operator,
        django_capture_on_commit_callbacks):
    order, job = stalled
    url = f"/api/v1/orders/{order.pk}/print/restart/"
    api.force_authenticate(manager_a)
    assert api.get(f"/api/v1/orders/{order.pk}/").json()["print"] == {
        "state": "rendering", "done": 20, "total": 60, "stalled": True}
    refused = api.post(url)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    for stranger, status in ((manager_b, 404), (mediator, 403)):
        api.force_authenticate(stranger)
        assert api.post(url).status_code == status
    api.force_authenticate(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(url)
    assert (response.status_code, response.json()["state"]) == (202, "rendering")
    job.refresh_from_db()
    assert job.state == PrintJob.State.PRINTED
    assert api.get(f"/api/v1/orders/{order.pk}/pdf/").status_code == 200
    again = api.post(url)
    assert (again.status_code, again.json()["code"]) == (409, "not_running")


@pytest.mark.parametrize("at", ["queued", "rendering", "counted", "merging"])
def test_a_stalled_job_is_restarted_from_where_it_stopped_and_prints_every_code_once(
        clock, settings, make_order, funder_a, manager_a, operator, small_chunks, at,
        django_capture_on_commit_callbacks):
    order, job = stop_printing(clock, settings, make_order, funder_a, manager_a, operator,
                               at=at)
    assert printing.status(order)["stalled"] is True
    with django_capture_on_commit_callbacks(execute=True):
        printing.restart_printing(order, actor=operator)
    job.refresh_from_db()
    assert (job.state, job.done, job.chunks_done) == (PrintJob.State.PRINTED, 60, 3)
    assert sorted(job.chunks.values_list("attempts", flat=True)) == [1, 1, 1]
    check_pdf_against_database(printing.file_path(job), order)
    assert AuditEvent.objects.filter(action="order.printed").count() == 1


def test_a_job_that_still_moves_is_neither_restarted_nor_shown_as_stalled(
        make_order, funder_a, manager_a, operator, small_chunks):
    order = make_order(funder_a, manager_a, approve_by=operator)
    job = printing.start_printing(order, actor=operator)
    printing.plan_job(job.pk)
    assert printing.status(order)["stalled"] is False
    with pytest.raises(DomainError) as refused:
        printing.restart_printing(order, actor=operator)
    assert (refused.value.code, refused.value.status) == ("not_stalled", 409)
    assert printing.resume_stalled_jobs() == []
    assert not AuditEvent.objects.filter(action="order.print_restarted").exists()


def test_the_beat_job_restarts_a_stalled_job_once_per_stall_period(
        clock, settings, stalled, django_capture_on_commit_callbacks):
    import datetime

    from aptic.celery import app

    entry = next(entry for entry in settings.CELERY_BEAT_SCHEDULE.values()
                 if entry["task"].endswith("resume_stalled_print_jobs_task"))
    assert entry["task"] in app.tasks and entry["schedule"] <= 60
    order, job = stalled
    with django_capture_on_commit_callbacks() as sent:  # the messages are lost again
        assert app.tasks[entry["task"]].delay().get() == [job.pk]
        assert printing.resume_stalled_jobs() == []  # restarted lately: wait
    assert len(sent) == 1
    event = AuditEvent.objects.get(action="order.print_restarted")
    assert (event.actor, event.details["automatic"]) == (None, True)
    # Still no progress a stall period later: the beat job tries again, and it prints.
    clock.shift(minutes=settings.PRINT_STALL_MINUTES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert printing.resume_stalled_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.state == PrintJob.State.PRINTED
    assert job.restarted_at > clock.now - datetime.timedelta(minutes=1)


def test_a_chunk_that_keeps_killing_its_worker_fails_the_job_instead_of_looping(
        stalled):
    order, job = stalled
    chunk = job.chunks.filter(state=PrintChunk.State.PENDING).order_by("index").first()
    PrintChunk.objects.filter(pk=chunk.pk).update(attempts=printing.MAX_CHUNK_ATTEMPTS)
    assert printing.render_chunk(chunk.pk) is False
    job.refresh_from_db()
    assert job.state == PrintJob.State.FAILED
    assert f"commencé {printing.MAX_CHUNK_ATTEMPTS} fois" in job.error
    assert AuditEvent.objects.filter(action="order.print_failed").count() == 1
    assert printing.resume_stalled_jobs() == []
