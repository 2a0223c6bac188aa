"""API calls with a personal token take the lean path (aptic.lean): no session, messages or
CSRF work, but every security header and throttle. Calls from the scan page, with the
session cookie, keep the full path and its CSRF check."""

import pytest
from django.middleware.csrf import get_token
from django.test import Client

from aptic.tokens import create_token, revoke_token
from cheques.models import Redemption
from tests.cheques.redemption_fixtures import codes_of

pytestmark = pytest.mark.django_db

URL = "/api/v1/redemptions/"


def body(place, code):
    return {"code": code, "place": place.pk, "service": "acces-poste"}


def token_post(client, key, data, **headers):
    return client.post(URL, data, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {key}", **headers)


def test_a_token_call_skips_sessions_and_messages_but_keeps_the_security_headers(
        issued, place, mediator_x):
    _token, key = create_token(user=mediator_x, name="caisse")
    response = token_post(Client(), key, body(place, codes_of(issued, 1)[0]))
    assert response.status_code == 201, response.content
    request = response.wsgi_request
    assert not hasattr(request, "session") and not hasattr(request, "_messages")
    assert not response.cookies
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    # A page keeps its session.
    assert hasattr(Client().get("/").wsgi_request, "session")


def test_a_revoked_token_is_refused_at_once_on_the_lean_path(issued, place, mediator_x):
    token, key = create_token(user=mediator_x, name="caisse")
    first, second = codes_of(issued, 2)
    client = Client()
    assert token_post(client, key, body(place, first)).status_code == 201
    revoke_token(token=token, by=mediator_x)
    response = token_post(client, key, body(place, second))
    assert response.status_code == 401
    assert Redemption.objects.count() == 1


def test_a_token_call_is_still_throttled(place, mediator_x, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES",
                        {**ScopedRateThrottle.THROTTLE_RATES, "redemption": "2/min"})
    _token, key = create_token(user=mediator_x, name="caisse")
    client = Client()
    statuses = [token_post(client, key, {"codes": [], "place": place.pk,
                                         "service": "acces-poste"}).status_code
                for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_an_unknown_api_address_with_a_token_answers_in_the_error_shape(mediator_x):
    _token, key = create_token(user=mediator_x, name="caisse")
    response = Client().get("/api/v1/nulle-part/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_scan_page_calls_the_api_with_its_session_and_must_send_the_csrf_token(
        issued, place, mediator_x):
    first, second = codes_of(issued, 2)
    client = Client(enforce_csrf_checks=True)
    client.force_login(mediator_x)
    refused = client.post(URL, body(place, first), content_type="application/json")
    assert refused.status_code == 403
    assert not Redemption.objects.exists()
    page = client.get("/encaisser/")
    token = get_token(page.wsgi_request)
    accepted = client.post(URL, body(place, second), content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content


def test_a_token_that_says_nothing_of_a_session_cannot_ride_on_a_session_cookie(
        issued, place, mediator_x):
    """A call with a token header and the cookie of a signed-in person is judged by the
    token alone: a bad token is refused, the cookie never stands in for it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(mediator_x)
    response = token_post(client, "not-a-real-token", body(place, codes_of(issued, 1)[0]))
    assert response.status_code == 401
    assert not Redemption.objects.exists()
