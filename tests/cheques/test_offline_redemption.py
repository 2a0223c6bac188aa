"""Baskets scanned where the network dropped and uploaded later (cheques.offline), and the
check that answers what a redemption would answer without redeeming."""

import datetime
import io
import json
import re
import uuid
from csv import reader as csv_reader

import pytest
from django.utils import timezone

from aptic.models import AuditEvent, Role
from cheques import codes, fraud, offline, redemption, reimbursement
from cheques.models import Cheque, IdempotentResponse, LedgerEntry, Redemption
from places.departments import department_name
from tests.cheques.redemption_fixtures import codes_of
from tests.clock import paris
from tests.factories import member

pytestmark = pytest.mark.django_db

URL = "/api/v1/redemptions/"
CHECK = "/api/v1/redemptions/check/"
ONE_HOUR = "outils-accompagnement"  # one cheque per session


def post(api, user, body, key=None, url=URL):
    api.force_authenticate(user)
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return api.post(url, body, format="json", **headers)


def basket(order, place, count=1, *, skip=0, scanned_at=None, device="Tablette du bus"):
    body = {"codes": codes_of(order)[skip:skip + count], "place": place.pk,
            "service": ONE_HOUR, "device": device}
    if scanned_at is not None:
        body["scanned_at"] = scanned_at.isoformat()
    return body


def world():
    """What a redemption may write, counted."""
    return {
        "states": sorted(Cheque.objects.values_list("pk", "state")),
        "redemptions": Redemption.objects.count(),
        "audit": AuditEvent.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "idempotency": IdempotentResponse.objects.count(),
    }


# --- the scan's own time -------------------------------------------------------------------


def test_a_basket_scanned_offline_keeps_its_scan_time_its_device_and_when_it_was_received(
    api, clock, issued, place, mediator_x
):
    scanned = clock.now - datetime.timedelta(hours=3)
    response = post(api, mediator_x, basket(issued, place, 2, scanned_at=scanned),
                    str(uuid.uuid4()))
    assert response.status_code == 201, response.json()
    rows = list(Redemption.objects.order_by("pk"))
    assert [r.scanned_at for r in rows] == [scanned, scanned]
    assert {r.device for r in rows} == {"Tablette du bus"}
    assert all(clock.now - r.redeemed_at < datetime.timedelta(minutes=1) for r in rows)
    assert response.json()["redemptions"][0]["scanned_at"] == scanned.isoformat()
    event = AuditEvent.objects.filter(action="cheque.redeemed").first()
    assert event.details["scanned_at"] == scanned.isoformat()
    assert event.details["device"] == "Tablette du bus"


def test_a_scan_older_than_72_hours_is_refused_in_plain_words_and_changes_nothing(
    api, clock, issued, place, mediator_x
):
    before = world()
    too_old = clock.now - offline.MAX_SCAN_AGE - datetime.timedelta(minutes=1)
    response = post(api, mediator_x, basket(issued, place, scanned_at=too_old))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "scan_too_old"
    assert "il y a plus de 72 heures" in body["detail"]
    assert timezone.localtime(too_old).strftime("%H:%M") in body["detail"]
    assert world() == before
    # Just inside the window, the same basket is redeemed.
    inside = clock.now - offline.MAX_SCAN_AGE + datetime.timedelta(minutes=1)
    assert post(api, mediator_x, basket(issued, place, scanned_at=inside)).status_code == 201


def test_a_scan_time_in_the_future_is_refused_beyond_five_minutes_of_clock_skew(
    api, clock, issued, place, mediator_x
):
    before = world()
    ahead = clock.now + offline.CLOCK_SKEW + datetime.timedelta(minutes=1)
    response = post(api, mediator_x, basket(issued, place, scanned_at=ahead))
    assert response.status_code == 422
    assert response.json()["code"] == "scan_in_future"
    assert "dans le futur" in response.json()["detail"]
    assert world() == before
    slightly_ahead = clock.now + datetime.timedelta(minutes=4)
    assert post(api, mediator_x, basket(issued, place, scanned_at=slightly_ahead)
                ).status_code == 201


