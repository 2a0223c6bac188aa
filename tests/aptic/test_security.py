"""Production settings: headers on pages and API responses, login attempts limited."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.conftest import ROOT, database_url_for_subprocess
from tests.helpers import production_environment

pytestmark = pytest.mark.django_db

PROBE = """
import django, json, os
django.setup()
from django.test import Client
client = Client(HTTP_X_FORWARDED_PROTO="https", SERVER_NAME="aptic.example")
out = {}
for url in ("/", "/api/v1/services/"):
    response = client.get(url, secure=True)
    out[url] = {"status": response.status_code, "headers": dict(response.headers),
                "cookies": {k: dict(v) for k, v in response.cookies.items()}}
response = client.get("/connexion/", secure=True)
out["login"] = {k: {"httponly": v["httponly"], "secure": v["secure"], "samesite": v["samesite"]}
                for k, v in response.cookies.items()}
response = client.post("/connexion/", {"username": "cookie@example.org",
                                       "password": "Un mot de passe solide 42"}, secure=True)
out["session"] = {k: {"httponly": v["httponly"], "secure": v["secure"], "samesite": v["samesite"]}
                  for k, v in response.cookies.items()}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_responses(django_db_setup, django_db_blocker, tmp_path_factory):
    """Responses of a production configuration, static files collected as in the image."""
    import json

    from aptic.models import User

    with django_db_blocker.unblock():
        database_url = database_url_for_subprocess()
        User.objects.filter(email="cookie@example.org").delete()
        User.objects.create_user(email="cookie@example.org", password="Un mot de passe solide 42")
    env = production_environment(DATABASE_URL=database_url,
                                 STATIC_ROOT=str(tmp_path_factory.mktemp("static")))
    collect = subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert collect.returncode == 0, collect.stderr
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    with django_db_blocker.unblock():
        User.objects.filter(email="cookie@example.org").delete()
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("url", ["/", "/api/v1/services/"])
def test_pages_and_api_responses_carry_the_security_headers_in_production(
    production_responses, url
):
    response = production_responses[url]
    assert response["status"] == 200
    headers = {k.lower(): v for k, v in response["headers"].items()}
    assert headers["strict-transport-security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["strict-transport-security"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "https://tile.openstreetmap.org" in csp


def test_the_csrf_cookie_is_secure_httponly_or_samesite_in_production(production_responses):
    csrf = production_responses["login"]["csrftoken"]
    assert csrf["secure"] is True
    assert csrf["samesite"] == "Lax"


def test_the_session_cookie_is_secure_httponly_and_samesite_in_production(production_responses):
    session = production_responses["session"]["sessionid"]
    assert session == {"httponly": True, "secure": True, "samesite": "Lax"}


def test_login_attempts_are_limited_with_a_french_message(client, demo, settings):
    settings.LOGIN_FREE_FAILURES = 3
    settings.LOGIN_DELAY_BASE_SECONDS = 60  # no test outruns it
    for _ in range(3):
        client.post(reverse("login"), {"username": "financeur", "password": "faux"})
    response = client.post(reverse("login"), {"username": "financeur", "password": "financeur"})
    assert response.status_code == 429
    assert "Connexion temporairement bloquée" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_lives_on_a_path_set_by_the_environment():
    env = {**os.environ, "ADMIN_URL": "gestion-secrete/"}
    code = ("import django; django.setup(); from django.urls import reverse; "
            "print(reverse('admin:index'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, env={**env, "DJANGO_SETTINGS_MODULE": "aptic.settings"})
    assert result.stdout.strip() == "/gestion-secrete/"


def test_the_api_docs_are_served_from_our_own_static_files(client):
    page = client.get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist" in page
    assert "cdn" not in page.lower() and "unpkg" not in page
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
