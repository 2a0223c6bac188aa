"""Funder dashboard, its CSV exports and the reporting API: figures equal counts computed
independently here, and funder A never sees funder B's figures."""

import csv
import datetime
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aptic.models import Role
from cheques import reporting
from cheques.models import Booklet, Cheque, Order, Redemption
from places.departments import department_of
from places.models import Place
from tests.cheques.reporting_fixtures import dataset_fixture  # noqa: F401
from tests.factories import member
from tests.helpers import HOSTILE_NAME, HOSTILE_TOWN, neutralised

pytestmark = pytest.mark.django_db


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def read_csv(response):
    text = response.content.decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def expected_for(funder, today):
    """The figures of a funder's issued orders, counted row by row in Python."""
    cheques = list(Cheque.objects.filter(order__funder=funder,
                                         order__status=Order.Status.ISSUED))
    booklets = list(Booklet.objects.filter(order__funder=funder))
    live = [r for r in Redemption.objects.filter(order__funder=funder).select_related(
        "place", "service") if r.undone_at is None]
    used = [c for c in cheques if c.state in ("redeemed", "reimbursed")]
    expiring = [c for c in cheques if c.state in ("issued", "distributed")
                and today <= c.booklet.order.valid_until <= today + datetime.timedelta(days=30)]
    months, services, places, departments = {}, {}, {}, {}
    for r in live:
        month = timezone.localtime(r.redeemed_at).strftime("%Y-%m")
        months[month] = months.get(month, 0) + 1
        services[r.service.label] = services.get(r.service.label, 0) + 1
        places[r.place.name] = places.get(r.place.name, 0) + 1
        departments[r.place.department] = departments.get(r.place.department, 0) + 1
    handed = [b for b in booklets if b.distributed_at is not None]
    return {
        "booklets_issued": len(booklets),
        "handed_out": len(handed),
        "started": len([b for b in booklets if b.state == "started"]),
        "issued": len(cheques),
        "redeemed": len(used),
        "use_rate": round(len(used) * 100 / len(cheques), 1),
        "redeemed_cents": sum(c.face_value_cents for c in used),
        "paid_cents": sum(c.face_value_cents for c in cheques if c.state == "reimbursed"),
        "outstanding_cents": sum(c.face_value_cents for c in cheques
                                 if c.state in ("issued", "distributed")),
        "expiring": len(expiring),
        "months": months, "services": services, "places": places,
        "departments": departments,
        "ages": {b.age_bracket: len([x for x in handed if x.age_bracket == b.age_bracket])
                 for b in handed},
        "profile_departments": {department_of(b.postcode): len(
            [x for x in handed if department_of(x.postcode) == department_of(b.postcode)])
            for b in handed},
    }


def test_the_funder_summary_equals_counts_computed_row_by_row(clock, dataset, funder_a):
    expected = expected_for(funder_a, clock.today)
    figures = reporting.summary(Order.objects.filter(funder=funder_a))
    assert figures["booklets"]["issued"] == expected["booklets_issued"] == 5
    assert figures["booklets"]["handed_out"] == expected["handed_out"] == 3
    assert figures["booklets"]["started"] == expected["started"] == 2
    assert figures["cheques"]["issued"] == expected["issued"] == 25
    assert figures["cheques"]["redeemed"] == expected["redeemed"] == 5
    assert figures["cheques"]["use_rate"] == expected["use_rate"] == 20.0
    assert figures["amounts"]["redeemed_cents"] == expected["redeemed_cents"] == 5000
    assert figures["amounts"]["paid_cents"] == expected["paid_cents"] == 0
    # 25 cheques − 5 redeemed − 5 of the cancelled booklet − 1 cancelled cheque.
    assert figures["amounts"]["outstanding_cents"] == expected["outstanding_cents"] == 14000
    assert figures["expiring_soon"]["cheques"] == expected["expiring"] == 5


def test_redemptions_are_grouped_by_month_service_place_and_department(clock, dataset,
                                                                      funder_a):
    expected = expected_for(funder_a, clock.today)
    orders = Order.objects.filter(funder=funder_a)
    months = {month.strftime("%Y-%m"): n for month, n, _c in reporting.by_month(orders)}
    assert {k: v for k, v in months.items() if v} == expected["months"]
    assert sorted(expected["months"].values()) == [2, 3]  # the undone one is not counted
    assert {r["service__label"]: r["n"] for r in reporting.by_service(orders)} == \
        expected["services"]
    assert {r["place__name"]: r["n"] for r in reporting.by_place(orders)} == \
        expected["places"]
    assert {r["code"]: r["n"] for r in reporting.by_department(orders)} == \
        expected["departments"] == {"33": 3, "24": 2}


