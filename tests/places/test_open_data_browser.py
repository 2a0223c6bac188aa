"""A reuser on a phone (360 px) goes from a place's page to the open data and downloads it."""

import json

import pytest
from playwright.sync_api import expect

from aptic.models import Organisation
from places import publication
from tests.factories import OrganisationFactory, make_place

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(clock, nomenclature, settings, tmp_path):
    settings.OPEN_DATA_ROOT = tmp_path / "donnees"
    structure = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Le Tiers-Lieu")
    place = make_place(structure, name="Médiathèque de la Bastide",
                       services=["outils-atelier", "demarches-accompagnement"])
    make_place(structure, name="Centre social des Aubiers", services=["acces-poste"])
    publication.publish()
    return place


def fits_the_screen(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_reuser_on_a_phone_goes_from_a_place_to_the_open_data_and_downloads_it(
        clock, page, published, settings):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(f"/lieux/{published.pk}/")
    record_link = page.get_by_role("link", name="sa fiche publique (JSON)")
    expect(record_link).to_be_visible()
    assert fits_the_screen(page)

    page.get_by_role("link", name="les fichiers publiés chaque jour").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Données ouvertes : les lieux qualifiés")
    assert fits_the_screen(page)
    csv_card = page.locator(".open-data-file", has=page.get_by_role("heading",
                                                                    name="lieux.csv"))
    expect(csv_card).to_contain_text("Standard national des lieux de médiation numérique, "
                                     "version 1.0.2")
    expect(csv_card).to_contain_text("2 lieux")
    expect(csv_card).to_contain_text(str(clock.today.year))
    json_card = page.locator(".open-data-file", has=page.get_by_role("heading",
                                                                     name="lieux.json"))
    expect(json_card).to_contain_text("2 structures, 3 services")
    expect(page.get_by_role("link", name="Licence Ouverte 2.0 (etalab-2.0)")).to_be_visible()
    page.screenshot(path=str(settings.OPEN_DATA_ROOT.parent / "donnees-360.png"),
                    full_page=True)

    download_link = page.get_by_role("link", name="Télécharger lieux.csv")
    box = download_link.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    with page.expect_download() as download:
        download_link.click()
    saved = download.value.path()
    assert open(saved, "rb").read() == (settings.OPEN_DATA_ROOT / "lieux.csv").read_bytes()

    page.goto(f"/lieux/{published.pk}/")
    page.get_by_role("link", name="sa fiche publique (JSON)").click()
    record = json.loads(page.locator("body").inner_text())
    assert [item["nom"] for item in record["structures"]] == ["Médiathèque de la Bastide"]
    assert "aptic" in record["structures"][0]["labels_nationaux"]
