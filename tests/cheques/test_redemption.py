import datetime
import html
import io
import json
import re
import uuid
from csv import reader as csv_reader

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aptic.errors import DomainError
from aptic.models import AuditEvent
from cheques import codes, lifecycle, redemption
from cheques.models import Booklet, Cheque, Redemption
from places.models import Place, Qualification
from services.models import Service
from tests.cheques.redemption_fixtures import codes_of
from tests.factories import make_place
from tests.helpers import HOSTILE_ADDRESS, HOSTILE_NAME, neutralised

pytestmark = pytest.mark.django_db

URL = "/api/v1/redemptions/"


def post(api, user, body, key=None):
    api.force_authenticate(user)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(URL, body, format="json", **headers)


def refused(code, **kwargs):
    with pytest.raises(DomainError) as caught:
        redemption.redeem(**kwargs)
    assert caught.value.code == code, caught.value.detail
    return caught.value


def test_a_basket_is_redeemed_at_once_and_written_with_its_audit(issued, place, mediator_x):
    basket = codes_of(issued, 3)
    result = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                               codes=basket)
    assert result.total_cents == 3000
    assert Redemption.objects.filter(basket=result.basket, undone_at=None).count() == 3
    assert set(Cheque.objects.filter(code__in=basket).values_list("state", flat=True)) == {
        Cheque.State.REDEEMED}
    booklet = Cheque.objects.get(code=basket[0]).booklet
    assert booklet.state == Booklet.State.STARTED
    events = AuditEvent.objects.filter(action="cheque.redeemed")
    assert events.count() == 3
    assert {(e.actor, e.from_state, e.to_state) for e in events} == {
        (mediator_x, Cheque.State.ISSUED, Cheque.State.REDEEMED)}


def test_a_cheque_cannot_be_redeemed_twice(issued, place, mediator_x, other_place, mediator_y):
    code = codes_of(issued, 1)
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste", codes=code)
    error = refused("already_redeemed", user=mediator_x, place=place.pk,
                    service="acces-poste", codes=code)
    assert error.status == 409
    assert error.extra["place"]["id"] == place.pk and "redeemed_at" in error.extra
    # Another structure learns that it was redeemed, and when, but not where.
    error = refused("already_redeemed", user=mediator_y, place=other_place.pk,
                    service="acces-poste", codes=code)
    assert "place" not in error.extra and "redeemed_at" in error.extra
    assert Redemption.objects.count() == 1


def test_one_bad_cheque_refuses_the_whole_basket_and_writes_nothing(issued, place, mediator_x):
    first, second = codes_of(issued, 2)
    lifecycle.cancel_cheque(second, actor=issued.created_by, reason="perdu")
    before = AuditEvent.objects.count()
    error = refused("cancelled", user=mediator_x, place=place.pk, service="acces-poste",
                    codes=[first, second])
    assert error.status == 410
    assert Cheque.objects.get(code=first).state == Cheque.State.ISSUED
    assert not Redemption.objects.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("typed", ["lower", "spaced"])
def test_lower_case_and_spaced_codes_are_accepted_after_normalisation(
    issued, place, mediator_x, typed
):
    code = codes_of(issued, 1)[0]
    text = code.lower() if typed == "lower" else " " + codes.format_code(code).replace("-", " ")
    result = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                               codes=[text])
    assert result.redemptions[0].cheque.code == code


def test_a_wrong_length_or_a_mistyped_check_character_is_refused_before_any_query(
    place, mediator_x
):
    good = codes.generate_codes(1)[0]
    swapped = good[:3] + good[4] + good[3] + good[5:]
    if swapped == good:
        swapped = good[:12] + ("0" if good[12] != "0" else "1")
    with CaptureQueriesContext(connection) as queries:
        refused("invalid_format", user=mediator_x, place=place, service=None, codes=["ABC"])
        refused("bad_check_character", user=mediator_x, place=place, service=None,
                codes=[swapped])
    assert len(queries) == 0


def test_an_unknown_cheque_is_a_404(place, mediator_x):
    error = refused("unknown_cheque", user=mediator_x, place=place.pk,
                    service="acces-poste", codes=codes.generate_codes(1))
    assert error.status == 404


