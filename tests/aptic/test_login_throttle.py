"""The "login" rate (20 attempts a minute per address) holds on the API's token endpoint and
on the web login form, counted together, on the client's real address."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.conftest import ROOT, database_url_for_subprocess

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


# Run with the settings read from the environment (TRUSTED_PROXIES=1), as in production.
BEHIND_ONE_PROXY = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import override_settings

override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]).enable()

client = Client(REMOTE_ADDR="10.0.0.2")  # every request reaches us through the proxy


def attempt(url, n, address):
    body = {"username": f"personne{n}", "password": "x"}
    # What the proxy passes on: the client's own claim, then the address the proxy saw.
    headers = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}, {address}"}
    if url.startswith("/api/"):
        headers["content_type"] = "application/json"
    return client.post(url, body, **headers).status_code


web = [attempt("/connexion/", n, "203.0.113.5") for n in range(10)]
api = [attempt("/api/v1/auth/token/", n, "203.0.113.5") for n in range(10, 21)]
other = [attempt("/api/v1/auth/token/", 21, "203.0.113.6")]
print(json.dumps({"web": web, "api": api, "other": other}))
"""


def test_behind_one_trusted_proxy_the_client_is_the_address_one_hop_from_the_right():
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL"}}
    env.update(TRUSTED_PROXIES="1", DATABASE_URL=database_url_for_subprocess(),
               DJANGO_SETTINGS_MODULE="aptic.settings")
    result = subprocess.run([sys.executable, "-c", BEHIND_ONE_PROXY], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    statuses = json.loads(result.stdout.strip().splitlines()[-1])
    assert statuses["web"] == [200] * 10
    # One budget for the client whatever it writes first; another client has its own.
    assert statuses["api"] == [400] * 10 + [429]
    assert statuses["other"] == [400]
