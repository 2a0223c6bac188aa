"""The "login" rate (20 attempts a minute per address) holds on the API's token endpoint and
on the web login form, counted together."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LOGIN_URL = "/connexion/"


def api_attempt(client, attempt):
    # A new user name each time: axes, which counts failures per user name, stays out of it.
    return client.post(TOKEN_URL, {"username": f"personne{attempt}", "password": "x"},
                       content_type="application/json")


def web_attempt(client, attempt):
    return client.post(LOGIN_URL, {"username": f"personne{attempt}", "password": "x"})


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