def test_an_expired_cheque_is_refused(clock, make_order, funder_a, manager_a, operator, place,
                                      mediator_x):
    order = make_order(funder_a, manager_a, approve_by=operator)
    code = codes_of(order, 1)
    later = clock.now + datetime.timedelta(days=800)
    error = refused("expired", user=mediator_x, place=place.pk, service="acces-poste",
                    codes=code, now=later)
    assert error.status == 410


def test_a_cheque_needing_activation_is_refused_until_handed_over(
    make_order, funder_a, manager_a, operator, place, mediator_x
):
    order = make_order(funder_a, manager_a, approve_by=operator, requires_activation=True)
    code = codes_of(order, 1)
    refused("not_activated", user=mediator_x, place=place.pk, service="acces-poste",
            codes=code)
    booklet = Cheque.objects.get(code=code[0]).booklet
    lifecycle.distribute_booklet(booklet.number, actor=manager_a)
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste", codes=code)
    assert Cheque.objects.get(code=code[0]).state == Cheque.State.REDEEMED


def test_a_service_the_order_does_not_allow_is_refused(make_order, funder_a, manager_a,
                                                       operator, place, mediator_x):
    order = make_order(funder_a, manager_a, approve_by=operator,
                       allowed_services=Service.objects.filter(slug="demarches-accompagnement"))
    code = codes_of(order, 1)
    refused("service_not_allowed", user=mediator_x, place=place.pk,
            service="acces-poste", codes=code)
    redemption.redeem(user=mediator_x, place=place.pk, service="demarches-accompagnement",
                      codes=code)


def test_a_service_the_place_does_not_offer_is_refused(issued, place, mediator_x):
    place.services.remove(Service.objects.get(slug="loisirs-atelier"))
    refused("service_not_allowed", user=mediator_x, place=place.pk,
            service="loisirs-atelier", codes=codes_of(issued, 1))


def test_a_place_outside_the_orders_territory_is_refused(make_order, funder_a, manager_a,
                                                         operator, place, mediator_x):
    order = make_order(funder_a, manager_a, approve_by=operator, territory=["69"])
    error = refused("territory_not_allowed", user=mediator_x, place=place.pk,
                    service="acces-poste", codes=codes_of(order, 1))
    assert error.status == 422


def test_a_mediator_of_another_place_or_of_an_unqualified_place_is_refused(
    issued, place, mediator_y, mediator_x, structure
):
    assert refused("forbidden", user=mediator_y, place=place.pk, service="acces-poste",
                   codes=codes_of(issued, 1)).status == 403
    unqualified = make_place(structure, qualified=False, name="Annexe")
    assert refused("place_not_qualified", user=mediator_x, place=unqualified.pk,
                   service="acces-poste", codes=codes_of(issued, 1)).status == 403
    assert refused("unknown_place", user=mediator_x, place=999999, service="acces-poste",
                   codes=codes_of(issued, 1)).status == 404


# --- the API -------------------------------------------------------------------------------


