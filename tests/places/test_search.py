import datetime
import math
import random

import pytest
from django.utils import timezone

from places import gazetteer, search
from places.models import Place, Qualification
from services.models import Service
from tests.factories import make_place

pytestmark = pytest.mark.django_db

LYON = (45.7640, 4.8357)


def reference_km(lat1, lon1, lat2, lon2):
    """Great-circle distance, written independently of places.search (spherical law of
    cosines, good to a metre at these distances)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    cos_angle = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return 6371.0088 * math.acos(min(1.0, cos_angle))


def in_lyon(name, lat, lon, *, services=(), **fields):
    """A qualified place at (lat, lon), with the given services (slugs) only."""
    return make_place(name=name, latitude=lat, longitude=lon, address="1 rue de la République",
                      postcode="69001", town="Lyon", services=services, **fields)


@pytest.fixture
def scattered(nomenclature):
    """60 qualified places scattered within about 60 km of Lyon, and a few that are not
    qualified right next to the centre."""
    rng = random.Random(5)
    places = [in_lyon(f"Lieu {n}", LYON[0] + rng.uniform(-0.5, 0.5),
                         LYON[1] + rng.uniform(-0.7, 0.7),
                         services=[rng.choice(["demarches-accompagnement", "outils-atelier"])])
              for n in range(60)]
    for state in (Qualification.DRAFT, Qualification.SUBMITTED, Qualification.REJECTED,
                  Qualification.SUSPENDED):
        in_lyon(f"Pas qualifié {state}", LYON[0] + 0.0001, LYON[1], qualification=state)
    return places


def test_distance_ordering_matches_a_reference_haversine_computation(client, scattered):
    response = client.get("/api/v1/places/", {"lat": LYON[0], "lon": LYON[1],
                                              "radius_km": 40, "limit": 100})
    assert response.status_code == 200
    results = response.json()["results"]
    expected = sorted(
        ((reference_km(*LYON, p.latitude, p.longitude), p.pk) for p in scattered),
    )
    expected = [(km, pk) for km, pk in expected if km <= 40]
    assert 10 < len(expected) < 60
    assert [r["id"] for r in results] == [pk for _km, pk in expected]
    for result, (km, _pk) in zip(results, expected, strict=True):
        assert result["distance_km"] == pytest.approx(km, abs=0.002)


def test_the_limit_keeps_the_nearest_places(client, scattered):
    results = client.get("/api/v1/places/", {"lat": LYON[0], "lon": LYON[1],
                                             "limit": 5}).json()["results"]
    distances = sorted(reference_km(*LYON, p.latitude, p.longitude) for p in scattered)
    assert [r["distance_km"] for r in results] == pytest.approx(distances[:5], abs=0.002)


def test_only_qualified_places_are_found_listed_on_the_map_or_shown(client, scattered):
    hidden = Place.objects.exclude(qualification=Qualification.QUALIFIED)
    names = {r["name"] for r in client.get("/api/v1/places/", {
        "lat": LYON[0], "lon": LYON[1], "limit": 100}).json()["results"]}
    assert not names & {place.name for place in hidden}
    geojson = client.get("/api/v1/places/geojson/", {"bbox": "4,45,6,47"}).json()
    assert {f["properties"]["id"] for f in geojson["features"]} == {p.pk for p in scattered}
    for place in hidden:
        assert client.get(f"/api/v1/places/{place.pk}/").status_code == 404
        assert client.get(f"/lieux/{place.pk}/").status_code == 404
    assert client.get(f"/api/v1/places/{scattered[0].pk}/").json()["name"] == "Lieu 0"


def test_a_service_filter_accepts_a_service_or_a_whole_category(client, scattered):
    def found(service):
        return {r["id"] for r in client.get("/api/v1/places/", {
            "lat": LYON[0], "lon": LYON[1], "radius_km": 200, "limit": 100,
            "service": service}).json()["results"]}

    demarches = {p.pk for p in scattered if p.services.filter(slug="demarches-accompagnement")}
    assert found("demarches-accompagnement") == demarches
    assert found("demarches") == demarches  # the category
    assert found("outils-quotidien") == {p.pk for p in scattered} - demarches
    assert found("parentalite") == set()


def test_specific_support_and_free_of_charge_filter_the_places(client, nomenclature):
    deaf = in_lyon("Surdité", 45.76, 4.83, specific_support=["Surdité"], fees=["Gratuit"])
    blind = in_lyon("Vue", 45.761, 4.83, specific_support=["Déficience visuelle"],
                       fees=["Payant"])
    both = in_lyon("Les deux", 45.762, 4.83,
                      specific_support=["Surdité", "Déficience visuelle"],
                      fees=["Gratuit sous condition"])

    def found(**params):
        return {r["id"] for r in client.get("/api/v1/places/", {
            "lat": 45.76, "lon": 4.83, **params}).json()["results"]}

    assert found(support="surdite") == {deaf.pk, both.pk}
    assert found(support="deficience-visuelle") == {blind.pk, both.pk}
    assert found(support="surdite,deficience-visuelle") == {both.pk}
    assert found(free="1") == {deaf.pk}
    assert found() == {deaf.pk, blind.pk, both.pk}


def test_open_now_keeps_the_places_open_at_that_moment(nomenclature):
    in_lyon("Matin", 45.76, 4.83, opening_hours="Mo-Fr 09:00-12:00")
    in_lyon("Après-midi", 45.761, 4.83, opening_hours="Mo-Fr 14:00-17:00")
    in_lyon("Sans horaires", 45.762, 4.83)
    monday_10 = timezone.make_aware(datetime.datetime(2025, 1, 6, 10, 0))
    monday_15 = timezone.make_aware(datetime.datetime(2025, 1, 6, 15, 0))

    def names(moment, open_now):
        hits = search.nearby(latitude=45.76, longitude=4.83, moment=moment,
                             filters=search.Filters(open_now=open_now))
        return [(hit.place.name, hit.open_now) for hit in hits]

    assert names(monday_10, True) == [("Matin", True)]
    assert names(monday_15, True) == [("Après-midi", True)]
    assert names(monday_10, False) == [("Matin", True), ("Après-midi", False),
                                       ("Sans horaires", None)]


def test_open_now_looks_past_the_first_batch_of_closed_places(nomenclature):
    for n in range(120):
        in_lyon(f"Fermé {n}", 45.76 + n * 0.0001, 4.83, opening_hours="Su 09:00-10:00")
    in_lyon("Ouvert", 45.80, 4.83, opening_hours="Mo-Fr 09:00-12:00")
    monday_10 = timezone.make_aware(datetime.datetime(2025, 1, 6, 10, 0))
    hits = search.nearby(latitude=45.76, longitude=4.83, moment=monday_10, limit=3,
                         filters=search.Filters(open_now=True))
    assert [hit.place.name for hit in hits] == ["Ouvert"]


def test_a_postcode_or_an_insee_code_searches_around_the_commune(client, nomenclature):
    gazetteer.load(departments=["69"])
    terreaux = in_lyon("Terreaux", 45.7676, 4.8344)
    villeurbanne = in_lyon("Villeurbanne", 45.7665, 4.8795)
    body = client.get("/api/v1/places/", {"postcode": "69001"}).json()
    assert body["center"]["label"] == "Lyon 1er arrondissement (69001)"
    assert [r["id"] for r in body["results"]] == [terreaux.pk, villeurbanne.pk]
    body = client.get("/api/v1/places/", {"insee": "69266"}).json()
    assert body["center"]["label"] == "Villeurbanne"
    assert [r["id"] for r in body["results"]] == [villeurbanne.pk, terreaux.pk]


@pytest.mark.parametrize(("params", "code"), [
    ({"lat": "91", "lon": "4"}, "invalid_coordinates"),
    ({"lat": "-90.5", "lon": "4"}, "invalid_coordinates"),
    ({"lat": "45", "lon": "181"}, "invalid_coordinates"),
    ({"lat": "abc", "lon": "4"}, "invalid_coordinates"),
    ({"lat": "nan", "lon": "4"}, "invalid_coordinates"),
    ({"lat": "45", "lon": "4", "radius_km": "201"}, "invalid_radius"),
    ({"lat": "45", "lon": "4", "radius_km": "0"}, "invalid_radius"),
    ({"lat": "45", "lon": "4", "limit": "0"}, "invalid_limit"),
    ({"lat": "45", "lon": "4", "limit": "dix"}, "invalid_limit"),
    ({"lat": "45", "lon": "4", "service": "nope"}, "unknown_service"),
    ({"lat": "45", "lon": "4", "support": "telepathie"}, "unknown_support"),
    ({"postcode": "00000"}, "unknown_commune"),
    ({}, "missing_location"),
])
def test_bad_search_input_is_a_400_with_a_code_and_a_french_detail(client, nomenclature,
                                                                   params, code):
    response = client.get("/api/v1/places/", params)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["detail"]


@pytest.mark.parametrize("bbox", ["", "1,2,3", "a,b,c,d", "4,45,3,46", "4,46,5,45",
                                  "-200,45,5,46", "4,45,5,95"])
def test_a_bad_viewport_is_a_400(client, bbox):
    response = client.get("/api/v1/places/geojson/", {"bbox": bbox})
    assert response.status_code == 400
    assert response.json()["code"] in {"invalid_bbox", "invalid_coordinates"}


def test_a_crowded_viewport_is_clustered_on_a_grid(scattered):
    viewport = search.in_viewport(west=4, south=45, east=6, north=47, max_features=10,
                                  grid_cells=8)
    assert viewport.clustered
    assert viewport.points == []
    assert sum(count for count, _lat, _lon in viewport.clusters) == 60
    assert any(count > 1 for count, _lat, _lon in viewport.clusters)
    assert len(viewport.clusters) <= 9 * 9  # 8 cells across, plus the edges of the grid


def test_the_geojson_is_a_compact_feature_collection(client, scattered):
    body = client.get("/api/v1/places/geojson/", {"bbox": "4.5,45.5,5.2,46.0",
                                                   "service": "outils-quotidien"}).json()
    assert body["type"] == "FeatureCollection" and body["clustered"] is False
    feature = body["features"][0]
    assert set(feature) == {"type", "id", "geometry", "properties"}
    assert set(feature["properties"]) == {"id", "name"}
    place = Place.objects.get(pk=feature["id"])
    assert place.services.filter(category__slug="outils-quotidien").exists()
    assert feature["geometry"]["coordinates"] == [round(place.longitude, 5),
                                                  round(place.latitude, 5)]


def test_the_bounding_box_encloses_the_search_circle():
    south, west, north, east = search.bounding_box(45.0, 5.0, 100)
    assert reference_km(45, 5, north, 5) == pytest.approx(100, abs=0.01)
    assert reference_km(45, 5, south, 5) == pytest.approx(100, abs=0.01)
    # The easternmost point of the circle is slightly north of the parallel.
    assert reference_km(45, 5, 45, east) >= 100 and reference_km(45, 5, 45, west) >= 100
    assert reference_km(45, 5, 45.05, east) == pytest.approx(100, abs=0.5)


def test_the_map_page_lists_results_without_javascript(client, nomenclature):
    gazetteer.load(departments=["69"])
    in_lyon("EPN des Terreaux", 45.7676, 4.8344, services=["demarches-accompagnement"])
    in_lyon("Maison du quartier", 45.768, 4.835, services=["outils-atelier"])
    page = client.get("/lieux/", {"q": "69001", "service": "demarches"}).content.decode()
    assert "EPN des Terreaux" in page and "Maison du quartier" not in page
    assert "1 lieu trouvé autour de Lyon 1er arrondissement (69001)." in page
    page = client.get("/lieux/", {"q": "Zzzz"}).content.decode()
    assert "Aucune commune ne correspond à « Zzzz »." in page


@pytest.mark.parametrize(("insee", "label", "arrondissement"), [
    ("69123", "Lyon", ("69381", "69001")),
    ("75056", "Paris", ("75104", "75004")),
    ("13055", "Marseille", ("13201", "13001")),
])
def test_the_insee_code_of_paris_lyon_or_marseille_searches_around_its_arrondissements(
        client, nomenclature, insee, label, arrondissement):
    gazetteer.load(departments=[insee[:2]])
    code, postcode = arrondissement
    commune = gazetteer.locate(insee=code)
    place = in_lyon("Au centre", commune.latitude, commune.longitude)
    point = gazetteer.locate(insee=insee)
    assert point.label == label
    # The centroid of the arrondissements, a few km at most from any of them.
    assert reference_km(point.latitude, point.longitude, commune.latitude,
                        commune.longitude) < 8
    body = client.get("/api/v1/places/", {"insee": insee}).json()
    assert body["center"]["label"] == label
    assert [r["id"] for r in body["results"]] == [place.pk]


def test_a_cached_large_viewport_sees_a_place_qualified_after_it_was_cached(client,
                                                                            scattered):
    france = {"bbox": "-4.6,41.6,9.4,51.6"}
    before = client.get("/api/v1/places/geojson/", france).json()
    assert sum(f["properties"].get("count", 1) for f in before["features"]) == 60
    late = in_lyon("Qualifié plus tard", 48.85, 2.35, qualification=Qualification.SUBMITTED)
    assert client.get("/api/v1/places/geojson/", france).json() == before  # unchanged
    late.qualification = Qualification.QUALIFIED
    late.save()
    after = client.get("/api/v1/places/geojson/", france).json()
    assert sum(f["properties"].get("count", 1) for f in after["features"]) == 61
    late.services.set(Service.objects.filter(slug="outils-atelier"))
    with_service = client.get("/api/v1/places/geojson/",
                              {**france, "service": "outils-atelier"}).json()
    assert late.pk in {f["properties"].get("id") for f in with_service["features"]}


def test_open_now_applies_to_a_clustered_viewport(scattered):
    morning = scattered[:25]
    for place in morning:
        place.opening_hours = "Mo-Fr 09:00-12:00"
        place.save()
    for place in scattered[25:40]:
        place.opening_hours = "Mo-Fr 14:00-17:00"
        place.save()
    monday_10 = timezone.make_aware(datetime.datetime(2025, 1, 6, 10, 0))
    viewport = search.in_viewport(west=4, south=45, east=6, north=47, max_features=10,
                                  grid_cells=8, moment=monday_10,
                                  filters=search.Filters(open_now=True))
    assert viewport.clustered
    assert sum(count for count, _lat, _lon in viewport.clusters) == 25
    for _count, lat, lon in viewport.clusters:
        assert 45 <= lat <= 47 and 4 <= lon <= 6
    everything = search.in_viewport(west=4, south=45, east=6, north=47, max_features=10,
                                    grid_cells=8, moment=monday_10)
    assert sum(count for count, _lat, _lon in everything.clusters) == 60


def test_open_now_applies_to_viewport_points(client, nomenclature):
    in_lyon("Matin", 45.76, 4.83, opening_hours="Mo-Fr 09:00-12:00")
    in_lyon("Après-midi", 45.761, 4.83, opening_hours="Mo-Fr 14:00-17:00")
    monday_10 = timezone.make_aware(datetime.datetime(2025, 1, 6, 10, 0))
    viewport = search.in_viewport(west=4.8, south=45.7, east=4.9, north=45.8,
                                  moment=monday_10, filters=search.Filters(open_now=True))
    assert [name for _pk, name, _lat, _lon in viewport.points] == ["Matin"]


def test_the_place_page_hides_the_contacts_section_when_there_are_none(client, nomenclature):
    silent = in_lyon("Sans contact", 45.76, 4.83)
    page = client.get(f"/lieux/{silent.pk}/").content.decode()
    assert 'id="place-contact"' not in page and "<ul>\n    </ul>" not in page
    reachable = in_lyon("Joignable", 45.76, 4.83, phone="04 72 00 00 00",
                           emails=["epn@example.org"])
    page = client.get(f"/lieux/{reachable.pk}/").content.decode()
    assert 'id="place-contact"' in page
    assert 'href="tel:0472000000"' in page and 'href="mailto:epn@example.org"' in page
