"""Password guessing (aptic.logins): a login names one account whatever its spelling, failures
delay the next attempts of that account from every address, one address meets a ceiling
across accounts, and the owner is told once."""

import os
import subprocess
import sys

import pytest

from aptic.models import ApiToken, AuditEvent
from tests.conftest import ROOT
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = "/connexion/"
TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "motdepasse-solide-42"  # tests.factories.UserFactory
ACCOUNT_DELAYED = "Trop d’essais de connexion ont échoué pour ce compte"


@pytest.fixture
def owner(db):
    return UserFactory(username="gestionnaireb", email="gestionnaireb@x.example")


@pytest.fixture
def delays(settings):
    """Delays from the third failure on, long enough that no test outruns them."""
    settings.LOGIN_FREE_FAILURES = 3
    settings.LOGIN_DELAY_BASE_SECONDS = 60
    return settings


def web_login(client, login, password, **headers):
    return client.post(LOGIN_URL, {"username": login, "password": password}, **headers)


def token(client, login, password, **headers):
    return client.post(TOKEN_URL, {"username": login, "password": password},
                       content_type="application/json", **headers)


def signed_in(client):
    return "_auth_user_id" in client.session


def wait_of(response):
    return int(response["Retry-After"])


def test_case_variants_of_an_e_mail_count_as_one_account_on_the_web_form(client, owner,
                                                                        delays):
    for login in ("GESTIONNAIREB@X.EXAMPLE", "gestIonnaireb@x.example",
                  " GestionnaireB@x.Example "):
        assert web_login(client, login, "mauvais").status_code == 200
    # The right password, in a spelling never tried before, is refused while delayed.
    response = web_login(client, "gEstionnaireB@X.example", PASSWORD)
    assert response.status_code == 429 and wait_of(response) == 60
    page = response.content.decode()
    assert "Connexion temporairement bloquée" in page
    assert f"{ACCOUNT_DELAYED}. Par sécurité, attendez 1 minute avant de réessayer." in page
    assert not signed_in(client)


def test_case_variants_of_a_login_count_as_one_account_on_the_token_endpoint(client, owner,
                                                                            delays):
    for login in ("GESTIONNAIREB", "gestIonnaireb@x.example", "GestionnaireB"):
        response = token(client, login, "mauvais")
        assert response.status_code == 400 and response.json()["code"] == "invalid_credentials"
    response = token(client, "GESTIONNAIREB@x.EXAMPLE", PASSWORD)
    assert response.status_code == 429 and wait_of(response) == 60
    assert response.json() == {"code": "locked_out", "detail": (
        f"{ACCOUNT_DELAYED}. Par sécurité, attendez 1 minute avant de réessayer.")}
    assert not ApiToken.objects.exists()


def test_failures_from_ever_new_addresses_still_delay_the_account(client, owner, delays):
    for n in range(3):
        web_login(client, owner.email, "mauvais", REMOTE_ADDR=f"203.0.113.{n}")
    response = token(client, owner.email, PASSWORD, REMOTE_ADDR="203.0.113.99")
    assert response.status_code == 429 and response.json()["code"] == "locked_out"


def test_the_e_mail_and_the_user_name_of_an_account_share_one_count(client, owner, delays):
    for login in (owner.email, owner.username, owner.email):
        web_login(client, login, "mauvais")
    assert web_login(client, owner.username, PASSWORD).status_code == 429