def test_the_api_redeems_and_answers_201_with_the_total(api, issued, place, mediator_x):
    response = post(api, mediator_x, {"codes": codes_of(issued, 2), "place": place.pk,
                                      "service": "acces-poste"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["total_cents"] == 2000 and len(body["redemptions"]) == 2


def test_the_api_accepts_a_single_code(api, issued, place, mediator_x):
    response = post(api, mediator_x, {"code": codes_of(issued, 1)[0], "place": place.pk,
                                      "service": "acces-poste"})
    assert response.status_code == 201


@pytest.mark.parametrize("codes_in_body, expected", [
    ([], "empty_basket"),
    (["ABCD"], "invalid_format"),
])
def test_the_api_refuses_bad_baskets_with_the_documented_code(
    api, place, mediator_x, codes_in_body, expected
):
    response = post(api, mediator_x, {"codes": codes_in_body, "place": place.pk,
                                      "service": "acces-poste"})
    assert response.status_code == 422
    assert response.json()["code"] == expected
    assert not Redemption.objects.exists()


def test_more_than_fifty_codes_are_refused(api, place, mediator_x):
    response = post(api, mediator_x, {"codes": codes.generate_codes(51), "place": place.pk,
                                      "service": "acces-poste"})
    assert response.status_code in (400, 422)
    assert not Redemption.objects.exists()


def test_an_unknown_place_id_is_a_404_and_nothing_is_written(api, issued, mediator_x):
    response = post(api, mediator_x, {"codes": codes_of(issued, 1), "place": 424242,
                                      "service": "acces-poste"})
    assert response.status_code == 404 and response.json()["code"] == "unknown_place"
    assert not Redemption.objects.exists()


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(api, issued, place,
                                                                     mediator_x):
    body = {"codes": codes_of(issued, 2), "place": place.pk, "service": "acces-poste"}
    key = str(uuid.uuid4())
    first = post(api, mediator_x, body, key)
    second = post(api, mediator_x, body, key)
    assert first.status_code == second.status_code == 201
    assert first.content == second.content  # to the byte
    assert Redemption.objects.count() == 2
    # Without the key, the same body is a new attempt, refused.
    assert post(api, mediator_x, body).status_code == 409


def test_reusing_an_idempotency_key_with_another_body_is_a_422(api, issued, place, mediator_x):
    key = str(uuid.uuid4())
    first, second = codes_of(issued, 2)
    post(api, mediator_x, {"codes": [first], "place": place.pk, "service": "acces-poste"},
         key)
    response = post(api, mediator_x, {"codes": [second], "place": place.pk,
                                      "service": "acces-poste"}, key)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Redemption.objects.count() == 1


def test_a_refusal_is_replayed_too(api, issued, place, mediator_x):
    key = str(uuid.uuid4())
    body = {"codes": codes.generate_codes(1), "place": place.pk, "service": "acces-poste"}
    first, second = post(api, mediator_x, body, key), post(api, mediator_x, body, key)
    assert first.status_code == second.status_code == 404
    assert first.content == second.content


def test_the_api_lists_only_the_redemptions_of_the_callers_places(
    api, issued, place, mediator_x, other_place, mediator_y
):
    first, second = codes_of(issued, 2)
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste", codes=[first])
    redemption.redeem(user=mediator_y, place=other_place.pk, service="acces-poste",
                      codes=[second])
    api.force_authenticate(mediator_x)
    listed = api.get(URL).json()["results"]
    assert [row["cheque"] for row in listed] == [Cheque.objects.get(code=first).number]


def test_anonymous_callers_cannot_redeem(api, issued, place):
    response = api.post(URL, {"codes": codes_of(issued, 1), "place": place.pk,
                              "service": "acces-poste"}, format="json")
    assert response.status_code in (401, 403)


# --- undo ----------------------------------------------------------------------------------


def test_the_mediator_undoes_a_redemption_within_24_hours(api, issued, place, mediator_x):
    code = codes_of(issued, 1)
    result = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                               codes=code)
    api.force_authenticate(mediator_x)
    response = api.delete(f"{URL}{result.redemptions[0].pk}/")
    assert response.status_code == 204
    cheque = Cheque.objects.get(code=code[0])
    assert cheque.state == Cheque.State.ISSUED
    assert cheque.booklet.state == Booklet.State.ISSUED
    assert AuditEvent.objects.filter(action="cheque.redemption_undone").exists()
    # The cheque can be redeemed again.
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste", codes=code)


def test_an_undo_after_24_hours_is_refused(clock, api, issued, place, mediator_x):
    long_ago = clock.now - datetime.timedelta(hours=25)
    result = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                               codes=codes_of(issued, 1), now=long_ago)
    api.force_authenticate(mediator_x)
    response = api.delete(f"{URL}{result.redemptions[0].pk}/")
    assert response.status_code == 409 and response.json()["code"] == "undo_window_closed"
    assert Redemption.objects.get().undone_at is None


