"""Import and export of the national standard of digital-mediation places."""

import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from frictionless import Resource, Schema

from aptic.models import AuditEvent
from places.models import Place, Qualification
from places.standard.importing import import_places
from places.standard.reading import ImportFileError
from places.standard.values import normalise_phone
from places.standard.vocabulary import V1_COLUMNS
from tests.helpers import HOSTILE_ADDRESS, HOSTILE_NAME, HOSTILE_TOWN, neutralised

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "places" / "data"
HINAURA = DATA / "hinaura-2023_v0.1.json"
EXAMPLE = DATA / "exemple-valide_v1.0.2.csv"
SCHEMA = DATA / "schema_v1.0.2.json"


def categories_of(place):
    return {service.category.standard_label for service in place.services.all()}


def v01_csv(*rows, header=None):
    header = header or ["id", "nom", "commune", "code_postal", "adresse", "latitude",
                        "longitude", "services", "publics_accueillis", "telephone", "pivot",
                        "date_maj"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue().encode()


def a_row(**fields):
    row = {"id": "1", "nom": "Médiathèque", "commune": "Annecy", "code_postal": "74000",
           "adresse": "1 rue Royale", "latitude": "45.899", "longitude": "6.129",
           "services": "Prendre en main un ordinateur", "pivot": "00000000000000",
           "date_maj": "2022-08-18"}
    row.update(fields)
    return row


def test_importing_the_hinaura_file_creates_its_687_places(nomenclature):
    report = import_places(HINAURA.read_bytes())

    assert (report.created, report.updated, report.rejected) == (687, 0, [])
    assert Place.objects.count() == 687
    assert not Place.objects.exclude(qualification=Qualification.DRAFT).exists()
    abondance = Place.objects.get(source="Hinaura", source_id="0")
    assert categories_of(abondance) == {"Accès internet et matériel informatique",
                                        "Aide aux démarches administratives"}
    assert abondance.publics == ["Jeunes", "Familles et/ou enfants", "Seniors"]
    assert abondance.specific_support == ["Surdité", "Handicaps mentaux", "Illettrisme",
                                          "Déficience visuelle"]
    assert abondance.fees == ["Gratuit"]
    assert abondance.support_modes == ["Accompagnement individuel"]
    assert abondance.opening_hours == "Tu-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00"
    assert abondance.department == "74"
    assert abondance.latitude == pytest.approx(46.27947045)


def test_importing_the_hinaura_file_twice_creates_nothing_new(nomenclature):
    import_places(HINAURA.read_bytes())
    events = AuditEvent.objects.count()

    again = import_places(HINAURA.read_bytes())

    assert (again.created, again.updated, again.unchanged) == (0, 0, 687)
    assert Place.objects.count() == 687
    assert AuditEvent.objects.count() == events


def test_rows_are_upserted_by_source_and_id(nomenclature):
    import_places(v01_csv(a_row()), source="reseau")
    place = Place.objects.get()

    report = import_places(v01_csv(a_row(nom="Médiathèque Bonlieu",
                                         services="Accéder à du matériel")), source="reseau")
    other_source = import_places(v01_csv(a_row()), source="autre")

    assert (report.created, report.updated) == (0, 1)
    place.refresh_from_db()
    assert place.name == "Médiathèque Bonlieu"
    assert categories_of(place) == {"Accès internet et matériel informatique"}
    assert other_source.created == 1 and Place.objects.count() == 2


def test_the_official_v1_0_2_example_imports(nomenclature):
    report = import_places(EXAMPLE.read_bytes())

    assert (report.version, report.created, report.rejected) == ("1.0.2", 1, [])
    place = Place.objects.get(source="Hubik", source_id="structure-1")
    assert place.pivot == "43493312300029"
    assert place.insee_code == "51454" and place.department == "51"
    assert place.emails == ["contact@laquincaillerie.tl", "responsable@laquincaillerie.tl"]
    assert place.itinerancy == ["Itinérant"]
    assert place.fees == ["Gratuit sous condition", "Payant"]
    assert place.labels == ["Formé à « Mon Espace Santé »",
                            "Arnia/MedNum BFC (Bourgogne-Franche-Comté)"]
    assert place.support_modes == ["En autonomie", "Accompagnement individuel",
                                   "Dans un atelier collectif", "À distance"]
    assert categories_of(place) == {"Maîtrise des outils numériques du quotidien",
                                    "Insertion professionnelle via le numérique",
                                    "Loisirs et créations numériques"}


@pytest.mark.parametrize(("old", "new"), [
    ("Devenir autonome dans les démarches administratives",
     "Aide aux démarches administratives"),
    ("Accompagner les démarches de santé", "Aide aux démarches administratives"),
    ("Prendre en main un smartphone ou une tablette",
     "Maîtrise des outils numériques du quotidien"),
    ("Créer et développer mon entreprise", "Insertion professionnelle via le numérique"),
    ("Soutenir la parentalité et l’éducation avec le numérique",
     "Parentalité et éducation avec le numérique"),
    ("Créer avec le numérique", "Loisirs et créations numériques"),
    ("Promouvoir la citoyenneté numérique", "Compréhension du monde numérique"),
    ("S'équiper en matériel informatique",
     "Acquisition de matériel informatique à prix solidaire"),
])
def test_old_service_labels_map_onto_the_nine_new_ones(nomenclature, old, new):
    import_places(v01_csv(a_row(services=old)))

    place = Place.objects.get()
    assert categories_of(place) == {new}
    assert place.services.count() >= 1
    assert not place.services.filter(active=False).exists()


def test_a_place_offering_a_category_gets_its_active_services_only(nomenclature):
    from services.models import Service

    Service.objects.filter(slug="outils-smartphone").update(active=False)

    import_places(v01_csv(a_row(services="Prendre en main un ordinateur")))

    slugs = set(Place.objects.get().services.values_list("slug", flat=True))
    assert slugs == {"outils-atelier", "outils-accompagnement"}


def test_unusable_rows_are_reported_with_row_field_and_reason_and_the_others_imported(
        nomenclature):
    data = v01_csv(
        a_row(id="ok"),
        a_row(id="london", latitude="51.5072", longitude="-0.1276"),
        a_row(id="nameless", nom=""),
        a_row(id="no-postcode", code_postal=""),
        a_row(id="swapped", latitude="6.129", longitude="45.899"),
        a_row(id="unknown-service", services="Réparer un vélo"),
        a_row(id="unknown-public", publics_accueillis="Astronautes"),
        a_row(id="ok"),
    )

    report = import_places(data)

    assert report.created == 1
    rejected = {(problem.row, problem.place_id, problem.field) for problem in report.rejected}
    assert rejected == {
        (3, "london", "latitude"), (4, "nameless", "nom"), (5, "no-postcode", "code_postal"),
        (6, "swapped", "latitude"), (7, "unknown-service", "services"),
        (8, "unknown-public", "publics_accueillis"), (9, "ok", "id"),
    }
    reasons = {problem.place_id: problem.reason for problem in report.rejected}
    assert "hors de France" in reasons["london"]
    assert "inversées" in reasons["swapped"]
    assert "Réparer un vélo" in reasons["unknown-service"]
    assert "en double" in [r for p, r in reasons.items() if p == "ok"][0]


def test_places_overseas_are_in_france(nomenclature):
    report = import_places(v01_csv(
        a_row(id="reunion", code_postal="97400", commune="Saint-Denis", latitude="-20.882",
              longitude="55.450"),
        a_row(id="guyane", code_postal="97300", commune="Cayenne", latitude="4.9372",
              longitude="-52.326"),
    ))

    assert report.created == 2 and not report.rejected
    assert Place.objects.get(source_id="reunion").department == "974"


@pytest.mark.parametrize(("local", "international"), [
    ("04 50 73 57 11", "+33450735711"),
    ("04.50.73.57.11", "+33450735711"),
    ("0033 4 50 73 57 11", "+33450735711"),
    ("+33 (0)4 50 73 57 11", "+33450735711"),
    ("450735711", "+33450735711"),
    ("0262 12 34 56", "+262262123456"),
    ("0692 12 34 56", "+262692123456"),
    ("0590 12 34 56", "+590590123456"),
    ("0696.12.34.56", "+596696123456"),
    ("04 50 73", ""),
    ("n/c", ""),
])
def test_local_phone_numbers_are_normalised_to_international_form(local, international):
    assert normalise_phone(local) == international


def test_unusable_optional_values_are_dropped_with_a_warning(nomenclature):
    report = import_places(v01_csv(
        a_row(telephone="04 50 73 57 11", date_maj="1970-01-01"),
        a_row(id="2", telephone="appeler la mairie"),
        header=["id", "nom", "commune", "code_postal", "adresse", "latitude", "longitude",
                "services", "telephone", "pivot", "date_maj"],
    ))

    assert report.created == 2
    first, second = Place.objects.order_by("source_id")
    assert first.phone == "+33450735711" and first.source_updated_on is None
    assert first.pivot == "00000000000000"
    assert second.phone == ""
    assert [(w.row, w.field) for w in report.warnings] == [(3, "telephone")]


def test_invalid_opening_hours_are_dropped_with_a_warning_naming_the_syntax(nomenclature):
    data = json.dumps([{**a_row(), "horaires": "lundi matin"}]).encode()

    report = import_places(data)

    assert Place.objects.get().opening_hours == ""
    assert "opening_hours" in report.warnings[0].reason


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.4\x00\x01\x02 binary", "ni un CSV ni un JSON"),
    ("id,nom,commune,code_postal,adresse\n1,Médiathèque,Évian,74500,1 rue\n"
     .encode("latin-1"), "UTF-8"),
    (b"id,nom,commune\n1,Mediatheque,Annecy\n", "code_postal, adresse"),
    (b"[{\"id\": 1, \"nom\": ", "JSON invalide"),
    (b"{\"id\": 1}", "tableau"),
    (b"Bonjour, voici la liste\nde nos lieux\n", "Colonnes obligatoires manquantes"),
    (b"", "vide"),
])
def test_a_malformed_file_gives_one_clear_error_and_imports_nothing(nomenclature, content,
                                                                    message):
    with pytest.raises(ImportFileError, match=message):
        import_places(content)
    assert not Place.objects.exists()


