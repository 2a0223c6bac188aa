"""The bank's answer to our SEPA batches: status reports, account notifications and account
statements written for the tests (tests/cheques/bank_files.py). States, e-mails, ledger
balances and what the place manager sees."""

import csv
import datetime
import io

import pytest
import xmlschema
from django.core import mail
from django.urls import reverse

from aptic.errors import DomainError
from aptic.models import AuditEvent, Organisation, Role
from cheques import bank_reports, ledger, reimbursement
from cheques.models import BankFile, Cheque, PaymentBatch, Statement, Transfer
from tests.cheques import bank_files
from tests.cheques.reimbursement_support import BIC_B, IBAN_B, bank, redeem
from tests.factories import member
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db

BOOKED = datetime.date(2027, 1, 7)


@pytest.fixture
def manager_y(other_place):
    return member(Role.PLACE_MANAGER, other_place.structure, email="gestion@autre.example")


@pytest.fixture
def batch(clock, issued, place, mediator_x, other_place, mediator_y, operator, manager_x,
          manager_y):
    """A batch of two transfers: 30 € to structure X (3 cheques), 20 € to structure Y."""
    bank(place.structure)
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    redeem(issued, mediator_x, place, 3, now=clock.last_month(4))
    redeem(issued, mediator_y, other_place, 2, skip=3, now=clock.last_month(9))
    statements = [reimbursement.validate(s, actor=operator)
                  for s in reimbursement.run(actor=operator)]
    return reimbursement.create_batch([s.pk for s in statements], actor=operator)


def transfer_of(batch, structure):
    return batch.credit_transfers.get(structure=structure)


@pytest.fixture
def read(django_capture_on_commit_callbacks):
    """Read a bank file as the operator, with the e-mails sent at commit."""
    def reading(xml, operator):
        with django_capture_on_commit_callbacks(execute=True):
            return bank_reports.read(xml.encode(), actor=operator, name="banque.xml")
    return reading


def assert_ledger_reconciles():
    assert ledger.check() == []


SCHEMAS = {kind: xmlschema.XMLSchema(str(bank_reports.SCHEMA_DIR / f"{kind}.xsd"))
           for kind in BankFile.Kind.values}


def test_the_test_files_are_valid_against_the_official_schemas(batch, place):
    x = transfer_of(batch, place.structure)
    SCHEMAS["pain.002.001.03"].validate(bank_files.status_report(
        batch, group="PART", transactions=[(x.end_to_end_id, "RJCT", "AC04", "Compte clos")]))
    transfers = list(batch.credit_transfers.all())
    SCHEMAS["camt.054.001.02"].validate(bank_files.notification(transfers, booked=BOOKED))
    SCHEMAS["camt.054.001.02"].validate(bank_files.notification(
        transfers, booked=BOOKED, returns={x.end_to_end_id: "AC04"}))
    SCHEMAS["camt.053.001.02"].validate(bank_files.account_statement(transfers, booked=BOOKED))


def test_each_transfer_carries_its_own_end_to_end_id_in_the_sepa_file(batch):
    transfers = list(batch.credit_transfers.order_by("pk"))
    assert [t.end_to_end_id for t in transfers] == [
        f"APTIC-{t.statement.reference}-1" for t in transfers]
    for transfer in transfers:
        assert f"<EndToEndId>{transfer.end_to_end_id}</EndToEndId>" in batch.sepa_xml
    assert batch.state == PaymentBatch.State.DRAFT


def test_downloading_the_sepa_file_sends_the_batch_once(batch, operator):
    client = signed_in(operator)
    url = reverse("reimbursement-batch-sepa", args=[batch.pk])
    assert client.get(url).status_code == 200
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.SENT and batch.sent_by == operator
    client.get(url)
    assert AuditEvent.objects.filter(action="payment_batch.sent").count() == 1


