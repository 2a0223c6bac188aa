"""How long cheques last: a default that leaves at least six months of use, bounds that
refuse a validity too short or too far, and the last day of acceptance printed with it."""

import datetime

import pytest

from aptic.models import AuditEvent
from cheques import validity
from cheques.models import Order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("today", "default"), [
    (datetime.date(2027, 6, 30), datetime.date(2027, 12, 31)),
    (datetime.date(2027, 7, 1), datetime.date(2028, 12, 31)),
    (datetime.date(2026, 12, 1), datetime.date(2027, 12, 31)),
    (datetime.date(2026, 12, 31), datetime.date(2027, 12, 31)),
    (datetime.date(2027, 1, 1), datetime.date(2027, 12, 31)),
    (datetime.date(2028, 2, 29), datetime.date(2028, 12, 31)),
])
def test_the_default_validity_leaves_at_least_six_months_of_use(today, default):
    assert validity.default_valid_until(today) == default
    assert default - today >= datetime.timedelta(days=183)


def test_the_bounds_are_a_month_and_three_years_from_today():
    today = datetime.date(2026, 12, 1)
    assert validity.earliest_valid_until(today) == datetime.date(2027, 1, 1)
    assert validity.latest_valid_until(today) == datetime.date(2029, 12, 1)
    # Three years after a leap day is the 28th of February.
    assert validity.latest_valid_until(datetime.date(2028, 2, 29)) == datetime.date(2031, 2, 28)


def test_the_last_day_of_acceptance_is_the_validity_plus_the_grace_period(settings):
    settings.EXPIRY_GRACE_DAYS = 31
    assert validity.last_day_of_acceptance(datetime.date(2026, 12, 31)) == \
        datetime.date(2027, 1, 31)


def test_an_order_without_a_validity_gets_the_default(clock, make_order, funder_a, manager_a):
    order = make_order(funder_a, manager_a)
    assert order.valid_until == validity.default_valid_until(clock.today)
    assert (order.valid_until - clock.today).days >= 183


def test_a_shorter_validity_given_explicitly_is_kept(clock, api, manager_a, nomenclature):
    two_months = clock.today + datetime.timedelta(days=60)
    api.force_authenticate(manager_a)
    response = api.post("/api/v1/orders/", {"booklets": 1, "valid_until": two_months.isoformat()},
                        format="json")
    assert response.status_code == 201, response.json()
    assert Order.objects.get().valid_until == two_months


def bad_validity(case, today):
    """(value sent, words the French error must contain)."""
    return {
        "past": ((today - datetime.timedelta(days=1)).isoformat(), "dans le futur"),
        "today": (today.isoformat(), "dans le futur"),
        "too short": ((today + datetime.timedelta(days=30)).isoformat(), "Trop proche"),
        "too far": ((validity.latest_valid_until(today) + datetime.timedelta(days=1))
                    .isoformat(), "Trop lointaine"),
        "type limit": ("9999-12-31", "Trop lointaine"),
        "malformed": ("2027-02-30", "format"),
        "words": ("demain", "format"),
    }[case]


@pytest.mark.parametrize("case", ["past", "today", "too short", "too far", "type limit",
                                  "malformed", "words"])
def test_a_bad_validity_answers_400_with_a_french_field_error_and_writes_nothing(
        clock, api, manager_a, nomenclature, case):
    value, words = bad_validity(case, clock.today)
    api.force_authenticate(manager_a)
    response = api.post("/api/v1/orders/", {"booklets": 1, "valid_until": value},
                        format="json", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 400, response.json()
    message = " ".join(response.json()["errors"]["valid_until"])
    assert words in message, message
    assert not Order.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize("case", ["past", "too short", "too far", "malformed"])
def test_the_order_form_refuses_a_bad_validity_with_a_french_field_error(
        clock, client, manager_a, nomenclature, case):
    value = {
        "past": clock.today - datetime.timedelta(days=3),
        "too short": clock.today + datetime.timedelta(days=10),
        "too far": validity.latest_valid_until(clock.today) + datetime.timedelta(days=1),
        "malformed": "31/02/2027",
    }[case]
    client.force_login(manager_a)
    response = client.post("/commandes/nouvelle/", {
        "booklets": "1", "cheques_per_booklet": "10", "face_value": "10",
        "valid_until": str(value), "contact_name": "F", "contact_email": "f@example.org"})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["valid_until"])
    assert {"past": "dans le futur", "too short": "Trop proche", "too far": "Trop lointaine",
            "malformed": "Saisissez une date valide"}[case] in errors
    assert not Order.objects.exists()


def test_the_form_offers_the_default_validity(clock, client, manager_a, nomenclature):
    client.force_login(manager_a)
    html = client.get("/commandes/nouvelle/").content.decode()
    assert f'value="{validity.default_valid_until(clock.today).isoformat()}"' in html


def test_the_public_cheque_page_gives_the_last_day_of_acceptance(clock, client, issued,
                                                                  settings):
    from cheques import codes

    cheque = issued.cheques.first()
    page = client.get(f"/c/{cheque.code}?s={codes.sign(cheque.code)}",
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    last_day = validity.last_day_of_acceptance(issued.valid_until)
    assert "Dernier jour d’acceptation" in page
    assert f"{last_day.day} " in page and str(last_day.year) in page


def test_a_validity_near_the_end_of_the_date_type_never_reaches_the_database(issued):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=issued.pk).update(valid_until=datetime.date(9999, 12, 31))


def test_the_farthest_validity_a_row_may_hold_keeps_every_page_working(
        api, client, issued, place, mediator_x, operator):
    """Validity plus grace is computed on the look-up, the redemption, the public QR page
    and the order page: none of them may fail, even at the database's bound."""
    from cheques import codes

    Order.objects.filter(pk=issued.pk).update(valid_until=validity.LAST_POSSIBLE)
    cheque = issued.cheques.order_by("number").first()
    assert client.get(f"/c/{cheque.code}?s={codes.sign(cheque.code)}").status_code == 200
    api.force_authenticate(mediator_x)
    assert api.get(f"/api/v1/cheques/{cheque.code}/").status_code == 200
    redeemed = api.post("/api/v1/redemptions/", {"codes": [cheque.code], "place": place.pk,
                                                 "service": "acces-poste"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="a" * 32)
    assert redeemed.status_code == 201, redeemed.json()
    client.force_login(operator)
    assert client.get(f"/commandes/{issued.pk}/").status_code == 200