def test_the_command_prints_the_counts_and_one_line_per_rejected_row(nomenclature, tmp_path,
                                                                     capsys):
    path = tmp_path / "lieux.csv"
    path.write_bytes(v01_csv(a_row(), a_row(id="2", code_postal="ABCDE")))

    call_command("import_places", str(path), "--source", "test")

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "created 1, updated 0, rejected 1"
    assert out[1].startswith("rejected ligne 3 (id 2), code_postal : code postal invalide")


def hinaura_as_csv(count, *, broken):
    """The first `count` real places of the Hinaura file written as a v0.1 CSV (the format
    many producers publish), with a NUL byte in the name of the place at index `broken`."""
    places = json.loads(HINAURA.read_text(encoding="utf-8"))[:count]
    columns = sorted({column for place in places for column in place})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for index, place in enumerate(places):
        if index == broken:
            place = {**place, "nom": place["nom"][:5] + "\x00" + place["nom"][5:]}
        writer.writerow(place)
    return out.getvalue().encode(), places[broken]["id"]


@pytest.mark.parametrize("broken", [1, 30])
def test_a_nul_byte_in_one_row_rejects_that_row_with_its_line_and_the_rest_imports(
        nomenclature, tmp_path, capsys, broken):
    # Row 3 sits in the file's first kilobytes, row 32 well past them.
    data, broken_id = hinaura_as_csv(40, broken=broken)
    path = tmp_path / "hinaura.csv"
    path.write_bytes(data)

    call_command("import_places", str(path))

    out = capsys.readouterr().out.splitlines()
    line = broken + 2  # the header is line 1
    assert out[0] == "created 39, updated 0, rejected 1"
    assert out[1] == (f"rejected ligne {line} (id {broken_id}), nom : caractère de contrôle "
                      "(par exemple un caractère nul) : la ligne est illisible")
    assert Place.objects.count() == 39
    assert not Place.objects.filter(source_id=broken_id).exists()


