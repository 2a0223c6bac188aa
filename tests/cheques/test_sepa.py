import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.conf import settings
from django.utils import formats

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import invoicing, reimbursement
from cheques.models import PaymentBatch, Statement
from places import banking
from tests.cheques.reimbursement_support import BIC_B, IBAN_B, bank, redeem
from tests.helpers import pdf_text, signed_in

pytestmark = pytest.mark.django_db

XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.03.xsd"
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"}


@pytest.fixture
def validated(clock, issued, place, mediator_x, other_place, mediator_y, operator):
    """Two validated statements: 3 cheques at place, 2 at the other structure."""
    redeem(issued, mediator_x, place, 3, now=clock.last_month(4))
    redeem(issued, mediator_y, other_place, 2, skip=3, now=clock.last_month(9))
    statements = reimbursement.run(actor=operator)
    return [reimbursement.validate(s, actor=operator) for s in statements]


def test_the_sepa_file_validates_against_the_xsd_and_sums_the_statements(
    validated, place, other_place, operator, settings
):
    bank(place.structure, holder="Association Clic & Lien — Bordeaux")
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    batch = reimbursement.create_batch([s.pk for s in validated], actor=operator)
    xml = batch.sepa_xml.encode()
    xmlschema.XMLSchema(str(XSD)).validate(xml)  # raises on any error
    root = ET.fromstring(xml)
    header_sum = Decimal(root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", NS).text)
    assert header_sum == Decimal(sum(s.total_cents for s in validated)) / 100 == Decimal("50")
    assert batch.total_cents == 5000 and batch.transfers == 2
    assert root.find("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", NS).text == "2"
    transfers = root.findall(".//p:CdtTrfTxInf", NS)
    by_iban = {t.find("p:CdtrAcct/p:Id/p:IBAN", NS).text: t for t in transfers}
    mine = by_iban["FR7630006000011234567890189"]
    assert mine.find("p:Amt/p:InstdAmt", NS).text == "30.00"
    assert mine.find("p:CdtrAgt/p:FinInstnId/p:BIC", NS).text == "AGRIFRPP"
    assert mine.find("p:Cdtr/p:Nm", NS).text.startswith("Association Clic")
    assert by_iban[IBAN_B].find("p:Amt/p:InstdAmt", NS).text == "20.00"
    debtor = root.find(".//p:PmtInf/p:DbtrAcct/p:Id/p:IBAN", NS).text
    assert debtor == settings.OPERATOR_IBAN
    assert set(Statement.objects.values_list("batch", flat=True)) == {batch.pk}
    assert AuditEvent.objects.filter(action="payment_batch.created").count() == 1


def test_a_structure_without_bank_details_is_blocked_with_its_reason_and_nothing_changes(
    validated, place, other_place, operator
):
    bank(place.structure)  # the other structure has no bank details at all
    blocked = reimbursement.blocked_structures()
    assert [(s.pk, cents) for s, _reason, cents in blocked] == [
        (other_place.structure_id, 2000)]
    assert "absentes" in blocked[0][1]
    with pytest.raises(DomainError) as caught:
        reimbursement.create_batch([s.pk for s in validated], actor=operator)
    assert caught.value.code == "blocked_structures"
    assert other_place.structure.name in caught.value.detail
    assert caught.value.extra["blocked"][0]["structure"] == other_place.structure_id
    assert not PaymentBatch.objects.exists()
    assert not Statement.objects.exclude(batch=None).exists()
    assert not AuditEvent.objects.filter(action__startswith="payment_batch").exists()


@pytest.mark.parametrize(("iban", "bic", "holder", "reason"), [
    ("FR7630006000011234567890188", BIC_B, "X", "IBAN"),
    (IBAN_B, "NOTABIC", "X", "BIC"),
    (IBAN_B, BIC_B, "", "Titulaire"),
])
def test_invalid_bank_details_are_named(structure, iban, bic, holder, reason):
    bank(structure, iban=iban, bic=bic, holder=holder)
    assert reason in reimbursement.blocked_reason(structure)


def test_only_validated_statements_not_yet_in_a_batch_are_paid(clock, validated, issued, place,
                                                               mediator_x, other_place,
                                                               operator):
    bank(place.structure)
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    redeem(issued, mediator_x, place, 1, skip=6, now=clock.last_month(20))
    [draft] = reimbursement.run(actor=operator)
    with pytest.raises(DomainError) as caught:
        reimbursement.create_batch([validated[0].pk, draft.pk], actor=operator)
    assert caught.value.code == "not_validated"
    reimbursement.create_batch([validated[0].pk], actor=operator)
    with pytest.raises(DomainError) as caught:
        reimbursement.create_batch([validated[0].pk, validated[1].pk], actor=operator)
    assert caught.value.code == "already_in_batch"
    assert PaymentBatch.objects.count() == 1
    with pytest.raises(DomainError) as caught:
        reimbursement.create_batch([], actor=operator)
    assert caught.value.code == "no_statements"
    with pytest.raises(DomainError) as caught:
        reimbursement.create_batch([999999], actor=operator)
    assert caught.value.code == "unknown_statement"


# --- what the bank reads: names in the SEPA Latin set, the message id, IBANs for people --


@pytest.mark.parametrize(("name", "expected"), [
    ("Association Clic & Lien", "Association Clic et Lien"),
    ("Clic&Lien", "Clic et Lien"),
    ("Médiathèque Émile-Zola — Saint-Étienne", "Mediatheque Emile-Zola - Saint-Etienne"),
    ("L’Œuvre d’Ève", "L'OEuvre d'Eve"),
    ("Tiers-lieu « Le Garage » @ Brest ; n° 2", "Tiers-lieu Le Garage Brest no 2"),
    ("  Espaces   multiples\tet\nlignes ", "Espaces multiples et lignes"),
])
def test_a_creditor_name_is_converted_to_the_sepa_latin_character_set(name, expected):
    converted = reimbursement.sepa_latin(name, 70)
    assert converted == expected
    assert set(converted) <= reimbursement.SEPA_CHARACTERS


def test_a_converted_name_is_cut_to_the_length_the_field_allows():
    converted = reimbursement.sepa_latin("Association & " + "x" * 100, 70)
    assert len(converted) == 70 and converted.startswith("Association et xxx")


def test_the_creditor_association_clic_et_lien_reaches_the_file_with_its_et(
    validated, place, other_place, operator
):
    bank(place.structure, holder="Association Clic & Lien")
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    batch = reimbursement.create_batch([s.pk for s in validated], actor=operator)
    xmlschema.XMLSchema(str(XSD)).validate(batch.sepa_xml.encode())
    names = [node.text for node in ET.fromstring(batch.sepa_xml).findall(".//p:Cdtr/p:Nm", NS)]
    assert "Association Clic et Lien" in names


@pytest.mark.parametrize(("hour", "minute", "second"), [(16, 44, 13), (0, 5, 0), (12, 0, 1),
                                                        (23, 59, 59)])
def test_the_message_id_reads_the_paris_time_on_a_24_hour_clock(clock, hour, minute, second):
    moment = clock.at(clock.today, hour, minute).replace(second=second)
    message_id = reimbursement.message_id(moment)
    stamp, random_part = message_id.split("-")
    assert stamp == f"{clock.today:%Y%m%d}{hour:02d}{minute:02d}{second:02d}"
    assert len(random_part) == 12 and len(message_id) <= 35
    assert message_id != reimbursement.message_id(moment)


def test_the_file_of_a_batch_made_in_the_afternoon_carries_its_24_hour_time(
    clock, validated, place, other_place, operator
):
    bank(place.structure)
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    clock.move_to(clock.at(clock.today, 16, 44))
    batch = reimbursement.create_batch([s.pk for s in validated], actor=operator)
    header = ET.fromstring(batch.sepa_xml).find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header.find("p:MsgId", NS).text == batch.message_id
    assert batch.message_id.startswith(f"{clock.today:%Y%m%d}1644")
    assert header.find("p:CreDtTm", NS).text.startswith(f"{clock.today:%Y-%m-%d}T16:44")
    xmlschema.XMLSchema(str(XSD)).validate(batch.sepa_xml.encode())


def test_an_iban_is_grouped_by_four_for_people():
    assert banking.format_iban("FR7630006000011234567890189") == (
        "FR76 3000 6000 0112 3456 7890 189")
    assert banking.format_iban(" fr76 3000 6000 0112 3456 7890 189 ") == (
        "FR76 3000 6000 0112 3456 7890 189")
    assert banking.format_iban("") == ""


def test_the_statement_pdf_and_the_invoice_print_the_iban_in_groups_of_four(
    validated, place, issued
):
    bank(place.structure)
    statement = next(s for s in validated if s.structure_id == place.structure_id)
    text = pdf_text(reimbursement.statement_pdf(statement))
    assert "FR76 3000 6000 0112 3456 7890 189" in text
    assert "FR7630006000011234567890189" not in text
    invoice = pdf_text(invoicing.invoice_pdf(invoicing.invoice_of(issued)))
    assert banking.format_iban(settings.OPERATOR_IBAN) in invoice


def test_the_place_manager_sees_the_payment_date_of_a_paid_statement(
    clock, validated, place, other_place, operator, manager_x
):
    bank(place.structure)
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    batch = reimbursement.create_batch([s.pk for s in validated], actor=operator)
    statement = next(s for s in validated if s.structure_id == place.structure_id)
    client = signed_in(manager_x)
    assert '<td data-label="Payé le" class="paid-on">—</td>' in client.get(
        "/remboursements/").content.decode()
    reimbursement.mark_paid(batch, actor=operator)
    statement.refresh_from_db()
    paid_on = formats.date_format(statement.paid_on, "SHORT_DATE_FORMAT")
    listing = client.get("/remboursements/").content.decode()
    assert f'<td data-label="Payé le" class="paid-on">{paid_on}</td>' in listing
    detail = client.get(f"/remboursements/releves/{statement.pk}/").content.decode()
    assert f'id="paid-on">{statement.paid_on:%d/%m/%Y}<' in detail