def test_a_user_name_typed_in_another_case_is_the_stored_one(client, owner):
    response = web_login(client, "GestionnaireB", PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    assert token(client, "GESTIONNAIREB", PASSWORD).status_code == 201


def test_user_names_that_differ_only_by_case_each_keep_their_exact_spelling(client):
    upper = UserFactory(username="Paul", email="paul.1@example.org")
    lower = UserFactory(username="paul", email="paul.2@example.org")
    assert web_login(client, "paul", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(lower.pk)
    client.logout()
    assert web_login(client, "Paul", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(upper.pk)


def test_each_failure_beyond_the_free_ones_doubles_the_wait_and_the_owner_gets_one_e_mail(
    clock, client, owner, settings, mailoutbox
):
    settings.LOGIN_FREE_FAILURES = 2
    settings.LOGIN_DELAY_BASE_SECONDS = 10
    settings.LOGIN_DELAY_MAX_SECONDS = 35
    assert [token(client, owner.email, "mauvais").status_code for _ in range(2)] == [400, 400]
    waits = []
    for _guess in range(4):
        refused = token(client, owner.email, PASSWORD)
        assert refused.status_code == 429
        waits.append(wait_of(refused))
        clock.shift(seconds=waits[-1])
        assert token(client, owner.email, "mauvais").status_code == 400
    for wait, expected in zip(waits, [10, 20, 35, 35], strict=True):
        # Counted from the last failure, in whole seconds: one may pass before the check.
        assert expected - 1 <= wait <= expected, waits
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [owner.email]
    assert mail.subject == "[#APTIC] Essais de connexion à votre compte"
    assert "(2 de suite)" in mail.body and f"{settings.SITE_URL}{LOGIN_URL}" in mail.body
    assert AuditEvent.objects.filter(action="login.failures").count() == 1
    clock.shift(seconds=35)
    assert token(client, owner.email, PASSWORD).status_code == 201


def test_attempts_refused_during_a_delay_do_not_lengthen_it(clock, client, owner, settings):
    settings.LOGIN_FREE_FAILURES = 1
    settings.LOGIN_DELAY_BASE_SECONDS = 10
    web_login(client, owner.email, "mauvais")
    for _attempt in range(5):
        assert web_login(client, owner.email, "mauvais").status_code == 429
    clock.shift(seconds=10)
    assert web_login(client, owner.email, PASSWORD).status_code == 302


def test_the_right_password_outside_a_delay_starts_the_count_again(client, owner, delays):
    for _failure in range(2):
        web_login(client, owner.email, "mauvais")
    assert token(client, owner.email, PASSWORD).status_code == 201
    for _failure in range(2):
        web_login(client, owner.email, "mauvais")
    assert token(client, owner.email, PASSWORD).status_code == 201


def test_an_unknown_login_is_delayed_exactly_like_a_real_one(client, owner, delays, mailoutbox):
    answers = []
    for login in (owner.email, "personne@x.example"):
        for _failure in range(3):
            token(client, login, "mauvais")
        refused = token(client, login, "mauvais")
        answers.append((refused.status_code, refused.json(), wait_of(refused)))
    assert answers[0] == answers[1]
    assert [mail.to for mail in mailoutbox] == [[owner.email]]


def test_one_address_trying_many_accounts_meets_the_address_ceiling(client, owner, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 5
    for n in range(5):
        victim = UserFactory()
        assert token(client, victim.email, f"mauvais{n}").status_code == 400
    response = web_login(client, owner.email, PASSWORD)
    assert response.status_code == 429 and not signed_in(client)
    assert ("Trop d’essais de connexion ont échoué depuis votre adresse. Réessayez dans "
            in response.content.decode())
    api = token(client, owner.email, PASSWORD)
    assert api.status_code == 429 and api.json()["code"] == "locked_out"
    # The owner, from home, is not concerned.
    assert web_login(client, owner.email, PASSWORD, REMOTE_ADDR="192.0.2.50").status_code == 302


def test_the_admin_login_counts_and_delays_like_the_others(client, delays):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for _failure in range(3):
        web_login(client, staff.email, "mauvais")
    admin_login = f"/{delays.ADMIN_URL}login/"
    response = client.post(admin_login, {"username": staff.email, "password": PASSWORD,
                                         "next": f"/{delays.ADMIN_URL}"})
    assert response.status_code == 200 and not signed_in(client)
    assert ACCOUNT_DELAYED in response.content.decode()


@pytest.mark.parametrize("name", ["LOGIN_DELAY_BASE_SECONDS", "LOGIN_ADDRESS_FAILURE_LIMIT",
                                  "ADDRESS_CEILING_FACTOR"])
def test_a_zero_limit_in_the_environment_stops_the_start_instead_of_lifting_the_limit(name):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aptic.settings", name: "0"}
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT,
                            env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "must be positive" in result.stderr