def test_an_escaped_nul_in_one_place_of_a_json_file_rejects_that_place_only(nomenclature):
    places = json.loads(HINAURA.read_text(encoding="utf-8"))
    places[10]["adresse"] = "1 rue\u0000"

    report = import_places(json.dumps(places).encode())

    assert report.created == 686
    assert [(p.row, p.place_id, p.field) for p in report.rejected] == [
        (11, places[10]["id"], "adresse")]


def test_the_command_refuses_a_malformed_file_and_imports_nothing(nomenclature, tmp_path):
    path = tmp_path / "lieux.csv"
    path.write_bytes("nom;ville\nMédiathèque;Évian\n".encode("cp1252"))

    with pytest.raises(CommandError, match="UTF-8.*Rien n’a été importé"):
        call_command("import_places", str(path))
    assert not Place.objects.exists()


def test_a_qualified_import_qualifies_the_places_and_audits_it(demo, tmp_path, capsys):
    path = tmp_path / "hinaura.json"
    path.write_bytes(HINAURA.read_bytes())

    call_command("import_places", str(path), "--qualified", "--actor", "operateur")

    assert Place.objects.qualified().count() == 687
    events = AuditEvent.objects.filter(action="place.imported", to_state="qualified")
    assert events.count() == 687
    assert {event.actor for event in events} == {demo["operateur"]}
    assert all(event.details["qualified_import"] for event in events)
    assert "qualified 687" in capsys.readouterr().out