def test_an_accepted_batch_then_a_notification_of_the_debits_pays_the_places(
    batch, place, other_place, operator, issued, manager_x, read):
    outcome = read(bank_files.status_report(batch, group="ACCP"), operator)
    assert outcome.counts == {"accepted": 2, "paid": 0, "rejected": 0, "unchanged": 0}
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.ACCEPTED
    assert set(Statement.objects.values_list("state", flat=True)) == {"validated"}
    assert ledger.balance(issued)["paid_cents"] == 0
    transfers = list(batch.credit_transfers.all())
    # The account notification: the debits of our two transfers, with the credited amounts,
    # and a funder's payment of the same day that is none of ours.
    outcome = read(bank_files.notification(transfers, booked=BOOKED), operator)
    assert outcome.counts["paid"] == 2
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.PAID and batch.paid_at is not None
    assert set(Statement.objects.values_list("state", "paid_on")) == {("paid", BOOKED)}
    assert issued.cheques.filter(state=Cheque.State.REIMBURSED).count() == 5
    balance = ledger.balance(issued)
    assert (balance["paid_cents"], balance["redeemed_unpaid_cents"]) == (5000, 0)
    assert_ledger_reconciles()
    # The place manager sees the payment date on the statement and in its CSV.
    mine = Statement.objects.get(structure=place.structure)
    page = signed_in(manager_x).get(reverse("reimbursement-statement", args=[mine.pk]))
    assert f'<dd id="paid-on">{BOOKED:%d/%m/%Y}</dd>' in page.content.decode()
    rows = list(csv.reader(io.StringIO(reimbursement.statement_csv(mine).lstrip("\ufeff")),
                           delimiter=";"))
    assert rows[0][-3:] == ["montant (centimes)", "date du relevé", "date de paiement"]
    assert {row[-1] for row in rows[1:]} == {BOOKED.isoformat()}


def test_a_partly_rejected_batch_puts_the_statement_back_to_pay_and_tells_the_manager(
    batch, place, other_place, operator, issued, manager_x, manager_y, read):
    y = transfer_of(batch, other_place.structure)
    x = transfer_of(batch, place.structure)
    mail.outbox.clear()
    read(bank_files.status_report(batch, group="PART", transactions=[
        (y.end_to_end_id, "RJCT", "AC04", "COMPTE CLOTURE")]), operator)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.PARTLY_REJECTED
    y.refresh_from_db()
    x.refresh_from_db()
    assert (x.state, y.state) == (Transfer.State.ACCEPTED, Transfer.State.REJECTED)
    assert (y.reason_code, y.reason_detail, y.bank_details_to_fix) == (
        "AC04", "COMPTE CLOTURE", True)
    theirs = y.statement
    theirs.refresh_from_db()
    assert theirs.state == Statement.State.TO_REPAY and theirs.batch_id is None
    assert theirs.get_state_display() == "À repayer"
    # The manager of Y is told why, in words.
    [message] = mail.outbox
    assert message.to == ["gestion@autre.example"]
    assert theirs.reference in message.subject
    assert "AC04 — compte clôturé" in message.body and "20,00 €" in message.body
    assert "/structure/banque/" in message.body
    # Y's bank details are flagged: the next batch cannot retry until they change.
    assert "compte clôturé" in reimbursement.blocked_reason(other_place.structure)
    assert reimbursement.blocked_reason(place.structure) is None
    with pytest.raises(DomainError) as caught:
        reimbursement.create_batch([theirs.pk], actor=operator)
    assert caught.value.code == "blocked_structures"
    page = signed_in(manager_y).get(reverse("reimbursement-statement", args=[theirs.pk]))
    assert "à repayer : virement rejeté par la banque" in page.content.decode()
    assert "AC04 — compte clôturé" in page.content.decode()
    # X's transfer is paid by the account statement of the day: the batch is paid.
    read(bank_files.account_statement([x], booked=BOOKED), operator)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.PAID
    assert ledger.balance(issued)["paid_cents"] == 3000
    assert_ledger_reconciles()
    # New bank details: the statement goes in the next batch, as a second transfer.
    bank(other_place.structure, iban="FR1420041010050500013M02606", bic="PSSTFRPP")
    assert reimbursement.blocked_reason(Organisation.objects.get(
        pk=other_place.structure_id)) is None
    again = reimbursement.create_batch([theirs.pk], actor=operator)
    retry = again.credit_transfers.get()
    assert retry.end_to_end_id == f"APTIC-{theirs.reference}-2"
    assert retry.iban == "FR1420041010050500013M02606"
    read(bank_files.status_report(again, group="ACSC", accepted_on=BOOKED, transactions=[
        (retry.end_to_end_id, "ACSC", "", "")]), operator)
    theirs.refresh_from_db()
    assert (theirs.state, theirs.paid_on) == (Statement.State.PAID, BOOKED)
    assert ledger.balance(issued)["paid_cents"] == 5000
    assert_ledger_reconciles()


