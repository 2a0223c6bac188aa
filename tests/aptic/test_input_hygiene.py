"""Malformed input answers 400 (or the page's own refusal), never 500: NUL bytes and other
control characters are refused at the edge, integers are ASCII digits only."""

import pytest
from django.test import Client

from aptic.inputs import parse_int
from aptic.models import Organisation, Role
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("value", "expected"), [
    ("12", 12), (12, 12), ("007", 7), ("²", None), ("٣", None), ("1e3", None), (" 1", None),
    ("1 ", None), ("-1", None), ("+1", None), ("", None), (None, None), (True, None),
    ("9" * 19, None), ("1.0", None), ("１２", None),
])
def test_only_ascii_digits_make_an_integer(value, expected):
    assert parse_int(value) == expected


@pytest.mark.parametrize("url", [
    "/api/v1/places/?postcode=%00",
    "/api/v1/places/?insee=%00",
    "/api/v1/places/?service=%00",
    "/api/v1/places/geojson/?postcode=33000&service=%00",
    "/lieux/?q=33000&service=%00",
    "/lieux/?q=%01",
    "/api/v1/places/?postcode=33000%0A",
])
def test_a_nul_byte_or_a_control_character_in_a_public_query_answers_400(url, nomenclature):
    response = Client().get(url)
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["code"] == "control_characters"
        assert "caractères de contrôle" in response.json()["detail"]
    else:
        assert "caractères de contrôle" in response.content.decode()


def test_a_nul_byte_in_an_address_answers_400_before_any_query(api, nomenclature):
    manager = member(Role.FUNDER_MANAGER)
    api.force_authenticate(manager)
    response = api.post("/api/v1/booklets/%00/distribute/", {}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "control_characters"


def test_a_nul_byte_in_a_json_body_or_a_form_is_refused_and_a_new_line_is_not(api, client,
                                                                                nomenclature):
    from cheques.models import Order

    manager = member(Role.FUNDER_MANAGER)
    api.force_authenticate(manager)
    response = api.post("/api/v1/orders/", '{"booklets": 1, "target_public": "a\\u0000b"}',
                        content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "control_characters"
    escaped = api.post("/api/v1/orders/", '{"booklets": 1, "target_public": "a\\\\u0000b"}',
                       content_type="application/json")
    assert escaped.status_code == 201, escaped.json()  # a backslash, then the text "u0000"
    client.force_login(manager)
    form = client.post("/commandes/nouvelle/", {"booklets": "1", "target_public": "a\x00b"})
    assert form.status_code == 400
    assert Order.objects.count() == 1
    lines = client.post("/commandes/nouvelle/", {"booklets": "x", "custom_wording": "a\r\nb"})
    assert lines.status_code == 200


@pytest.fixture
def place_manager(nomenclature):
    structure = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, siret="44312345000019")
    return member(Role.PLACE_MANAGER, structure)


def test_malformed_numbers_in_the_place_managers_pages_never_fail(client, place_manager):
    client.force_login(place_manager)
    assert client.get("/structure/lieux/?structure=²").status_code == 200
    assert client.get("/structure/lieux/revendiquer/?postcode=%00").status_code == 400
    claim = client.post("/structure/lieux/revendiquer/", {"place": "²"})
    assert claim.status_code == 200


def test_malformed_numbers_in_the_funder_dashboard_never_fail(client, api, nomenclature):
    manager = member(Role.FUNDER_MANAGER)
    client.force_login(manager)
    assert client.get("/financeur/tableau-de-bord/?funder=²").status_code == 404
    assert client.get("/financeur/tableau-de-bord/lieux.json?order=²").status_code == 404
    api.force_authenticate(manager)
    response = api.get("/api/v1/reporting/summary/", {"order": "²"})
    assert response.status_code == 400 and response.json()["code"] == "invalid"
