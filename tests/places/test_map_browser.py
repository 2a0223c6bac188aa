import re

import pytest
from playwright.sync_api import expect

from places import gazetteer
from places.models import Place, Qualification
from services.models import Service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def qualified_place(name, lat, lon, services, **extra):
    place = Place.objects.create(
        name=name, address="Place des Terreaux", postcode="69001", town="Lyon",
        latitude=lat, longitude=lon, qualification=Qualification.QUALIFIED,
        opening_hours="Mo-Sa 09:00-18:00", **extra)
    place.services.set(Service.objects.filter(slug__in=services))
    return place


@pytest.fixture
def lyon(nomenclature):
    gazetteer.load(departments=["69"])
    return {
        "near": qualified_place("EPN des Terreaux", 45.7676, 4.8344, ["outils-atelier"]),
        "middle": qualified_place("Médiathèque de la Part-Dieu", 45.7606, 4.8590,
                                  ["demarches-accompagnement"]),
        "far": qualified_place("Centre social de Vaulx-en-Velin", 45.7786, 4.9210,
                               ["demarches-atelier", "outils-atelier"]),
    }


def result_names(page):
    return page.locator("#place-results .place-result h3").all_inner_texts()


def test_a_beneficiary_finds_places_near_69001_filters_them_and_opens_one(page, lyon):
    # Tiles come from the internet, which tests do not have: the page must work without.
    page.route(re.compile(r"tile\.openstreetmap\.org"), lambda route: route.abort())
    page.goto("/lieux/")
    expect(page.locator("#places-map")).to_be_visible()
    box = page.get_by_role("combobox", name="Code postal ou commune")
    box.press_sequentially("69001", delay=30)
    option = page.get_by_role("option", name="Lyon 1er arrondissement (69001)")
    expect(option).to_be_visible()
    box.press("ArrowDown")
    expect(option).to_have_attribute("aria-selected", "true")
    box.press("Enter")

    status = page.locator("#search-status")
    expect(status).to_have_text(re.compile(
        r"3 lieux trouvés autour de Lyon 1er arrondissement \(69001\)"))
    assert result_names(page) == ["EPN des Terreaux", "Médiathèque de la Part-Dieu",
                                  "Centre social de Vaulx-en-Velin"]
    distances = [float(text.split()[1].replace(",", ".")) for text in
                 page.locator("#place-results .place-distance").all_inner_texts()]
    assert distances == sorted(distances) and distances[0] < 1 < distances[-1] < 10
    # The map shows the same places as markers (clustered or not).
    expect(page.locator("#places-map .leaflet-marker-icon").first).to_be_visible()

    page.get_by_text("Filtres").click()
    page.get_by_label("Service").select_option(label="Aide aux démarches administratives (tout)")
    expect(status).to_have_text(re.compile(r"2 lieux trouvés"))
    assert result_names(page) == ["Médiathèque de la Part-Dieu",
                                  "Centre social de Vaulx-en-Velin"]

    page.get_by_role("link", name="Médiathèque de la Part-Dieu").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Médiathèque de la Part-Dieu")
    expect(page.get_by_text("Du lundi au samedi de 9 h à 18 h.")).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Itinéraire"))).to_have_attribute(
        "href", re.compile(r"openstreetmap\.org/directions"))


def test_a_town_name_typed_without_accents_is_found_on_submit(page, lyon):
    page.route(re.compile(r"tile\.openstreetmap\.org"), lambda route: route.abort())
    page.goto("/lieux/")
    page.get_by_role("combobox", name="Code postal ou commune").fill("vaulx en velin")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.locator("#search-status")).to_have_text(re.compile(
        r"3 lieux trouvés autour de Vaulx-en-Velin \(69120\)"))
    assert result_names(page)[0] == "Centre social de Vaulx-en-Velin"
