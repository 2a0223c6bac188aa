import csv
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from aptic.models import Role
from cheques import reimbursement
from cheques.models import PaymentBatch, Statement
from places.models import Place
from tests.cheques.reimbursement_support import BIC_B, IBAN_B, bank, redeem
from tests.factories import member
from tests.helpers import CONFIRMED, HOSTILE_ADDRESS, HOSTILE_NAME, neutralised

pytestmark = pytest.mark.django_db


@pytest.fixture
def statements(clock, issued, place, mediator_x, other_place, mediator_y, operator):
    redeem(issued, mediator_x, place, 3, now=clock.last_month(4))
    redeem(issued, mediator_y, other_place, 2, skip=3, now=clock.last_month(9))
    found = reimbursement.run(actor=operator)
    return {s.structure_id: s for s in found}


@pytest.fixture
def manager_y(other_place):
    return member(Role.PLACE_MANAGER, other_place.structure)


def as_user(api, user):
    api.force_authenticate(user)
    return api


def test_a_structure_lists_only_its_own_statements_and_the_operator_all(
    api, statements, place, manager_x, manager_y, operator
):
    mine = statements[place.structure_id]
    body = as_user(api, manager_x).get("/api/v1/statements/").json()["results"]
    assert [s["id"] for s in body] == [mine.pk]
    assert body[0]["total_cents"] == 3000 and body[0]["state"] == "draft"
    assert as_user(api, operator).get("/api/v1/statements/").json()["count"] == 2
    assert as_user(api, manager_y).get("/api/v1/statements/").json()["count"] == 1


