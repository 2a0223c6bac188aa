"""The 403, 404 and 500 pages: branded, in the visitor's language (French or English), each
with a way back."""

import re

import pytest
from django.test import Client, RequestFactory
from django.urls import get_resolver
from django.utils import translation

from aptic.models import Role
from tests.factories import member

pytestmark = pytest.mark.django_db

LANGUAGES = {
    "fr": {"404": "Page introuvable", "403": "Accès refusé", "csrf": "Formulaire expiré",
           "500": "Une erreur est survenue", "home": "Revenir à l’accueil"},
    "en": {"404": "Page not found", "403": "Access denied", "csrf": "Form expired",
           "500": "Something went wrong", "home": "Back to the home page"},
}


def words(response):
    html = response.content.decode() if hasattr(response, "content") else response
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def branded(response):
    html = response.content.decode()
    return 'class="brand"' in html and "#APTIC" in words(response) \
        and "site.css" in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_address_gets_the_branded_404_in_the_visitors_language(language):
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/nulle-part/")
    assert response.status_code == 404
    assert branded(response)
    assert f'lang="{language}"' in response.content.decode()
    assert LANGUAGES[language]["404"] in words(response)
    assert LANGUAGES[language]["home"] in words(response)
    assert 'href="/"' in response.content.decode()
    assert 'href="/lieux/"' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_forbidden_page_gets_the_branded_403_with_a_way_back(language):
    # Printing's progress is polled by scripts: an anonymous visitor gets a bare 403 there.
    response = Client(HTTP_ACCEPT_LANGUAGE=language).get("/commandes/1/impression/etat.json")
    assert response.status_code == 403
    assert branded(response)
    assert LANGUAGES[language]["403"] in words(response)
    assert 'href="/connexion/"' in response.content.decode()
    assert "403 Forbidden" not in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_form_sent_without_its_csrf_token_gets_the_branded_403(language):
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/connexion/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert branded(response)
    assert LANGUAGES[language]["csrf"] in words(response)
    assert 'href="/"' in response.content.decode()


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_crash_gets_the_branded_500_in_the_visitors_language(language):
    request = RequestFactory().get("/commandes/")
    with translation.override(language):
        response = get_resolver().resolve_error_handler(500)(request)
    assert response.status_code == 500
    assert branded(response)
    assert LANGUAGES[language]["500"] in words(response)
    assert 'href="/"' in response.content.decode()


def test_a_signed_in_person_refused_a_page_goes_back_to_their_space(client):
    client.force_login(member(Role.MEDIATOR))
    response = client.get("/commandes/1/impression/etat.json")
    assert response.status_code == 403
    assert "Revenir à mon espace" in words(response)