def test_a_qualified_import_does_not_requalify_a_suspended_place(demo):
    import_places(v01_csv(a_row()), qualified=True)
    Place.objects.update(qualification=Qualification.SUSPENDED)

    import_places(v01_csv(a_row()), qualified=True)

    assert Place.objects.get().qualification == Qualification.SUSPENDED


def export(client):
    response = client.get("/api/v1/places/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return response.content.decode()


def test_the_export_lists_qualified_places_only_in_the_v1_0_2_columns(demo, client):
    import_places(v01_csv(a_row(id="qualified")), qualified=True)
    import_places(v01_csv(a_row(id="draft")))

    rows = list(csv.DictReader(io.StringIO(export(client))))

    assert list(rows[0]) == V1_COLUMNS
    assert [row["nom"] for row in rows] == ["Médiathèque"]
    assert rows[0]["services"] == "Maîtrise des outils numériques du quotidien"


def test_the_export_validates_against_the_national_schema(demo, client, tmp_path):
    import_places(HINAURA.read_bytes(), qualified=True)
    import_places(EXAMPLE.read_bytes(), qualified=True)
    structure = demo["structure"]
    # Placeholders and local formats entered by hand must still export cleanly.
    Place.objects.create(
        structure=structure, name="Lieu saisi à la main", address="1 rue", postcode="33000",
        town="Bordeaux", latitude=44.84, longitude=-0.58, phone="05 56 00 00 00",
        pivot="00000000000000", insee_code="xx", summary="é" * 280,
        publics=["Seniors", "Inconnu"], qualification=Qualification.QUALIFIED,
    )
    path = tmp_path / "export.csv"
    path.write_text(export(client), encoding="utf-8")

    report = Resource(path=path.name, basepath=str(tmp_path),
                      schema=Schema.from_descriptor(json.loads(SCHEMA.read_text()))).validate()

    errors = report.flatten(["rowNumber", "fieldName", "type", "note"])
    assert report.valid, errors[:10]
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert len(rows) == 689
    by_hand = next(row for row in rows if row["nom"] == "Lieu saisi à la main")
    assert by_hand["telephone"] == "+33556000000"
    assert by_hand["pivot"] == "44312345000019"
    assert by_hand["publics_specifiquement_adresses"] == "Seniors"


def test_a_formula_like_place_is_exported_as_text_and_the_file_still_validates(
        demo, client, tmp_path):
    import_places(EXAMPLE.read_bytes(), qualified=True)
    Place.objects.create(
        structure=demo["structure"], name=HOSTILE_NAME, town=HOSTILE_TOWN,
        address=HOSTILE_ADDRESS, summary="-" + "x" * 279, postcode="33000",
        latitude=44.84, longitude=-0.58, phone="05 56 00 00 00",
        qualification=Qualification.QUALIFIED)
    path = tmp_path / "export.csv"
    path.write_text(export(client), encoding="utf-8")

    report = Resource(path=path.name, basepath=str(tmp_path),
                      schema=Schema.from_descriptor(json.loads(SCHEMA.read_text()))).validate()

    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    hostile = next(row for row in csv.DictReader(path.open(encoding="utf-8"))
                   if row["code_postal"] == "33000")
    assert (hostile["nom"], hostile["commune"], hostile["adresse"]) == (
        neutralised(HOSTILE_NAME), neutralised(HOSTILE_TOWN), neutralised(HOSTILE_ADDRESS))
    assert hostile["presentation_resume"] == "'-" + "x" * 278
    # The standard's own values are untouched: a longitude and a phone number with a sign.
    assert (hostile["longitude"], hostile["telephone"]) == ("-0.58", "+33556000000")


def test_an_export_imports_back_as_the_same_places(demo, client):
    import_places(HINAURA.read_bytes(), qualified=True)
    exported = export(client).encode()

    report = import_places(exported, source="reimport")

    assert (report.version, report.created, report.rejected) == ("1.0.2", 687, [])
    original = Place.objects.get(source="Hinaura", source_id="0")
    copy = Place.objects.get(source="reimport", source_id=str(original.pk))
    assert categories_of(copy) == categories_of(original)
    assert copy.specific_support == original.specific_support
