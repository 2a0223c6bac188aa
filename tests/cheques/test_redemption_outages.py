"""Redemption while Redis is down: the database holds every rule of redemption (a cheque is
paid once, a retry replays its answer), Redis only holds counters, so a mediator can still
redeem; the brute-force guard, which cannot count any more, lets signed-in users through
and refuses anonymous look-ups with a 503."""

import subprocess
import time
import uuid

import pytest
import redis
from django.contrib.auth.models import AnonymousUser

from aptic.errors import DomainError
from aptic.outages import OUTAGE_ERRORS, RETRY_AFTER_SECONDS
from cheques import codes, guard
from cheques.models import Cheque, Redemption
from tests.cheques.redemption_fixtures import codes_of
from tests.helpers import free_port

pytestmark = pytest.mark.django_db

URL = "/api/v1/redemptions/"


class SpareRedis:
    """A Redis server of the test's own, on a free port, with nothing written to disk."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("The spare Redis server did not start.")
                time.sleep(0.05)
        client.close()

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def spare_redis(settings):
    """The cache (throttles, the guard's counters) on a Redis server that the test stops."""
    server = SpareRedis()
    try:
        settings.CACHES = {"default": {
            **settings.CACHES["default"],
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": server.url}}
        yield server
    finally:
        server.stop()


def redeem(api, user, place, codes, key):
    api.force_authenticate(user)
    return api.post(URL, {"codes": codes, "place": place.pk, "service": "acces-poste"},
                    format="json", HTTP_IDEMPOTENCY_KEY=key)


def wrong_check_character(code):
    return code[:-1] + next(c for c in codes.ALPHABET if c != code[-1])


def test_with_redis_stopped_a_mediator_still_redeems_once_and_a_retry_replays_the_answer(
        api, spare_redis, issued, place, mediator_x):
    first, second, third = codes_of(issued, 3)
    assert redeem(api, mediator_x, place, [first], str(uuid.uuid4())).status_code == 201
    spare_redis.stop()

    key = str(uuid.uuid4())
    response = redeem(api, mediator_x, place, [second], key)
    assert response.status_code == 201, response.content
    again = redeem(api, mediator_x, place, [second], key)
    assert (again.status_code, again.json()) == (201, response.json())
    # A cheque paid before the outage is still refused: by the database, not by a counter.
    twice = redeem(api, mediator_x, place, [first], str(uuid.uuid4()))
    assert (twice.status_code, twice.json()["code"]) == (409, "already_redeemed")
    # A mistyped code is refused as always, although the failure cannot be counted.
    typo = redeem(api, mediator_x, place, [wrong_check_character(third)], str(uuid.uuid4()))
    assert (typo.status_code, typo.json()["code"]) == (422, "bad_check_character")
    assert Redemption.objects.filter(undone_at=None).count() == 2
    assert Cheque.objects.filter(state=Cheque.State.REDEEMED).count() == 2


def test_with_redis_stopped_a_mediator_still_looks_up_a_cheque(
        api, spare_redis, issued, mediator_x):
    (code,) = codes_of(issued, 1)
    spare_redis.stop()
    api.force_authenticate(mediator_x)
    assert api.get(f"/api/v1/cheques/{code}/").status_code == 200
    typo = api.get(f"/api/v1/cheques/{wrong_check_character(code)}/")
    assert (typo.status_code, typo.json()["code"]) == (422, "bad_check_character")


def test_with_redis_stopped_anonymous_look_ups_fail_closed(spare_redis):
    anonymous, address = AnonymousUser(), "203.0.113.7"
    guard.ensure_not_blocked(anonymous, address)  # Redis up: nothing counted yet
    spare_redis.stop()
    # Nothing can be counted: an anonymous caller is refused, never let through.
    with pytest.raises(OUTAGE_ERRORS):
        guard.ensure_not_blocked(anonymous, address)
    with pytest.raises(OUTAGE_ERRORS):
        guard.record_failure(anonymous, address, DomainError("unknown_cheque", "Inconnu"))


def test_with_redis_stopped_an_anonymous_request_that_needs_it_gets_a_503_never_a_500(
        client, spare_redis):
    spare_redis.stop()
    # Getting a token is throttled per address in the cache: nothing can be counted.
    response = client.post("/api/v1/auth/token/", {"username": "x", "password": "y"},
                           content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.json() == {"code": "service_unavailable",
                               "detail": "Service momentanément indisponible : réessayez "
                                         "dans quelques instants."}
    page = client.post("/connexion/", {"username": "x", "password": "y"})
    assert page.status_code == 503
    assert page["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "momentanément indisponible" in page.content.decode()
