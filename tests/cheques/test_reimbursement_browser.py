"""In Chromium: the operator uploads the bank's status report for a batch, and the place
manager then reads the payment date on the structure's statement."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cheques import redemption, reimbursement
from cheques.models import PaymentBatch
from tests.cheques import bank_files
from tests.cheques.redemption_fixtures import codes_of
from tests.cheques.reimbursement_support import SERVICE, bank
from tests.factories import make_place
from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAID_ON = datetime.date(2027, 1, 7)


def test_the_operator_uploads_a_status_report_and_the_place_manager_sees_the_payment_date(
    page, demo, make_order
):
    operator, structure = demo["operateur"], demo["structure"]
    place = make_place(structure, name="Médiathèque du Lac")
    order = make_order(demo["funder"], demo["financeur"], approve_by=operator)
    result = redemption.redeem(user=demo["mediateur"], place=place.pk, service=SERVICE,
                               codes=codes_of(order, 2))
    bank(structure)
    [statement] = reimbursement.run(
        until=timezone.localdate(result.redemptions[0].redeemed_at), actor=operator)
    reimbursement.validate(statement, actor=operator)
    batch = reimbursement.create_batch([statement.pk], actor=operator)
    transfer = batch.credit_transfers.get()
    report = bank_files.status_report(batch, group="ACSC", accepted_on=PAID_ON, transactions=[
        (transfer.end_to_end_id, "ACSC", "", "")])

    log_in(page, "operateur")
    page.goto("/remboursements/")
    page.get_by_label("Fichier de la banque (XML)").set_input_files({
        "name": "statut-banque.xml", "mimeType": "application/xml",
        "buffer": report.encode()})
    page.get_by_role("button", name="Lire le fichier").click()
    expect(page.locator(".message.success")).to_contain_text("1 payé(s)")
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.PAID
    page.get_by_role("link", name=str(batch.pk), exact=True).click()
    expect(page.locator("#batch-state")).to_have_text("Payé")
    expect(page.locator("#transfers")).to_contain_text("07/01/2027")

    page.context.clear_cookies()
    page.set_viewport_size({"width": 360, "height": 740})
    log_in(page, "gestionnaire")
    page.goto("/remboursements/")
    page.get_by_role("link", name=statement.reference).first.click()
    expect(page.locator("#paid-on")).to_have_text("07/01/2027")
    expect(page.locator("#transfers")).to_contain_text(transfer.end_to_end_id)