def test_the_undo_window_is_24_real_hours_across_midnight(clock, api, issued, place,
                                                         mediator_x):
    """Redeemed at 23:50: still undone at 00:10 the next day, refused 24 hours and a minute
    later (also on the nights the clocks change, when that is not the same wall time)."""
    clock.move_to(clock.at(clock.today, 23, 50))
    result = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                               codes=codes_of(issued, 3))
    first, second, third = result.redemptions
    clock.shift(minutes=20)
    api.force_authenticate(mediator_x)
    assert api.delete(f"{URL}{first.pk}/").status_code == 204
    clock.move_to(second.redeemed_at + datetime.timedelta(hours=23, minutes=59))
    assert api.delete(f"{URL}{second.pk}/").status_code == 204
    clock.move_to(third.redeemed_at + datetime.timedelta(hours=24, minutes=1))
    response = api.delete(f"{URL}{third.pk}/")
    assert response.status_code == 409 and response.json()["code"] == "undo_window_closed"
    assert Redemption.objects.get(pk=third.pk).undone_at is None


def test_only_the_redeeming_mediator_or_a_place_manager_may_undo(
    api, issued, place, mediator_x, manager_x, structure, mediator_y
):
    from aptic.models import Role
    from tests.factories import member

    colleague = member(Role.MEDIATOR, structure)
    first, second = codes_of(issued, 2)
    one = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                            codes=[first]).redemptions[0]
    two = redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                            codes=[second]).redemptions[0]
    api.force_authenticate(colleague)
    assert api.delete(f"{URL}{one.pk}/").status_code == 403
    api.force_authenticate(mediator_y)
    assert api.delete(f"{URL}{one.pk}/").status_code == 404
    api.force_authenticate(manager_x)
    assert api.delete(f"{URL}{two.pk}/").status_code == 204
    assert Redemption.objects.filter(undone_at=None).count() == 1


# --- brute force ---------------------------------------------------------------------------


def test_repeated_failed_look_ups_are_blocked_with_a_french_429_and_an_audit_event(
    api, issued, place, mediator_x, settings
):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 5
    body = {"place": place.pk, "service": "acces-poste"}
    for _ in range(5):
        assert post(api, mediator_x, {**body, "codes": codes.generate_codes(1)}).status_code == 404
    response = post(api, mediator_x, {**body, "codes": codes_of(issued, 1)})
    assert response.status_code == 429
    assert "Trop de codes erronés" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="cheque_lookup.blocked", actor=mediator_x).exists()
    assert not Redemption.objects.exists()


def test_the_redemption_endpoint_is_throttled(api, place, mediator_x, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {**ScopedRateThrottle.THROTTLE_RATES, "redemption": "2/min"})
    statuses = [post(api, mediator_x, {"codes": [], "place": place.pk,
                                       "service": "acces-poste"}).status_code
                for _ in range(3)]
    assert statuses == [422, 422, 429]


@pytest.mark.parametrize("cache_backend", ["redis", "memory"])
def test_a_throttled_redemption_says_when_to_come_back(api, place, mediator_x, monkeypatch,
                                                       settings, cache_backend):
    from rest_framework.throttling import ScopedRateThrottle

    if cache_backend == "memory":  # the demo without Redis keeps DRF's own log
        settings.CACHES = {"default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {**ScopedRateThrottle.THROTTLE_RATES, "redemption": "2/min"})
    body = {"codes": [], "place": place.pk, "service": "acces-poste"}
    statuses = [post(api, mediator_x, body).status_code for _ in range(2)]
    refused = post(api, mediator_x, body)
    assert statuses == [422, 422] and refused.status_code == 429
    assert 55 <= int(refused["Retry-After"]) <= 60


# --- pages ---------------------------------------------------------------------------------


def test_the_history_page_shows_totals_and_exports_csv(client, issued, place, mediator_x):
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                      codes=codes_of(issued, 3))
    client.force_login(mediator_x)
    page = client.get("/encaissements/").content.decode()
    assert "3 chèques encaissés" in page and "30,00" in page
    csv = client.get("/encaissements/?format=csv").content.decode("utf-8-sig")
    assert csv.count("\n") == 4 and "10,00" in csv


def test_the_history_csv_writes_a_formula_named_place_and_mediator_as_text(client, issued,
                                                                           place, mediator_x):
    Place.objects.filter(pk=place.pk).update(name=HOSTILE_NAME)
    mediator_x.first_name, mediator_x.last_name = HOSTILE_ADDRESS, ""
    mediator_x.save()
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                      codes=codes_of(issued, 1))
    client.force_login(mediator_x)

    text = client.get("/encaissements/?format=csv").content.decode("utf-8-sig")

    rows = list(csv_reader(io.StringIO(text), delimiter=";"))
    assert rows[1][1] == neutralised(HOSTILE_NAME)
    assert rows[1][4] == neutralised(HOSTILE_ADDRESS)
    assert rows[1][5] == "10,00"