def test_the_refusal_of_a_scan_time_speaks_english_to_an_english_page(
    api, clock, issued, place, mediator_x
):
    api.force_authenticate(mediator_x)
    response = api.post(URL, basket(issued, place, scanned_at=clock.now - datetime.timedelta(
        days=4)), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert "more than 72 hours ago" in response.json()["detail"]


def test_a_malformed_scan_time_is_a_clear_422(api, issued, place, mediator_x):
    response = post(api, mediator_x, {**basket(issued, place), "scanned_at": "hier soir"})
    assert response.status_code in (400, 422)
    assert "scanned_at" in response.json()["errors"]
    assert not Redemption.objects.exists()


# --- the nonce -----------------------------------------------------------------------------


def test_an_upload_replayed_with_its_nonce_gets_the_first_answer_byte_for_byte_and_writes_nothing(
    api, clock, issued, place, mediator_x
):
    nonce = str(uuid.uuid4())
    body = basket(issued, place, 3, scanned_at=clock.now - datetime.timedelta(hours=2))
    first = post(api, mediator_x, body, nonce)
    assert first.status_code == 201
    after_first = world()
    second = post(api, mediator_x, body, nonce)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert world() == after_first
    assert after_first["redemptions"] == 3


def test_a_refused_upload_replayed_with_its_nonce_gets_the_same_refusal_byte_for_byte(
    api, clock, issued, place, mediator_x, structure
):
    colleague = member(Role.MEDIATOR, structure)
    code = codes_of(issued, 1)[0]
    redemption.redeem(user=colleague, place=place.pk, service=ONE_HOUR, codes=[code])
    nonce = str(uuid.uuid4())
    body = basket(issued, place, scanned_at=clock.now - datetime.timedelta(minutes=30))
    first = post(api, mediator_x, body, nonce)
    assert first.status_code == 409
    before = world()
    second = post(api, mediator_x, body, nonce)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert world() == before


def test_a_cheque_redeemed_meanwhile_comes_back_as_a_conflict_that_says_when_and_where(
    api, clock, issued, place, mediator_x, structure
):
    colleague = member(Role.MEDIATOR, structure)
    code = codes_of(issued, 1)[0]
    scanned = clock.now - datetime.timedelta(hours=2)
    meanwhile = clock.now - datetime.timedelta(hours=1)
    redemption.redeem(user=colleague, place=place.pk, service=ONE_HOUR, codes=[code],
                      now=meanwhile)
    response = post(api, mediator_x, basket(issued, place, scanned_at=scanned), "n-1")
    assert response.status_code == 409
    body = response.json()
    when = timezone.localtime(meanwhile)
    assert body["code"] == "already_redeemed"
    assert f"le {when:%d/%m/%Y} à {when:%H:%M}, ici : {place.name}" in body["detail"]
    assert body["redeemed_at"] == meanwhile.isoformat()
    assert body["place"] == {"id": place.pk, "name": place.name}
    assert body["cheque"] == codes.format_code(code)
    assert Redemption.objects.get(cheque__code=code).mediator == colleague


def test_a_cheque_redeemed_meanwhile_by_another_structure_says_when_but_not_where(
    api, clock, issued, place, mediator_x, other_place, mediator_y
):
    code = codes_of(issued, 1)[0]
    meanwhile = clock.now - datetime.timedelta(minutes=40)
    redemption.redeem(user=mediator_y, place=other_place.pk, service=ONE_HOUR, codes=[code],
                      now=meanwhile)
    body = post(api, mediator_x, basket(issued, place, scanned_at=clock.now - datetime.timedelta(
        hours=1))).json()
    when = timezone.localtime(meanwhile)
    assert f"le {when:%d/%m/%Y} à {when:%H:%M}, dans un autre lieu" in body["detail"]
    assert other_place.name not in body["detail"] and "place" not in body
    # Where, as far as another structure may know it: the place's département.
    assert body["department"] == other_place.department == "33"
    assert department_name("33") in body["detail"]


@pytest.mark.parametrize("field, value", [
    ("scanned_at", "٢٠٢٦-١٢-٠١T10:00:00Z"), ("place", "١"), ("sessions", "٢"),
])
def test_digits_other_than_0_to_9_are_refused_and_change_nothing(
    api, clock, issued, place, mediator_x, field, value
):
    before = world()
    for url in (URL, CHECK):
        response = post(api, mediator_x, {**basket(issued, place), field: value},
                        str(uuid.uuid4()), url=url)
        assert response.status_code == 400
        assert response.json()["errors"][field] == [
            "Écrivez les chiffres avec les chiffres 0 à 9."]
    assert world() == before


# --- daylight saving and month ends --------------------------------------------------------


def test_a_scan_on_the_night_the_clocks_go_back_is_dated_right_and_counted_late(
    api, clock, client, issued, place, mediator_x
):
    # 01:30 UTC on 25 October 2026 is 02:30 in Paris, the second time that night (CET).
    scanned = datetime.datetime(2026, 10, 25, 1, 30, tzinfo=datetime.UTC)
    clock.move_to(datetime.datetime(2026, 10, 25, 3, 0, tzinfo=datetime.UTC))
    assert post(api, mediator_x, basket(issued, place, scanned_at=scanned)).status_code == 201
    row = Redemption.objects.get()
    assert timezone.localtime(row.scanned_at).strftime("%d/%m %H:%M %Z") == "25/10 02:30 CET"
    assert row.scanned_apart
    [signal] = fraud.late_uploads(since=scanned - datetime.timedelta(days=1))
    assert signal.kind == "late_upload" and signal.count == 1 and signal.place == place
    assert "1 h après" in signal.detail

    client.force_login(mediator_x)
    page = client.get("/encaissements/").content.decode()
    assert "scanné le 25/10/2026 02:30, hors ligne" in page
    assert "(Tablette du bus)" in page
    rows = list(csv_reader(io.StringIO(client.get("/encaissements/?format=csv")
                                       .content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1][0] == "2026-10-25 04:00"
    assert rows[1][-2:] == ["2026-10-25 02:30", "Tablette du bus"]


def test_seventy_two_hours_across_the_night_the_clocks_go_back_are_real_hours(
    api, clock, issued, place, mediator_x
):
    # 72 h 30 min of real time, though the Paris wall clock moved 71 h 30 min.
    scanned = paris(2026, 10, 24, 3, 0)
    # (Python adds to a Paris time on the wall clock: in UTC, it adds real hours.)
    clock.move_to(scanned.astimezone(datetime.UTC) + datetime.timedelta(hours=72, minutes=30))
    assert timezone.localtime(clock.now).strftime("%d %H:%M") == "27 02:30"
    response = post(api, mediator_x, basket(issued, place, scanned_at=scanned))
    assert response.json()["code"] == "scan_too_old"


def test_a_cheque_scanned_on_its_last_day_and_uploaded_in_the_next_month_is_paid_in_that_month(
    api, clock, issued, place, mediator_x, operator
):
    # The order's last day of acceptance is 30 November.
    last_day = datetime.date(2026, 11, 30)
    type(issued).objects.filter(pk=issued.pk).update(
        valid_until=last_day - datetime.timedelta(days=31))
    issued.refresh_from_db()
    assert issued.expiry_date == last_day
    scanned = paris(2026, 11, 30, 23, 50)
    clock.move_to(paris(2026, 12, 1, 0, 20))
    response = post(api, mediator_x, basket(issued, place, scanned_at=scanned))
    assert response.status_code == 201, response.json()
    # Validity is judged on the day of the scan; a scan of 1 December is too late.
    refused = post(api, mediator_x, basket(issued, place, skip=1,
                                           scanned_at=paris(2026, 12, 1, 0, 5)))
    assert refused.status_code == 410 and refused.json()["code"] == "expired"
    # The statement of November was closed before the basket arrived: it goes into December's.
    row = Redemption.objects.get()
    assert row not in reimbursement.pending_redemptions(datetime.date(2026, 11, 30))
    assert row in reimbursement.pending_redemptions(datetime.date(2026, 12, 31))
    assert not fraud.late_uploads(since=scanned - datetime.timedelta(days=1))  # 30 min


# --- the check that redeems nothing ---------------------------------------------------------


def test_the_check_answers_what_a_redemption_would_and_changes_nothing(
    api, clock, issued, place, mediator_x, structure
):
    good = basket(issued, place, 2, scanned_at=clock.now - datetime.timedelta(hours=1))
    before = world()
    response = post(api, mediator_x, good, str(uuid.uuid4()), url=CHECK)
    assert response.status_code == 200
    body = response.json()
    assert body["redeemable"] is True and body["total_cents"] == 2000
    assert [c["code"] for c in body["cheques"]] == [codes.format_code(c)
                                                    for c in good["codes"]]
    # A cheque already redeemed: the same refusal as the redemption itself.
    colleague = member(Role.MEDIATOR, structure)
    redemption.redeem(user=colleague, place=place.pk, service=ONE_HOUR,
                      codes=[good["codes"][1]])
    before = world()
    checked = post(api, mediator_x, good, url=CHECK)
    assert world() == before
    redeemed = post(api, mediator_x, good)
    assert (checked.status_code, checked.json()) == (redeemed.status_code, redeemed.json())
    assert checked.status_code == 409
    # A scan time out of bounds, too.
    old = {**good, "scanned_at": (clock.now - datetime.timedelta(days=5)).isoformat()}
    before = world()
    assert post(api, mediator_x, old, url=CHECK).json()["code"] == "scan_too_old"
    assert world() == before


def test_the_check_is_refused_to_a_mediator_of_another_place(api, issued, place, mediator_y):
    response = post(api, mediator_y, basket(issued, place), url=CHECK)
    assert response.status_code == 403


def test_the_check_is_throttled_like_the_cheque_look_up(api, issued, place, mediator_x,
                                                        monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {**ScopedRateThrottle.THROTTLE_RATES, "cheque_lookup": "2/min"})
    statuses = [post(api, mediator_x, basket(issued, place), url=CHECK).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    # The look-up of one cheque shares the budget.
    api.force_authenticate(mediator_x)
    assert api.get(f"/api/v1/cheques/{codes_of(issued, 1)[0]}/").status_code == 429


def test_failed_checks_feed_the_brute_force_guard(api, issued, place, mediator_x, settings):
    settings.CHEQUE_LOOKUP_FAILURE_LIMIT = 3
    for _ in range(3):
        body = {**basket(issued, place), "codes": codes.generate_codes(1)}
        assert post(api, mediator_x, body, url=CHECK).status_code == 404
    response = post(api, mediator_x, basket(issued, place), url=CHECK)
    assert response.status_code == 429 and response.json()["code"] == "too_many_failures"
    assert not IdempotentResponse.objects.exists() and not Redemption.objects.exists()


# --- the page kept on the device -------------------------------------------------------------


def test_the_service_worker_keeps_every_file_the_scan_page_loads_by_its_own_address(
    client, place, mediator_x
):
    client.force_login(mediator_x)
    page = client.get("/encaisser/").content.decode()
    loaded = set(re.findall(r'(?:src|href|data-[a-z-]+-url)="(/static/[^"]+)"', page))
    assert any(url.endswith(".wasm") for url in loaded)
    worker = client.get("/encaisser/sw.js")
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Cache-Control"] == "no-cache"
    kept = set(json.loads(re.search(r"var ASSETS = (\[.*?\]);", worker.content.decode())[1]))
    assert loaded <= kept


def test_the_fresh_token_of_the_scan_page_says_403_once_the_session_has_ended(
    client, mediator_x
):
    assert client.get("/encaisser/jeton/").json()["code"] == "not_authenticated"
    client.force_login(mediator_x)
    response = client.get("/encaisser/jeton/")
    assert response.status_code == 200 and response.json()["csrf"]
    assert response["Cache-Control"] == "no-store"
