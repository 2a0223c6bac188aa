import pytest
from django.urls import reverse

from aptic import tokens
from aptic.models import ApiToken, AuditEvent, Role
from tests.factories import member

pytestmark = pytest.mark.django_db

# The caller's own profile: needs authentication.
PRIVATE = "/api/v1/me/"


@pytest.fixture
def funder_manager():
    return member(Role.FUNDER_MANAGER)


def test_a_token_is_shown_once_and_only_its_digest_is_stored(client, funder_manager):
    client.force_login(funder_manager)
    response = client.post(reverse("account"), {"name": "mon logiciel"})
    key = response.context["new_key"]
    assert key in response.content.decode()
    token = ApiToken.objects.get(user=funder_manager)
    assert key not in {token.digest, token.prefix} and token.digest == tokens.digest_of(key)
    assert key not in client.get(reverse("account")).content.decode()
    assert AuditEvent.objects.filter(action="api_token.created", actor=funder_manager).exists()


def test_a_token_authenticates_api_requests_and_records_its_last_use(client, funder_manager):
    token, key = tokens.create_token(user=funder_manager, name="erp")
    assert client.get(PRIVATE).status_code in (401, 403)
    for scheme in ("Token", "Bearer"):
        response = client.get(PRIVATE, HTTP_AUTHORIZATION=f"{scheme} {key}")
        assert response.status_code == 200
        assert response.json()["email"] == funder_manager.email
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_or_wrong_token_is_refused_with_a_french_message(client, funder_manager):
    token, key = tokens.create_token(user=funder_manager, name="erp")
    client.force_login(funder_manager)
    client.post(reverse("revoke-api-token", args=[token.pk]))
    client.logout()
    response = client.get(PRIVATE, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 401
    assert response.json()["detail"] == "Jeton d’API invalide ou révoqué."
    assert client.get(PRIVATE, HTTP_AUTHORIZATION="Token 0000").status_code == 401


def test_nobody_but_the_owner_or_the_operator_revokes_a_token(client, funder_manager):
    token, _key = tokens.create_token(user=funder_manager, name="erp")
    client.force_login(member(Role.FUNDER_MANAGER))
    assert client.post(reverse("revoke-api-token", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.is_active
    operator = member(Role.OPERATOR_STAFF)
    client.force_login(operator)
    assert client.post(reverse("revoke-api-token", args=[token.pk])).status_code == 302
    token.refresh_from_db()
    assert not token.is_active and token.revoked_by == operator


def test_revoking_needs_a_post_with_a_csrf_token(funder_manager):
    from django.test import Client

    token, _key = tokens.create_token(user=funder_manager, name="erp")
    client = Client(enforce_csrf_checks=True)
    client.force_login(funder_manager)
    assert client.get(reverse("revoke-api-token", args=[token.pk])).status_code == 405
    assert client.post(reverse("revoke-api-token", args=[token.pk])).status_code == 403
    token.refresh_from_db()
    assert token.is_active


TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "motdepasse-solide-42"  # tests.factories.UserFactory


def ask_token(client, username, password, **extra):
    return client.post(TOKEN_URL, {"username": username, "password": password, **extra},
                       content_type="application/json")


def test_the_api_trades_credentials_for_a_token_shown_once_and_audited(client, funder_manager):
    response = ask_token(client, funder_manager.email, PASSWORD, name="mon logiciel")
    assert response.status_code == 201
    body = response.json()
    token = ApiToken.objects.get(user=funder_manager)
    assert token.name == body["name"] == "mon logiciel"
    assert token.digest == tokens.digest_of(body["key"]) and body["prefix"] == token.prefix
    assert AuditEvent.objects.filter(action="api_token.created", actor=funder_manager,
                                     object_id=str(token.pk)).exists()
    me = client.get(PRIVATE, HTTP_AUTHORIZATION=f"Token {body['key']}")
    assert me.status_code == 200 and me.json()["email"] == funder_manager.email
    # The user name works too, and the token gets a default name.
    again = ask_token(client, funder_manager.username, PASSWORD)
    assert again.status_code == 201 and again.json()["name"] == "API"
    assert again.json()["key"] != body["key"]


def test_wrong_credentials_get_a_french_400_and_no_token(client, funder_manager):
    inactive = member(Role.FUNDER_MANAGER, is_active=False)
    for username, password in ((funder_manager.email, "mauvais"), ("personne", PASSWORD),
                               (inactive.email, PASSWORD)):
        response = ask_token(client, username, password)
        assert response.status_code == 400
        assert response.json() == {"code": "invalid_credentials", "detail": (
            "Identifiant ou mot de passe incorrect. Vérifiez-les et réessayez.")}
    response = client.post(TOKEN_URL, {"username": funder_manager.email},
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert not ApiToken.objects.exists()


def test_a_delayed_account_is_refused_in_the_api_error_shape(client, funder_manager, settings):
    settings.LOGIN_DELAY_BASE_SECONDS = 60  # no test outruns it
    statuses = [ask_token(client, funder_manager.email, "mauvais").status_code
                for _attempt in range(settings.LOGIN_FREE_FAILURES)]
    assert statuses == [400] * settings.LOGIN_FREE_FAILURES
    response = ask_token(client, funder_manager.email, PASSWORD)  # the right password
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "locked_out"
    assert response["Retry-After"] == "60"
    assert not ApiToken.objects.exists()
