"""The lists of the cheques API page with limit/offset and filter through FilterSets: a filter
value that does not parse is a 400 in the error shape, never a 500."""

import datetime

import pytest

from cheques import reimbursement
from tests.cheques.reimbursement_support import bank, redeem

pytestmark = pytest.mark.django_db


def test_redemptions_filter_by_place_mediator_service_and_dates(clock, api, issued, place,
                                                                 mediator_x, manager_x):
    redeem(issued, mediator_x, place, 2, now=clock.last_month(4))
    redeem(issued, mediator_x, place, 1, skip=2, now=clock.last_month(20),
           service="demarches-accompagnement")
    api.force_authenticate(manager_x)

    def ids(**query):
        body = api.get("/api/v1/redemptions/", query).json()
        assert body["count"] == len(body["results"])
        return len(body["results"])

    day = clock.last_month(10).date()
    assert ids() == 3 and ids(place=place.pk) == 3 and ids(place=place.pk + 1000) == 0
    assert ids(mediator=mediator_x.pk) == 3 and ids(mediator=manager_x.pk) == 0
    assert ids(service="acces-poste") == 2
    assert ids(since=day.isoformat()) == 1 and ids(until=day.isoformat()) == 2
    page = api.get("/api/v1/redemptions/", {"limit": 2, "offset": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 1 and page["previous"]


@pytest.mark.parametrize("query", [{"since": "hier"}, {"until": "2026-13-01"},
                                   {"place": "abc"}, {"mediator": "1.5"}])
def test_a_redemption_filter_that_does_not_parse_is_a_400(api, manager_x, query):
    api.force_authenticate(manager_x)
    response = api.get("/api/v1/redemptions/", query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and set(body["errors"]) == set(query)


def test_statements_and_payouts_are_pages_and_statements_filter_by_state(clock,
        api, issued, place, mediator_x, manager_x, operator):
    redeem(issued, mediator_x, place, 2, now=clock.last_month())
    bank(place.structure)
    [statement] = reimbursement.run(actor=operator)
    api.force_authenticate(operator)
    assert api.get("/api/v1/statements/", {"state": "draft"}).json()["count"] == 1
    assert api.get("/api/v1/statements/", {"state": "paid"}).json()["results"] == []
    refused = api.get("/api/v1/statements/", {"state": "perdu"})
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"state"}
    reimbursement.validate(statement, actor=operator)
    tomorrow = clock.today + datetime.timedelta(days=1)
    created = api.post("/api/v1/payouts/", {"statements": [statement.pk],
                                            "execution_date": tomorrow.isoformat()},
                       format="json")
    assert created.status_code == 201 and created.json()["statements"] == [statement.pk]
    page = api.get("/api/v1/payouts/", {"limit": 1}).json()
    assert page["count"] == 1 and page["results"][0]["id"] == created.json()["id"]
    assert page["results"][0]["execution_date"] == tomorrow.isoformat()
    api.force_authenticate(manager_x)
    assert api.get("/api/v1/payouts/").status_code == 403


def test_a_payout_request_that_is_not_an_object_is_a_400(api, operator):
    api.force_authenticate(operator)
    for body in ([1, 2], {"statements": "1"}, {"statements": [1], "execution_date": "demain"}):
        response = api.post("/api/v1/payouts/", body, format="json")
        assert response.status_code == 400 and response.json()["code"] == "invalid", body
