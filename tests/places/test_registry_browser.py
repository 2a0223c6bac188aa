"""A structure's place manager registers a place online, the operator qualifies it, and it
appears on the public map. In Chromium, under the site's Content-Security-Policy."""

import re

import pytest
from playwright.sync_api import expect

from places import gazetteer
from places.models import Place, Qualification, StructureProfile
from tests.clock import paris
from tests.helpers import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def structure_file_complete(demo):
    """The demo structure has answered the questionnaire, accepted the charter and given its
    bank details (pages tested with the test client): only the place is left to do."""
    StructureProfile.objects.create(
        organisation=demo["structure"], eligibility={"activity": "association"},
        charter_accepted_at=paris(2026, 11, 2, 10), charter_accepted_by=demo["gestionnaire"],
        iban="FR7630006000011234567890189", bic="AGRIFRPP",
        account_holder="Association Clic & Lien")
    gazetteer.load(departments=["33"])
    return demo


def watch_csp(page):
    """Console errors about the Content-Security-Policy, and uncaught script errors."""
    problems = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def field(page, name):
    role = "spinbutton" if name in {"Latitude", "Longitude"} else "textbox"
    return page.get_by_role(role, name=name, exact=True)


def test_a_place_registered_online_and_qualified_appears_on_the_public_map(
        page, structure_file_complete):
    problems = watch_csp(page)
    page.route(re.compile(r"tile\.openstreetmap\.org"), lambda route: route.abort())

    # The structure's place manager adds a place, with hours not in the OSM syntax.
    log_in(page, "gestionnaire")
    page.goto("/structure/lieux/")
    page.get_by_role("link", name="Ajouter un lieu").click()
    field(page, "Nom").fill("Tiers-lieu du Grand Parc")
    field(page, "Adresse").fill("34 cours de Luze")
    field(page, "Code postal").fill("33300")
    field(page, "Code INSEE").fill("33063")
    field(page, "Commune").fill("Bordeaux")
    field(page, "Latitude").fill("44.8612")
    field(page, "Longitude").fill("-0.5706")
    hours = field(page, "Horaires d’ouverture")
    hours.fill("du lundi au vendredi de 9h à 17h")
    page.get_by_label("Atelier collectif démarches en ligne (2 h)").check()
    page.get_by_role("button", name="Enregistrer").click()

    error = page.locator(".field.has-error .error")
    expect(error).to_have_count(1)
    expect(error).to_contain_text("Horaires invalides")
    expect(error).to_contain_text("OpenStreetMap « opening_hours »")
    assert not Place.objects.exists()

    field(page, "Horaires d’ouverture").fill("Mo-Fr 09:00-17:00")
    page.get_by_role("button", name="Enregistrer").click()
    row = page.get_by_role("row", name=re.compile("Tiers-lieu du Grand Parc"))
    expect(row).to_contain_text("Brouillon")
    row.get_by_role("button", name="Demander la qualification").click()
    expect(page.get_by_text("Demande de qualification envoyée à l’opérateur.")).to_be_visible()
    expect(row).to_contain_text("En attente de qualification")
    place = Place.objects.get()
    assert place.qualification == Qualification.SUBMITTED

    # The operator qualifies it from the queue.
    page.context.clear_cookies()
    log_in(page, "operateur")
    page.goto("/operateur/qualification/")
    page.get_by_role("link", name=re.compile("Tiers-lieu du Grand Parc")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tiers-lieu du Grand Parc")
    page.get_by_role("button", name="Qualifier").click()
    expect(page.get_by_text("Décision enregistrée : Qualifié.")).to_be_visible()
    place.refresh_from_db()
    assert place.qualification == Qualification.QUALIFIED

    # Anyone finds it on the public map by its postcode.
    page.context.clear_cookies()
    page.goto("/lieux/")
    expect(page.locator("#places-map.leaflet-container")).to_be_visible()
    box = page.get_by_role("combobox", name="Code postal ou commune")
    box.fill("33300")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#search-status")).to_have_text(re.compile(r"1 lieu trouvé autour de"))
    result = page.locator("#place-results .place-result").first
    expect(result.get_by_role("heading")).to_have_text("Tiers-lieu du Grand Parc")
    expect(result).to_contain_text("Atelier collectif démarches en ligne (2 h)")
    # The map draws the place as a marker: django-leaflet's script ran under the CSP nonce.
    expect(page.locator("#places-map .leaflet-marker-icon").first).to_be_visible()
    assert problems == []