def test_structure_a_never_sees_structure_b_statement(api, statements, other_place, manager_x,
                                                      mediator_x, client):
    theirs = statements[other_place.structure_id]
    as_user(api, manager_x)
    for url in (f"/api/v1/statements/{theirs.pk}/", f"/api/v1/statements/{theirs.pk}.pdf",
                f"/api/v1/statements/{theirs.pk}.csv"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response.json()["code"] == "not_found"
    client.force_login(manager_x)
    for url in (f"/remboursements/releves/{theirs.pk}/",
                f"/remboursements/releves/{theirs.pk}.pdf",
                f"/remboursements/releves/{theirs.pk}.csv"):
        assert client.get(url).status_code == 404, url
    # A mediator (not a place manager) sees no statement at all.
    assert as_user(api, mediator_x).get("/api/v1/statements/").json()["results"] == []


def test_the_statement_detail_has_its_lines_and_totals(api, statements, place, manager_x):
    mine = statements[place.structure_id]
    body = as_user(api, manager_x).get(f"/api/v1/statements/{mine.pk}/").json()
    assert len(body["lines"]) == 3
    assert {line["amount_cents"] for line in body["lines"]} == {1000}
    assert body["totals"]["by_place"] == [{"place": place.name, "count": 3,
                                           "amount_cents": 3000}]


def test_the_statement_downloads_as_pdf_and_csv(api, statements, place, manager_x, issued):
    mine = statements[place.structure_id]
    as_user(api, manager_x)
    response = api.get(f"/api/v1/statements/{mine.pk}.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert mine.reference in text and "30,00" in text
    number = issued.cheques.order_by("number").first().number
    assert number in text
    response = api.get(f"/api/v1/statements/{mine.pk}.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["relevé", "nature", "date d’encaissement", "lieu", "chèque",
                       "service", "médiateur", "libellé", "montant (€)", "montant (centimes)",
                       "date du relevé", "date de paiement"]
    assert [row[4] for row in rows[1:4]] == list(
        issued.cheques.order_by("number").values_list("number", flat=True)[:3])
    # Not paid yet: the statement's date, no payment date.
    assert {tuple(row[10:]) for row in rows[1:]} == {
        (timezone.localdate(mine.created_at).isoformat(), "")}
    assert rows[-1][9] == "3000"


def test_a_statement_csv_writes_formula_like_names_as_text_and_amounts_as_numbers(
        clock, api, issued, place, mediator_x, manager_x, operator):
    Place.objects.filter(pk=place.pk).update(name=HOSTILE_NAME)
    mediator_x.first_name, mediator_x.last_name = HOSTILE_ADDRESS, ""
    mediator_x.save()
    redeem(issued, mediator_x, place, 2, now=clock.last_month(4))
    statement, = reimbursement.run(actor=operator)

    response = as_user(api, manager_x).get(f"/api/v1/statements/{statement.pk}.csv")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert {(row[3], row[6]) for row in rows[1:3]} == {
        (neutralised(HOSTILE_NAME), neutralised(HOSTILE_ADDRESS))}
    assert [row[8:10] for row in rows[1:]] == [["10,00", "1000"], ["10,00", "1000"],
                                               ["20,00", "2000"]]


def test_the_operator_validates_and_a_structure_cannot(api, statements, place, manager_x,
                                                       operator):
    mine = statements[place.structure_id]
    url = f"/api/v1/statements/{mine.pk}/validate/"
    response = as_user(api, manager_x).post(url)
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    response = as_user(api, operator).post(url)
    assert response.status_code == 200 and response.json()["state"] == "validated"
    response = api.post(url)
    assert response.status_code == 409
    assert response.json()["code"] == "not_draft" and "déjà" in response.json()["detail"]


def test_a_future_period_is_refused_by_the_api(api, statements, operator):
    response = as_user(api, operator).post("/api/v1/statements/", {"until": "2999-01-01"},
                                           format="json")
    assert response.status_code == 400 and response.json()["code"] == "future_period"
    response = api.post("/api/v1/statements/", {"until": "demain"}, format="json")
    assert response.json()["code"] == "invalid_date"
    assert Statement.objects.count() == 2


def test_payouts_end_to_end_through_the_api(api, statements, place, other_place, operator,
                                            manager_x, issued):
    as_user(api, operator)
    for statement in statements.values():
        api.post(f"/api/v1/statements/{statement.pk}/validate/")
    ids = sorted(s.pk for s in statements.values())
    bank(place.structure)
    response = api.post("/api/v1/payouts/", {"statements": ids}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "blocked_structures"
    assert response.json()["blocked"][0]["structure"] == other_place.structure_id
    assert not PaymentBatch.objects.exists()
    bank(other_place.structure, iban=IBAN_B, bic=BIC_B)
    response = as_user(api, manager_x).post("/api/v1/payouts/", {"statements": ids},
                                            format="json")
    assert response.status_code == 403
    response = as_user(api, operator).post("/api/v1/payouts/", {"statements": ids},
                                           format="json")
    assert response.status_code == 201
    batch_id = response.json()["id"]
    assert response.json()["total_cents"] == 5000 and response.json()["statements"] == ids
    sepa = api.get(f"/api/v1/payouts/{batch_id}/sepa.xml")
    assert sepa.status_code == 200 and b"<CtrlSum>50.00</CtrlSum>" in sepa.content
    assert as_user(api, manager_x).get(f"/api/v1/payouts/{batch_id}/sepa.xml").status_code \
        == 403
    response = as_user(api, operator).post(f"/api/v1/payouts/{batch_id}/paid/")
    assert response.status_code == 200 and response.json()["state"] == "paid"
    assert issued.cheques.filter(state="reimbursed").count() == 5


def test_funder_a_never_sees_funder_b_ledger(clock, api, issued, manager_a, manager_b, operator,
                                             place, mediator_x):
    redeem(issued, mediator_x, place, 2, now=clock.last_month())
    url = f"/api/v1/orders/{issued.pk}/ledger/"
    body = as_user(api, manager_a).get(url).json()
    assert body["balances"]["prepaid_cents"] == 10000
    assert body["balances"]["redeemed_unpaid_cents"] == 2000
    assert [e["kind"] for e in body["entries"]] == ["issue", "redeem"]
    assert as_user(api, operator).get(url).status_code == 200
    response = as_user(api, manager_b).get(url)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert as_user(api, mediator_x).get(url).status_code == 403  # no order pages at all


def test_the_operator_page_runs_validates_and_pays(clock, client, issued, place, mediator_x,
                                                   operator):
    redeem(issued, mediator_x, place, 2, now=clock.last_month(5))
    client.force_login(operator)
    page = client.get("/remboursements/")
    assert page.status_code == 200 and b'name="until"' in page.content
    response = client.post("/remboursements/lancer/", {"until": "2999-12-31"}, follow=True)
    assert "futur" in response.content.decode()
    assert not Statement.objects.exists()
    client.post("/remboursements/lancer/", {})
    statement = Statement.objects.get()
    client.post(f"/remboursements/releves/{statement.pk}/valider/")
    statement.refresh_from_db()
    assert statement.state == Statement.State.VALIDATED
    page = client.get("/remboursements/").content.decode()
    assert "Structures bloquées" in page and "Coordonnées bancaires absentes" in page
    bank(place.structure)
    client.post("/remboursements/lots/", {"statements": [statement.pk]})
    batch = PaymentBatch.objects.get()
    assert client.get(f"/remboursements/lots/{batch.pk}/sepa.xml").status_code == 200
    client.post(f"/remboursements/lots/{batch.pk}/payer/", CONFIRMED)
    statement.refresh_from_db()
    assert statement.state == Statement.State.PAID


def test_a_place_manager_sees_the_page_but_not_the_operator_actions(client, statements,
                                                                    manager_x, place):
    client.force_login(manager_x)
    page = client.get("/remboursements/").content.decode()
    assert statements[place.structure_id].reference in page
    assert 'name="until"' not in page
    assert client.post("/remboursements/lancer/", {}).status_code == 403
