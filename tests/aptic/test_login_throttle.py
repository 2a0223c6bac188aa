"""The "login" rate (20 attempts a minute per address) holds on the API's token endpoint and
on the web login form, counted together, on the client's real address."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LOGIN_URL = "/connexion/"


def api_attempt(client, attempt, **headers):
    # A new login each time: the delays per account (aptic.logins) stay out of it.
    return client.post(TOKEN_URL, {"username": f"personne{attempt}", "password": "x"},
                       content_type="application/json", **headers)


def web_attempt(client, attempt, **headers):
    return client.post(LOGIN_URL, {"username": f"personne{attempt}", "password": "x"},
                       **headers)


def forged(attempt):
    """Each attempt claims another origin in a header anyone can write."""
    return {"HTTP_X_FORWARDED_FOR": f"198.51.100.{attempt}"}


def through_the_proxy(attempt, client_address):
    """What one trusted reverse proxy passes on: the client's claim, then the address the
    proxy saw, from the proxy's own address."""
    return {"HTTP_X_FORWARDED_FOR": f"198.51.100.{attempt}, {client_address}",
            "REMOTE_ADDR": "10.0.0.2"}


def test_the_login_rate_is_twenty_attempts_a_minute():
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["login"] == "20/min"


def test_the_21st_token_request_within_a_minute_is_refused(client):
    assert {api_attempt(client, n).status_code for n in range(20)} == {400}
    response = api_attempt(client, 20)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled" and body["detail"].startswith("Trop de demandes")


def test_the_21st_web_login_within_a_minute_gets_a_french_page(client):
    assert {web_attempt(client, n).status_code for n in range(20)} == {200}
    response = web_attempt(client, 20)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Trop de tentatives de connexion depuis votre adresse" in page
    assert "Réessayez dans" in page
    # Reading the login page is not an attempt.
    assert client.get(LOGIN_URL).status_code == 200


def test_the_api_and_the_web_form_share_one_budget(client):
    assert {api_attempt(client, n).status_code for n in range(10)} == {400}
    assert {web_attempt(client, n).status_code for n in range(10, 20)} == {200}
    assert api_attempt(client, 20).status_code == 429
    assert web_attempt(client, 21).status_code == 429


def test_another_address_still_gets_in(client):
    for n in range(21):
        web_attempt(client, n)
    response = client.post(LOGIN_URL, {"username": "personne", "password": "x"},
                           REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 200


def test_a_forged_forwarded_for_header_does_not_reset_the_login_throttle(client):
    assert {web_attempt(client, n, **forged(n)).status_code for n in range(20)} == {200}
    assert web_attempt(client, 20, **forged(20)).status_code == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_token_throttle(client):
    assert {api_attempt(client, n, **forged(n)).status_code for n in range(20)} == {400}
    response = api_attempt(client, 20, **forged(20))
    assert response.status_code == 429 and response.json()["code"] == "throttled"


def test_behind_one_trusted_proxy_the_client_is_the_address_one_hop_from_the_right(
    client, trusted_proxies
):
    trusted_proxies(1)
    for n in range(10):
        assert web_attempt(client, n, **through_the_proxy(n, "203.0.113.5")).status_code == 200
        assert api_attempt(client, n, **through_the_proxy(n, "203.0.113.5")).status_code == 400
    assert web_attempt(client, 20, **through_the_proxy(20, "203.0.113.5")).status_code == 429
    assert api_attempt(client, 21, **through_the_proxy(21, "203.0.113.5")).status_code == 429
    # Another client behind the same proxy has its own budget.
    assert web_attempt(client, 22, **through_the_proxy(22, "203.0.113.6")).status_code == 200
    assert api_attempt(client, 23, **through_the_proxy(23, "203.0.113.6")).status_code == 400