def test_malformed_history_filters_are_ignored_instead_of_failing(client, issued, place,
                                                                   mediator_x):
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste",
                      codes=codes_of(issued, 2))
    client.force_login(mediator_x)
    for query in ("place=abc", "mediator=abc", "since=2026-13-45&until=garbage"):
        response = client.get(f"/encaissements/?{query}")
        assert response.status_code == 200, query
        assert "2 chèques encaissés" in response.content.decode(), query
    csv = client.get("/encaissements/?format=csv&place=abc&mediator=1x")
    assert csv.status_code == 200 and csv.content.decode("utf-8-sig").count("\n") == 3


def test_the_public_cheque_page_shows_value_and_validity_but_never_where_it_was_used(
    client, issued, place, mediator_x
):
    code = codes_of(issued, 1)[0]
    redemption.redeem(user=mediator_x, place=place.pk, service="acces-poste", codes=[code])
    url = codes.qr_url(code).split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + url).content.decode()
    assert "10,00" in page and "Financeur A" in page
    assert place.name not in page and "Maya" not in page


def test_a_forged_qr_signature_gets_the_typed_code_form_before_any_query(client, issued):
    code = codes_of(issued, 1)[0]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/c/{code}?s=k1.forgedforgedforged")
    assert response.status_code == 200
    assert "n’est pas celui d’un QR code" in response.content.decode()
    assert "Financeur A" not in response.content.decode()
    assert not [q for q in queries if "cheques_cheque" in q["sql"]]


def test_a_logged_in_mediator_opening_a_qr_link_lands_on_the_scan_page(client, issued,
                                                                        place, mediator_x):
    code = codes_of(issued, 1)[0]
    client.force_login(mediator_x)
    path = "/" + codes.qr_url(code).split("://", 1)[1].split("/", 1)[1]
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/encaisser/")
    page = client.get(response["Location"]).content.decode()
    assert code in page  # the cheque is put in the basket


def test_the_scan_page_is_for_mediators_of_qualified_places_only(client, place, mediator_x,
                                                                  manager_a):
    client.force_login(manager_a)
    assert client.get("/encaisser/").status_code == 403
    client.force_login(mediator_x)
    page = client.get("/encaisser/").content.decode()
    assert html.escape(place.name) in page and "barcode-detector/polyfill.js" in page
    place.qualification = Qualification.SUSPENDED
    place.save()
    assert client.get("/encaisser/").status_code == 403


@pytest.mark.parametrize(("language", "remove", "redeemed"), [
    ("fr", "Retirer le chèque {code}", "{count} chèques encaissés"),
    ("en", "Remove cheque {code}", "{count} cheques redeemed"),
])
def test_the_scan_page_script_speaks_the_page_language(client, place, mediator_x, language,
                                                       remove, redeemed):
    client.force_login(mediator_x)
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    response = client.get("/encaisser/")
    messages = json.loads(re.search(
        r'<script id="scan-messages" type="application/json">(.*?)</script>',
        response.content.decode(), re.S).group(1))
    assert messages["remove_cheque"] == remove
    assert messages["redeemed"]["other"] == redeemed


def test_failed_cheque_look_ups_are_counted_per_user_and_blocked(api, issued, mediator_x,
                                                                  place, settings):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 3
    api.force_authenticate(mediator_x)
    for _ in range(3):
        assert api.get(f"/api/v1/cheques/{codes.generate_codes(1)[0]}/").status_code == 404
    response = api.get(f"/api/v1/cheques/{codes_of(issued, 1)[0]}/")
    assert response.status_code == 429 and response.json()["code"] == "too_many_failures"
    # Another mediator on another address is not blocked.
    from aptic.models import Role
    from tests.factories import member

    api.force_authenticate(member(Role.MEDIATOR, place.structure))
    ok = api.get(f"/api/v1/cheques/{codes_of(issued, 1)[0]}/", REMOTE_ADDR="10.0.0.9")
    assert ok.status_code == 200