def test_the_beneficiary_profile_counts_hand_overs_only(clock, dataset, funder_a):
    expected = expected_for(funder_a, clock.today)
    profile = reporting.beneficiary_profile(Order.objects.filter(funder=funder_a))
    ages = {row.code: row.count for row in profile["age_bracket"] if row.count}
    assert ages == expected["ages"] == {"25_44": 2, "65_79": 1}
    situations = {row.code: row.count for row in profile["situation"] if row.count}
    assert situations == {"job_seeker": 1, "retired": 1, "": 1}
    assert {row.code: row.count for row in profile["department"]} == \
        expected["profile_departments"] == {"33": 1, "24": 1, "": 1}


def test_the_dashboard_page_shows_the_figures_and_the_chart(clock, dataset, funder_a,
                                                          manager_a):
    response = client_for(manager_a).get(reverse("funder-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    expected = expected_for(funder_a, clock.today)
    assert f'data-figure="booklets-handed-out">{expected["handed_out"]}<' in html
    assert f'data-figure="cheques-redeemed">{expected["redeemed"]} / {expected["issued"]}<' \
        in html
    assert "20,0\u00a0%" in html
    assert '<svg viewBox="0 0 720 260" role="img"' in html
    # From the month of issuance (no redemption yet) to this month.
    assert [n for _m, n, _c in response.context["months"]] == [0, 3, 2]
    assert html.count('class="bar"') == 6  # cheques and amounts per month
    assert "Tiers-lieu 24" in html and "Périgueux" in html
    assert " style=" not in html and "onclick" not in html


def test_each_table_exports_as_csv_with_the_same_figures(clock, dataset, funder_a, manager_a):
    client = client_for(manager_a)
    url = reverse("funder-dashboard")
    expected = expected_for(funder_a, clock.today)
    months = read_csv(client.get(url, {"format": "csv", "table": "months"}))
    assert months[0] == ["mois", "encaissements", "montant (€)"]
    assert {row[0]: int(row[1]) for row in months[1:] if row[1] != "0"} == expected["months"]
    places = read_csv(client.get(url, {"format": "csv", "table": "places"}))
    assert {row[0]: int(row[3]) for row in places[1:]} == expected["places"]
    services = read_csv(client.get(url, {"format": "csv", "table": "services"}))
    assert {row[0]: int(row[1]) for row in services[1:]} == expected["services"]
    departments = read_csv(client.get(url, {"format": "csv", "table": "departments"}))
    assert {row[0]: int(row[2]) for row in departments[1:]} == expected["departments"]
    profile = read_csv(client.get(url, {"format": "csv", "table": "profile"}))
    assert ["tranche d’âge", "25 à 44 ans", "2"] in profile
    summary = read_csv(client.get(url, {"format": "csv", "table": "summary"}))
    assert ["chèques encaissés", "5"] in summary and ["encours (€)", "140,00"] in summary
    orders = read_csv(client.get(url, {"format": "csv", "table": "orders"}))
    assert {int(row[0]) for row in orders[1:]} == {dataset.order.pk, dataset.soon_order.pk}
    assert client.get(url, {"format": "csv", "table": "nope"}).status_code == 404


def test_a_place_named_like_a_formula_is_exported_as_text_with_numeric_figures(
        dataset, manager_a):
    Place.objects.filter(pk=dataset.place_24.pk).update(name=HOSTILE_NAME, town=HOSTILE_TOWN)

    places = read_csv(client_for(manager_a).get(reverse("funder-dashboard"),
                                                {"format": "csv", "table": "places"}))

    hostile = next(row for row in places[1:] if row[0] != dataset.place_33.name)
    assert hostile == [neutralised(HOSTILE_NAME), neutralised(HOSTILE_TOWN), "24", "2",
                       "20,00"]


def test_the_order_page_counts_that_order_only(dataset, manager_a):
    response = client_for(manager_a).get(
        reverse("funder-order-dashboard", args=[dataset.soon_order.pk]))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["cheques"]["issued"] == 5 and summary["cheques"]["redeemed"] == 0
    assert summary["expiring_soon"]["cheques"] == 5
    rows = read_csv(client_for(manager_a).get(
        reverse("funder-order-dashboard", args=[dataset.order.pk]),
        {"format": "csv", "table": "summary"}))
    assert ["chèques émis", "20"] in rows


def test_the_map_endpoint_gives_the_places_with_their_counts(dataset, manager_a):
    data = client_for(manager_a).get(reverse("funder-dashboard-places")).json()
    found = {f["properties"]["name"]: f["properties"]["redemptions"] for f in data["features"]}
    assert found == {dataset.place_33.name: 3, "Tiers-lieu 24": 2}
    perigueux = next(f for f in data["features"] if f["properties"]["name"] == "Tiers-lieu 24")
    assert perigueux["geometry"]["coordinates"] == [0.72, 45.18]


def test_the_api_summary_gives_the_same_figures(dataset, api, manager_a):
    api.force_authenticate(manager_a)
    response = api.get("/api/v1/reporting/summary/", {"order": dataset.order.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["cheques"]["issued"] == 20 and body["cheques"]["redeemed"] == 5
    assert body["amounts"]["redeemed_cents"] == 5000
    assert sorted(m["redemptions"] for m in body["by_month"] if m["redemptions"]) == [2, 3]
    overall = api.get("/api/v1/reporting/summary/").json()
    assert overall["cheques"]["issued"] == 25
    bad = api.get("/api/v1/reporting/summary/", {"order": "abc"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


# --- permissions ---------------------------------------------------------------------------


def test_funder_b_never_sees_funder_a_figures(dataset, api, manager_b):
    client = client_for(manager_b)
    order_a = dataset.order.pk
    assert client.get(reverse("funder-order-dashboard", args=[order_a])).status_code == 404
    assert client.get(reverse("funder-order-dashboard", args=[order_a]),
                      {"format": "csv", "table": "places"}).status_code == 404
    assert client.get(reverse("funder-dashboard-places"),
                      {"order": order_a}).status_code == 404
    assert client.get(reverse("funder-dashboard"),
                      {"funder": dataset.order.funder_id}).status_code == 404
    page = client.get(reverse("funder-dashboard"))
    assert page.context["summary"]["cheques"]["issued"] == 10
    assert page.context["summary"]["cheques"]["redeemed"] == 1
    assert "Tiers-lieu 24" not in page.content.decode()
    places = read_csv(client.get(reverse("funder-dashboard"),
                                 {"format": "csv", "table": "places"}))
    assert [row[0] for row in places[1:]] == [dataset.place_33.name]
    assert places[1][3] == "1"
    api.force_authenticate(manager_b)
    response = api.get("/api/v1/reporting/summary/", {"order": order_a})
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api.get("/api/v1/reporting/summary/").json()["cheques"]["issued"] == 10
    other_funder = api.get("/api/v1/reporting/summary/", {"funder": dataset.order.funder_id})
    assert other_funder.status_code == 404 and other_funder.json()["code"] == "not_found"


def test_people_who_are_neither_funder_nor_operator_are_refused(dataset, api, mediator_x):
    assert client_for(mediator_x).get(reverse("funder-dashboard")).status_code == 403
    assert client_for(mediator_x).get(
        reverse("funder-order-dashboard", args=[dataset.order.pk])).status_code == 403
    api.force_authenticate(mediator_x)
    assert api.get("/api/v1/reporting/summary/").status_code == 403
    api.force_authenticate(None)
    assert api.get("/api/v1/reporting/summary/").status_code in (401, 403)
    assert Client().get(reverse("funder-dashboard")).status_code == 302


def test_the_operator_sees_every_funder_and_can_filter(dataset, operator, api):
    client = client_for(operator)
    everything = client.get(reverse("funder-dashboard"))
    assert everything.context["summary"]["cheques"]["issued"] == 35
    only_b = client.get(reverse("funder-dashboard"), {"funder": dataset.order_b.funder_id})
    assert only_b.context["summary"]["cheques"]["issued"] == 10
    assert client.get(reverse("funder-order-dashboard",
                              args=[dataset.order.pk])).status_code == 200
    api.force_authenticate(operator)
    assert api.get("/api/v1/reporting/summary/",
                   {"order": dataset.order_b.pk}).json()["amounts"]["redeemed_cents"] == 1500


def test_a_manager_of_two_funders_sees_both(dataset, funder_a, funder_b):
    from aptic.models import Membership

    user = member(Role.FUNDER_MANAGER, funder_a)
    Membership.objects.create(user=user, organisation=funder_b, role=Role.FUNDER_MANAGER)
    page = client_for(user).get(reverse("funder-dashboard"))
    assert page.context["summary"]["cheques"]["issued"] == 35
    assert page.context["show_funder_filter"]


def test_an_empty_dashboard_renders(funder_a, manager_a):
    response = client_for(manager_a).get(reverse("funder-dashboard"))
    assert response.status_code == 200
    assert response.context["summary"]["cheques"]["issued"] == 0
    assert response.context["chart"] is None