def test_a_rejected_batch_leaves_every_statement_to_pay_again(batch, operator, issued, read):
    mail.outbox.clear()
    read(bank_files.status_report(batch, group="RJCT", group_reason="AM04"), operator)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.REJECTED
    assert set(Statement.objects.values_list("state", flat=True)) == {"to_repay"}
    assert set(batch.credit_transfers.values_list("reason_code", flat=True)) == {"AM04"}
    # The operator's own account lacked funds: nothing for the structures to fix.
    assert not batch.credit_transfers.filter(bank_details_to_fix=True).exists()
    assert len(mail.outbox) == 2
    assert all("provision insuffisante" in m.body for m in mail.outbox)
    with pytest.raises(DomainError) as caught:
        reimbursement.mark_paid(batch, actor=operator)
    assert caught.value.code == "batch_rejected"
    assert ledger.balance(issued)["paid_cents"] == 0
    again = reimbursement.create_batch(
        list(Statement.objects.values_list("pk", flat=True)), actor=operator)
    assert again.transfers == 2
    assert_ledger_reconciles()


def test_a_notification_whose_amount_differs_is_refused_and_changes_nothing(batch, operator,
                                                                            place, read):
    x = transfer_of(batch, place.structure)
    before = AuditEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        read(bank_files.notification([x], booked=BOOKED, amounts={x.end_to_end_id: 2999}),
             operator)
    assert caught.value.code == "amount_mismatch" and caught.value.status == 422
    assert "29,99\u00a0€" in caught.value.detail and "30,00\u00a0€" in caught.value.detail
    assert AuditEvent.objects.count() == before
    assert not BankFile.objects.exists()
    assert not Transfer.objects.exclude(state="pending").exists()


@pytest.mark.parametrize(("content", "code", "words"), [
    ("", "empty_file", "vide"),
    ("<Document><CstmrPmtStsRpt>", "malformed_file", "XML"),
    ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>', "malformed_file",
     "XML"),
    ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "unknown_format",
     "pain.002.001.03"),
    ('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"><CstmrPmtStsRpt>'
     "<GrpHdr><MsgId>X</MsgId></GrpHdr></CstmrPmtStsRpt></Document>", "malformed_file",
     "schéma pain.002.001.03"),
])
def test_a_malformed_file_is_refused_with_a_clear_message(batch, operator, content, code,
                                                          words, read):
    with pytest.raises(DomainError) as caught:
        read(content, operator)
    assert caught.value.code == code and words in caught.value.detail
    assert not BankFile.objects.exists()


def test_a_status_report_with_a_wrong_status_code_is_refused(batch, operator, read):
    xml = bank_files.status_report(batch, group="ACCP").replace(
        "<GrpSts>ACCP</GrpSts>", "<GrpSts>OKAY</GrpSts>")
    with pytest.raises(DomainError) as caught:
        read(xml, operator)
    assert caught.value.code == "malformed_file" and "GrpSts" in caught.value.detail
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.DRAFT


def test_a_file_for_an_unknown_batch_or_transfer_is_refused(batch, operator, place, read):
    with pytest.raises(DomainError) as caught:
        read(bank_files.status_report(batch, original_id="20270101120000-ffffffffffff"),
             operator)
    assert caught.value.code == "unknown_batch"
    assert "20270101120000-ffffffffffff" in caught.value.detail
    with pytest.raises(DomainError) as caught:
        read(bank_files.status_report(batch, group="PART", transactions=[
            ("APTIC-R999999-1", "RJCT", "AC01", "")]), operator)
    assert caught.value.code == "unknown_transfer" and "APTIC-R999999-1" in caught.value.detail
    x = transfer_of(batch, place.structure)
    foreign = bank_files.notification([x], booked=BOOKED).replace(
        x.end_to_end_id, "FACTURE-42")
    with pytest.raises(DomainError) as caught:
        read(foreign, operator)
    assert caught.value.code == "unknown_batch"
    with pytest.raises(DomainError) as caught:
        read(bank_files.notification([x], booked=BOOKED, account=IBAN_B), operator)
    assert caught.value.code == "other_account"
    assert not BankFile.objects.exists()
    assert set(Transfer.objects.values_list("state", flat=True)) == {"pending"}


