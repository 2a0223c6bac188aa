"""Fraud signals (cheques.fraud) and the operator dashboard that shows them: signals never
block a redemption, they point the operator at something to check."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse

from aptic.models import AuditEvent, Organisation
from cheques import fraud, redemption
from places.models import StructureProfile
from services.models import Service
from tests.cheques.redemption_fixtures import codes_of
from tests.factories import OrganisationFactory, make_place

pytestmark = pytest.mark.django_db


def service_slug():
    return Service.objects.active().order_by("slug").first().slug


def redeem_at(mediator, place, codes, moment):
    return redemption.redeem(user=mediator, place=place.pk, service=service_slug(),
                             codes=codes, now=moment)


def test_a_whole_booklet_redeemed_within_minutes_is_signalled(clock, issued, place, mediator_x):
    booklet = issued.booklet_set.order_by("number").first()
    codes = list(booklet.cheques.values_list("code", flat=True))
    start = clock.now - datetime.timedelta(hours=2)
    for index, code in enumerate(codes):  # five cheques, two minutes apart
        redeem_at(mediator_x, place, [code], start + datetime.timedelta(minutes=2 * index))
    found = fraud.booklet_bursts()
    assert len(found) == 1
    assert found[0].place == place and found[0].count == 5
    assert booklet.number in found[0].detail


def test_a_booklet_used_over_an_afternoon_is_not_signalled(clock, issued, place, mediator_x):
    codes = codes_of(issued, 5)
    start = clock.now - datetime.timedelta(hours=5)
    for index, code in enumerate(codes):
        redeem_at(mediator_x, place, [code], start + datetime.timedelta(minutes=30 * index))
    assert fraud.booklet_bursts() == []


def test_part_of_a_booklet_in_one_basket_is_not_a_whole_booklet(clock, issued, place, mediator_x):
    redeem_at(mediator_x, place, codes_of(issued, 4), clock.now)
    assert fraud.booklet_bursts() == []


def test_an_undone_redemption_does_not_make_a_whole_booklet(clock, issued, place, mediator_x):
    result = redeem_at(mediator_x, place, codes_of(issued, 5), clock.now)
    redemption.undo(redemption=result.redemptions[0], user=mediator_x)
    assert fraud.booklet_bursts() == []


def test_more_redemptions_per_hour_than_the_setting_is_signalled(clock, issued, place, mediator_x,
                                                                 settings):
    settings.FRAUD_MAX_REDEMPTIONS_PER_HOUR = 3
    start = clock.now - datetime.timedelta(hours=3)
    # 2 then, an hour and a half later, 4 within 50 minutes.
    moments = [start, start + datetime.timedelta(minutes=10)] + [
        start + datetime.timedelta(minutes=100 + 16 * i) for i in range(4)]
    for code, moment in zip(codes_of(issued, 6), moments, strict=True):
        redeem_at(mediator_x, place, [code], moment)
    found = fraud.mediator_bursts()
    assert len(found) == 1
    assert found[0].user == mediator_x and found[0].count == 4
    assert found[0].at == moments[-1]


def test_a_steady_mediator_is_not_signalled(clock, issued, place, mediator_x, settings):
    settings.FRAUD_MAX_REDEMPTIONS_PER_HOUR = 3
    start = clock.now - datetime.timedelta(hours=8)
    for index, code in enumerate(codes_of(issued, 6)):  # one every 25 minutes: 3 per hour
        redeem_at(mediator_x, place, [code], start + datetime.timedelta(minutes=25 * index))
    assert fraud.mediator_bursts() == []


def test_old_redemptions_are_outside_the_period(clock, issued, place, mediator_x, settings):
    settings.FRAUD_MAX_REDEMPTIONS_PER_HOUR = 3
    old = clock.now - datetime.timedelta(days=settings.FRAUD_LOOKBACK_DAYS + 2)
    redeem_at(mediator_x, place, codes_of(issued, 5), old)
    assert fraud.signals() == []


def test_a_refused_redemption_outside_the_territory_is_recorded_and_signalled(
        make_order, funder_a, manager_a, operator, place, mediator_x, api):
    order = make_order(funder_a, manager_a, approve_by=operator, territory=["75"])
    code = codes_of(order, 1)[0]
    api.force_authenticate(mediator_x)
    response = api.post("/api/v1/redemptions/", {"code": code, "place": place.pk,
                                                 "service": service_slug()}, format="json")
    assert response.status_code == 422
    assert response.json()["code"] == "territory_not_allowed"
    event = AuditEvent.objects.get(action="redemption.territory_refused")
    assert event.actor == mediator_x and event.object_id == str(place.pk)
    assert event.details["order"] == order.pk and event.details["department"] == "33"
    assert event.details["cheque"] == order.cheques.get(code=code).number
    assert order.cheques.get(code=code).state == "issued"  # nothing else changed
    found = fraud.territory_refusals()
    assert len(found) == 1 and found[0].place == place and found[0].user == mediator_x


def test_other_refusals_are_not_recorded_as_territory_attempts(clock, issued, place, mediator_x,
                                                               api):
    code = codes_of(issued, 1)[0]
    redeem_at(mediator_x, place, [code], clock.now)
    api.force_authenticate(mediator_x)
    response = api.post("/api/v1/redemptions/", {"code": code, "place": place.pk,
                                                 "service": service_slug()}, format="json")
    assert response.status_code == 409
    assert not AuditEvent.objects.filter(action="redemption.territory_refused").exists()


def test_blocked_look_ups_are_signalled(place, mediator_x, api, settings):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 2
    api.force_authenticate(mediator_x)
    for _attempt in range(2):
        response = api.post("/api/v1/redemptions/", {"code": "ABCD", "place": place.pk,
                                                     "service": service_slug()},
                            format="json")
        assert response.status_code == 422
    found = fraud.lookup_blocks()
    assert len(found) == 1 and found[0].user == mediator_x


def test_a_signal_never_blocks_the_redemption(issued, place, mediator_x, api):
    api.force_authenticate(mediator_x)
    response = api.post("/api/v1/redemptions/", {"codes": codes_of(issued, 5),
                                                 "place": place.pk, "service": service_slug()},
                        format="json")
    assert response.status_code == 201
    assert len(fraud.booklet_bursts()) == 1
    second = api.post("/api/v1/redemptions/", {"codes": codes_of(issued)[5:],
                                               "place": place.pk, "service": service_slug()},
                      format="json")
    assert second.status_code == 201
    assert len(fraud.booklet_bursts()) == 2


# --- the operator dashboard ----------------------------------------------------------------


def test_the_operator_dashboard_lists_the_work_queues_and_signals(clock,
        make_order, funder_a, manager_a, operator, issued, place, mediator_x, settings):
    waiting = make_order(funder_a, manager_a)
    unqualified = make_place(OrganisationFactory(kind=Organisation.Kind.STRUCTURE,
                                                 name="En attente"),
                             name="Lieu en attente", qualified=False)
    redeem_at(mediator_x, place, codes_of(issued, 5), clock.now)
    client = Client()
    client.force_login(operator)
    response = client.get(reverse("operator-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="orders-waiting">1<' in html and str(waiting) in html
    assert 'data-figure="places-waiting">1<' in html and unqualified.name in html
    # Clic & Lien has a qualified place, unpaid redemptions and no bank details.
    blocked = response.context["blocked"]
    assert [(row["structure"].name, row["owed_cents"]) for row in blocked] == \
        [("Clic & Lien", 5000)]
    assert "Coordonnées bancaires absentes." in html
    assert 'data-kind="booklet_burst"' in html
    assert " style=" not in html


def test_a_structure_with_valid_bank_details_is_not_blocked(operator, place, issued,
                                                            mediator_x):
    profile = StructureProfile.objects.create(
        organisation=place.structure, iban="FR7630006000011234567890189", bic="AGRIFRPP",
        account_holder="Clic & Lien")
    client = Client()
    client.force_login(operator)
    assert client.get(reverse("operator-dashboard")).context["blocked"] == []
    profile.iban = "FR7630006000011234567890180"  # wrong check digits
    profile.save()
    blocked = client.get(reverse("operator-dashboard")).context["blocked"]
    assert [row["reason"] for row in blocked] == ["IBAN absent ou invalide."]


def test_only_the_operator_sees_the_operator_dashboard(manager_a, mediator_x):
    for user in (manager_a, mediator_x):
        client = Client()
        client.force_login(user)
        assert client.get(reverse("operator-dashboard")).status_code == 403
