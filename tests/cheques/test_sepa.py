import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest
import sepaxml
import xmlschema

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import reimbursement
from cheques.models import PaymentBatch, Statement
from tests.cheques.reimbursement_support import BIC_B, IBAN_B, bank, redeem

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