def test_the_same_file_twice_changes_nothing_the_second_time(batch, operator, other_place, read):
    y = transfer_of(batch, other_place.structure)
    xml = bank_files.status_report(batch, group="PART", transactions=[
        (y.end_to_end_id, "RJCT", "AC01", "IBAN INCORRECT")])
    mail.outbox.clear()
    first = read(xml, operator)
    events = AuditEvent.objects.count()
    second = read(xml, operator)
    assert second.duplicate and second.file == first.file
    assert "déjà été lu" in bank_reports.summary_text(second)
    assert AuditEvent.objects.count() == events
    assert len(mail.outbox) == 1 and BankFile.objects.count() == 1
    # Sent again with another layout (same message id): still the same file.
    third = read(xml.replace("  ", " "), operator)
    assert third.duplicate and BankFile.objects.count() == 1


def test_a_transfer_returned_after_it_was_paid_is_to_pay_again(batch, operator, place, issued,
                                                               read):
    x = transfer_of(batch, place.structure)
    read(bank_files.notification([x], booked=BOOKED), operator)
    x.refresh_from_db()
    assert x.state == Transfer.State.PAID
    read(bank_files.notification([x], booked=BOOKED + datetime.timedelta(days=3),
                                 returns={x.end_to_end_id: "MD07"}), operator)
    x.refresh_from_db()
    assert (x.state, x.reason_code, x.paid_on) == (Transfer.State.REJECTED, "MD07", None)
    assert x.statement.state == Statement.State.TO_REPAY
    assert issued.cheques.filter(state=Cheque.State.REIMBURSED).count() == 0
    assert ledger.balance(issued)["paid_cents"] == 0
    assert_ledger_reconciles()


def test_the_operator_uploads_through_the_page_and_the_api(batch, operator, manager_x, api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    xml = bank_files.status_report(batch, group="ACCP").encode()
    client = signed_in(operator)
    response = client.post(reverse("reimbursement-bank-file"), {
        "file": SimpleUploadedFile("statut.xml", xml, "application/xml")}, follow=True)
    assert "2 virement(s) accepté(s)" in response.content.decode()
    response = client.post(reverse("reimbursement-bank-file"), {
        "file": SimpleUploadedFile("statut.xml", xml, "application/xml")}, follow=True)
    assert "déjà été lu" in response.content.decode()
    response = client.post(reverse("reimbursement-bank-file"), {
        "file": SimpleUploadedFile("n.xml", b"<pas du xml", "application/xml")}, follow=True)
    assert "XML lisible" in response.content.decode()
    page = client.get(reverse("reimbursement-batch", args=[batch.pk])).content.decode()
    assert "Accepté par la banque" in page
    api.force_authenticate(operator)
    response = api.post("/api/v1/payouts/bank-files/", {
        "file": SimpleUploadedFile("statut.xml", xml, "application/xml")}, format="multipart")
    assert response.status_code == 200 and response.json()["duplicate"] is True
    transfers = list(batch.credit_transfers.all())
    response = api.post("/api/v1/payouts/bank-files/", {
        "file": SimpleUploadedFile("avis.xml", bank_files.notification(
            transfers, booked=BOOKED).encode(), "application/xml")}, format="multipart")
    assert response.status_code == 201
    assert response.json()["counts"]["paid"] == 2 and response.json()["batches"] == [batch.pk]
    body = api.get(f"/api/v1/payouts/{batch.pk}/").json()
    assert body["state"] == "paid"
    assert {t["paid_on"] for t in body["credit_transfers"]} == {BOOKED.isoformat()}
    api.force_authenticate(manager_x)
    response = api.post("/api/v1/payouts/bank-files/", {
        "file": SimpleUploadedFile("statut.xml", xml, "application/xml")}, format="multipart")
    assert response.status_code == 403


def test_marking_a_batch_paid_by_hand_still_works_without_bank_files(batch, operator, issued):
    reimbursement.mark_paid(batch, actor=operator)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.PAID
    assert set(batch.credit_transfers.values_list("state", flat=True)) == {"paid"}
    assert ledger.balance(issued)["paid_cents"] == 5000
    assert_ledger_reconciles()
