import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_wrong_login_shows_a_french_error_and_no_500(client, demo):
    response = client.post(reverse("login"), {"username": "financeur", "password": "faux"})
    assert response.status_code == 200
    assert "Identifiant ou mot de passe incorrect" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_works_with_the_user_name_or_the_email(client, demo):
    for login in ("financeur", "financeur@demo.aptic.example"):
        client.logout()
        response = client.post(reverse("login"), {"username": login, "password": "financeur"})
        assert response.status_code == 302, login
        assert response["Location"] == reverse("home")


def test_the_home_page_lists_what_a_role_can_do(client, demo):
    client.force_login(demo["financeur"])
    page = client.get(reverse("home")).content.decode()
    assert "Département de la Gironde" in page
    assert "Gestionnaire financeur" in page
    assert "Administration" not in page

    client.force_login(demo["operateur"])
    assert "Administration" in client.get(reverse("home")).content.decode()


def test_the_anonymous_home_page_offers_the_map_and_the_login(client):
    page = client.get(reverse("home")).content.decode()
    assert reverse("public-map") in page
    assert reverse("login") in page
    assert '<html lang="fr" data-locale="fr-FR">' in page


def test_the_english_switch_translates_the_interface(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get(reverse("home")).content.decode()
    assert '<html lang="en" data-locale="en-GB">' in page
    assert "Log in" in page


def test_the_admin_renders_for_the_operator(client, demo):
    client.force_login(demo["operateur"])
    for url in ("admin:index", "admin:services_service_changelist",
                "admin:aptic_auditevent_changelist", "admin:aptic_organisation_changelist"):
        assert client.get(reverse(url)).status_code == 200, url


def test_a_page_with_a_leaflet_map_renders_with_local_files_only(client):
    response = client.get(reverse("public-map"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "places-map" in page
    assert "/static/leaflet/leaflet.js" in page or "/static/leaflet/leaflet-src.js" in page
    assert "unpkg" not in page and "cdn" not in page.lower()
