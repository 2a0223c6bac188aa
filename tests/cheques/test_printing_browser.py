"""The funder watches the printing of their order and downloads the PDF."""

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from cheques import printing
from cheques.models import PrintJob
from cheques.tasks import print_job_task
from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def print_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_the_funder_sees_the_progress_bar_reach_100_and_downloads_the_pdf(
        page, demo, make_order, operator):
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator, booklets=3)
    assert printing.current_job(order).state == PrintJob.State.PRINTED  # at approval
    # The operator prints again; the job waits for a worker while the funder looks.
    again = PrintJob.objects.create(order=order, requested_by=operator,
                                    total=order.cheque_count)

    log_in(page, "financeur")
    page.goto(f"/commandes/{order.pk}/impression/")
    block = page.locator("[data-print-progress]")
    bar = block.get_by_role("progressbar", name="Progression de l’impression")
    expect(bar).to_have_attribute("value", "0")
    expect(block.get_by_text("En attente")).to_be_visible()
    download = block.get_by_role("link", name="Télécharger le PDF")
    expect(download).to_be_hidden()

    print_job_task.delay(again.pk)  # a worker takes the job (inline here)

    expect(bar).to_have_attribute("value", "100")
    expect(block.locator("[data-print-percent]")).to_have_text("100")
    expect(block.locator("[data-print-done]")).to_have_text("15")
    expect(block.get_by_text("Imprimé", exact=True)).to_be_visible()
    expect(download).to_be_visible()
    with page.expect_download() as info:
        download.click()
    pdf = info.value
    assert pdf.suggested_filename == f"cheques-aptic-commande-{order.pk}.pdf"
    reader = PdfReader(pdf.path())
    assert len(reader.pages) == 3 * 2
    text = " ".join(p.extract_text() for p in reader.pages)
    assert all(number in text for number in
               order.cheques.values_list("number", flat=True))
