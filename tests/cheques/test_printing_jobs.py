"""Printing issued orders from the database: jobs, chunks, Celery, downloads, permissions."""

import io
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image
from pypdf import PdfReader

from aptic.models import AuditEvent
from cheques import codes, print_jobs
from cheques.models import Booklet, Cheque, PrintChunk, PrintJob
from cheques.print_tasks import CRASH_ONCE_ENV
from cheques.printing import SLOT_H, SLOT_Y
from tests.cheques.test_printing_engine import CODE, NUMBER, read_pages


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
    job = print_jobs.current_job(order)
    assert job.state == PrintJob.State.PRINTED
    assert (job.done, job.total, job.chunk_count, job.pages) == (35, 35, 3, 5 * 3)
    assert job.warnings == []
    path = print_jobs.file_path(job)
    assert path.is_file() and print_jobs.print_root() in path.parents
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # chunks removed
    check_pdf_against_database(path, order)
    assert AuditEvent.objects.filter(action="order.printed", object_id=str(order.pk)).count() == 1


def test_the_order_api_shows_the_printing_and_serves_the_pdf(
        api, make_order, funder_a, manager_a, operator, django_capture_on_commit_callbacks):
    waiting = make_order(funder_a, manager_a)
    api.force_authenticate(manager_a)
    assert api.get(f"/api/v1/orders/{waiting.pk}/").json()["print"] == {
        "state": None, "done": 0, "total": 0}
    assert api.get(f"/api/v1/orders/{waiting.pk}/pdf/").status_code == 409
    order = printed_order(make_order, funder_a, manager_a, operator,
                          django_capture_on_commit_callbacks)
    assert api.get(f"/api/v1/orders/{order.pk}/").json()["print"] == {
        "state": "printed", "done": 10, "total": 10}
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
    job = print_jobs.current_job(order)
    urls = [f"/commandes/{order.pk}/impression/pdf/", f"/impressions/{job.pk}/pdf/",
            f"/commandes/{order.pk}/impression/etat.json"]
    for user in (manager_b, mediator, None):
        client.logout()
        api.force_authenticate(user)
        if user:
            client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == (404 if user else 403), (user, url)
        # Nobody but the funder and the operator learns that the order exists.
        assert api.get(f"/api/v1/orders/{order.pk}/pdf/").status_code == 404, user
    # Never a public media URL.
    relative = print_jobs.file_path(job).relative_to(print_jobs.print_root().parent.parent)
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
    client.force_login(manager_a)
    assert client.post(f"/commandes/{order.pk}/imprimer/").status_code == 404
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
    lost = print_jobs.start_printing(order, actor=operator)  # its task is never sent here
    with pytest.raises(print_jobs.PrintError):
        print_jobs.start_printing(order, actor=operator)
    PrintJob.objects.filter(pk=lost.pk).update(
        created_at=clock.now - datetime.timedelta(minutes=16))
    again = print_jobs.start_printing(order, actor=operator)
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
    job = print_jobs.current_job(order)
    assert job.state == PrintJob.State.PRINTED
    assert [warning["code"] for warning in job.warnings] == ["logo_unreadable"]
    check_pdf_against_database(print_jobs.file_path(job), order)
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
    job = print_jobs.current_job(order)
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
    text = " ".join(page.extract_text() for page in PdfReader(print_jobs.file_path(job)).pages)
    assert set(NUMBER.findall(text)) == set(booklet.cheques.values_list("number", flat=True))
    # The whole order's PDF is still the current one.
    assert print_jobs.current_job(order).booklet is None
    assert client.post(f"/commandes/{order.pk}/reimprimer-un-carnet/",
                       {"booklet": "2000-999999"}).status_code == 400
    client.force_login(manager_a)
    assert client.get(f"/impressions/{job.pk}/pdf/").status_code == 200
    client.force_login(manager_b)
    assert client.get(f"/impressions/{job.pk}/pdf/").status_code == 404


def test_a_chunk_that_crashed_after_writing_is_rewritten_and_counted_once(
        make_order, funder_a, manager_a, operator, small_chunks):
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=6,
                       cheques_per_booklet=10)  # printing is not started: no commit here
    with transaction.atomic():
        job = print_jobs.start_printing(order, actor=operator)
    chunk_ids = print_jobs.plan_job(job.pk)
    assert len(chunk_ids) == 3

    def crash(path):
        path.write_bytes(path.read_bytes()[:500])  # a half-written file, then the crash
        raise SystemExit("worker lost")

    with pytest.raises(SystemExit):
        print_jobs.render_chunk(chunk_ids[0], after_write=crash)
    first = PrintChunk.objects.get(pk=chunk_ids[0])
    assert (first.state, first.attempts) == (PrintChunk.State.PENDING, 1)
    assert print_jobs.plan_job(job.pk) == chunk_ids  # a redelivered job task resends all
    ready = [print_jobs.render_chunk(chunk_id) for chunk_id in chunk_ids]
    assert ready == [False, False, True]
    assert print_jobs.render_chunk(chunk_ids[0]) is True  # redelivered again: no recount
    job.refresh_from_db()
    assert (job.done, job.chunks_done, job.state) == (60, 3, PrintJob.State.MERGING)
    print_jobs.merge_job(job.pk)
    print_jobs.merge_job(job.pk)  # a second merge changes nothing
    job.refresh_from_db()
    assert job.state == PrintJob.State.PRINTED
    check_pdf_against_database(print_jobs.file_path(job), order)


@pytest.fixture
def crash_once(tmp_path, monkeypatch):
    flag = tmp_path / "crash-once"
    flag.write_text("the first chunk task to see this file kills its worker process")
    monkeypatch.setenv(CRASH_ONCE_ENV, str(flag))
    return flag


def wait_for(job, states, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.state in states:
            return job
        time.sleep(0.3)
    pytest.fail(f"job {job.pk} still {job.state} after {seconds} s")


def test_a_worker_killed_in_the_middle_of_a_chunk_still_ends_with_a_complete_pdf(
        print_media, small_chunks, crash_once, celery_worker, make_order, funder_a,
        manager_a, operator):
    order = make_order(funder_a, manager_a, approve_by=operator, booklets=8,
                       cheques_per_booklet=10)  # issued; printing goes to the worker
    job = wait_for(PrintJob.objects.get(order=order),
                   {PrintJob.State.PRINTED, PrintJob.State.FAILED})
    assert job.state == PrintJob.State.PRINTED, job.error
    assert not crash_once.exists(), "no chunk task crashed"
    attempts = sorted(job.chunks.values_list("attempts", flat=True))
    assert attempts == [1, 1, 1, 2]  # the killed chunk ran again, the others once
    assert (job.done, job.total, job.chunks_done) == (80, 80, 4)
    check_pdf_against_database(print_jobs.file_path(job), order)
