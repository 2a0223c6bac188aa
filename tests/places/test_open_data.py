"""Open data, published: the daily files of qualified places at /donnees/ (lieux.csv in the
national standard v1.0.2, lieux.json for data.inclusion), their page, and the link from every
place's page to its public record."""

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from django.core.management import CommandError, call_command
from django.utils.http import http_date
from frictionless import Resource, Schema

from aptic.models import Organisation
from places import publication, qualification
from places.models import Place
from places.standard.importing import import_places
from places.standard.vocabulary import ACCEPTS_APTIC, V1_COLUMNS
from places.tasks import publish_open_data_task
from tests.factories import OrganisationFactory, make_place
from tests.helpers import HOSTILE_NAME, neutralised, signed_in

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "places" / "data"
CSV_SCHEMA = DATA / "schema_v1.0.2.json"
INCLUSION_SCHEMAS = {"structures": DATA / "data-inclusion_v0_structure.json",
                     "services": DATA / "data-inclusion_v0_service.json"}


@pytest.fixture
def structure(db):
    return OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Espace Numérique",
                               siret="44312345000019")


@pytest.fixture
def open_data(settings, tmp_path):
    """Where this test's files are published."""
    settings.OPEN_DATA_ROOT = tmp_path / "donnees"
    return settings.OPEN_DATA_ROOT


def published(open_data, name):
    return (open_data / name).read_bytes()


def csv_rows(open_data):
    return list(csv.DictReader(io.StringIO(published(open_data, "lieux.csv").decode())))


def json_document(open_data):
    return json.loads(published(open_data, "lieux.json"))


def frictionless_report(open_data):
    schema = Schema.from_descriptor(json.loads(CSV_SCHEMA.read_text()))
    return Resource(path="lieux.csv", basepath=str(open_data), schema=schema).validate()


def inclusion_errors(document):
    """Errors of a data.inclusion document, found with the Python `jsonschema` package (the
    publication checks with jsonschema-rs: two implementations agree)."""
    errors = []
    for collection, path in INCLUSION_SCHEMAS.items():
        schema = json.loads(path.read_text())
        validator = jsonschema.Draft202012Validator(
            schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        for record in document[collection]:
            errors += [f"{record['id']} {list(error.path)}: {error.message}"
                       for error in validator.iter_errors(record)]
    return errors


def statuses(outcomes):
    return {outcome.name: outcome.status for outcome in outcomes}


# --- the files validate and say that the places accept the cheques -------------------------


def test_the_published_files_validate_against_the_national_and_data_inclusion_schemas(
        nomenclature, structure, open_data):
    import_places((DATA / "hinaura-2023_v0.1.json").read_bytes(), qualified=True)
    import_places((DATA / "exemple-valide_v1.0.2.csv").read_bytes(), qualified=True)
    make_place(structure, name=HOSTILE_NAME, phone="05 56 00 00 00", summary="é" * 280)

    outcomes = publication.publish()

    assert statuses(outcomes) == {"lieux.csv": "published", "lieux.json": "published"}
    report = frictionless_report(open_data)
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:10]
    rows = csv_rows(open_data)
    assert list(rows[0]) == V1_COLUMNS
    assert len(rows) == 689
    assert all(ACCEPTS_APTIC in row["autres_formations_labels"].split("|") for row in rows)
    example = next(row for row in rows if row["nom"] == "Anonymal")
    assert example["autres_formations_labels"] == f"Label et la bête|{ACCEPTS_APTIC}"
    assert next(row for row in rows if row["pivot"] == "44312345000019")["nom"] == \
        neutralised(HOSTILE_NAME)

    document = json_document(open_data)
    assert inclusion_errors(document) == []
    assert len(document["structures"]) == 689
    assert all("aptic" in item["labels_nationaux"] for item in document["structures"])
    assert all("pass-numerique" in item["frais"] for item in document["services"])
    assert {item["structure_id"] for item in document["services"]} <= {
        item["id"] for item in document["structures"]}
    assert outcomes[1].counts == {"structures": 689, "services": len(document["services"])}


def test_a_place_is_described_in_data_inclusion_s_words(nomenclature, structure, open_data):
    place = make_place(
        structure, name="Médiathèque de la Bastide " + "x" * 200,
        services=["outils-atelier", "demarches-accompagnement"], postcode="33100",
        insee_code="33063", national_schemes=["France Services", "Aidants Connect"],
        labels=["Fabriques de Territoire"], other_labels="French Tech, Campus connecté",
        fees=["Gratuit"], publics=["Seniors"], specific_support=["Surdité"],
        access_modes=["Se présenter", "Téléphoner"],
        support_modes=["Accompagnement individuel", "À distance"], typology="BIB|ASSO",
        emails=["contact@bastide.example"], websites=["https://bastide.example/"],
        opening_hours="Mo-Fr 09:00-12:00", phone="05 56 00 00 00")
    short = make_place(structure, name="AB", town="Pessac", services=["acces-poste"])

    publication.publish()

    document = json_document(open_data)
    assert inclusion_errors(document) == []
    first, second = document["structures"]
    assert first["id"] == str(place.pk) and first["source"] == "aptic"
    assert len(first["nom"]) == 150 and first["nom"].endswith("…")
    assert second["nom"] == "AB (Pessac)"
    assert first["siret"] == "44312345000019" and first["typologie"] == "BIB"
    assert first["labels_nationaux"] == ["aidants-connect", "aptic", "fabrique-de-territoire",
                                         "france-service"]
    assert first["labels_autres"] == ["French Tech", "Campus connecté"]
    assert first["lien_source"].endswith(f"/lieux/{place.pk}/")
    assert first["telephone"] == "+33556000000" and first["code_insee"] == "33063"
    services = {item["id"]: item for item in document["services"]
                if item["structure_id"] == str(place.pk)}
    assert list(services) == [f"{place.pk}--demarches-accompagnement",
                              f"{place.pk}--outils-atelier"]
    workshop = services[f"{place.pk}--outils-atelier"]
    assert workshop["nom"] == "Atelier collectif (2 h)"
    assert workshop["frais"] == ["gratuit", "pass-numerique"]
    assert workshop["frais_autres"] == f"{ACCEPTS_APTIC} : 2 chèques pour ce service."
    assert workshop["profils"] == ["seniors-65", "surdite"]
    assert workshop["modes_accueil"] == ["a-distance", "en-presentiel"]
    assert workshop["modes_orientation_beneficiaire"] == ["se-presenter", "telephoner"]
    assert "numerique--prendre-en-main-un-ordinateur" in workshop["thematiques"]
    assert services[f"{place.pk}--demarches-accompagnement"]["frais_autres"].endswith(
        ": 1 chèque pour ce service.")
    other = next(item for item in document["services"] if item["structure_id"] == str(short.pk))
    assert other["profils"] == ["tous-publics"]


def test_reading_our_own_file_back_does_not_make_a_place_accept_the_cheques(
        nomenclature, structure, open_data):
    make_place(structure, name="Tiers-lieu", other_labels="French Tech")
    publication.publish()

    report = import_places(published(open_data, "lieux.csv"), source="reprise")

    assert report.created == 1
    copy = Place.objects.get(source="reprise")
    assert copy.other_labels == "French Tech" and not copy.is_qualified


# --- the same bytes twice a day; a place that loses its qualification ----------------------


def test_the_job_run_twice_a_day_publishes_the_same_bytes(clock, nomenclature, structure,
                                                          open_data, client):
    make_place(structure, name="Lieu du matin")
    make_place(structure, name="Lieu du soir", services=["outils-atelier"])
    first = publication.publish()
    files = {name: published(open_data, name) for name in ("lieux.csv", "lieux.json")}
    answers = {name: client.get(f"/donnees/{name}") for name in files}
    published_at = publication.read_state()["files"]["lieux.csv"]["published_at"]

    clock.shift(hours=7)
    again = publish_open_data_task.delay().get()

    assert statuses(first) == {"lieux.csv": "published", "lieux.json": "published"}
    assert {outcome["name"]: outcome["status"] for outcome in again} == {
        "lieux.csv": "unchanged", "lieux.json": "unchanged"}
    for name, content in files.items():
        assert published(open_data, name) == content
        answer = client.get(f"/donnees/{name}")
        assert b"".join(answer.streaming_content) == content
        assert answer["ETag"] == answers[name]["ETag"]
        assert answer["Last-Modified"] == answers[name]["Last-Modified"]
    state = publication.read_state()
    assert state["files"]["lieux.csv"]["published_at"] == published_at
    assert datetime.fromisoformat(state["checked_at"]) > datetime.fromisoformat(published_at)


def test_a_place_that_loses_its_qualification_disappears_from_the_next_file(
        clock, nomenclature, structure, open_data, operator, client):
    kept = make_place(structure, name="Lieu qui reste")
    suspended = make_place(structure, name="Lieu suspendu")
    publication.publish()
    assert [row["nom"] for row in csv_rows(open_data)] == ["Lieu qui reste", "Lieu suspendu"]

    qualification.suspend(suspended, by=operator, reason="Fermé pour travaux")
    clock.shift(hours=1)
    outcomes = publication.publish()

    assert statuses(outcomes) == {"lieux.csv": "published", "lieux.json": "published"}
    assert [row["id"] for row in csv_rows(open_data)] == [str(kept.pk)]
    document = json_document(open_data)
    assert [item["id"] for item in document["structures"]] == [str(kept.pk)]
    assert {item["structure_id"] for item in document["services"]} == {str(kept.pk)}
    assert client.get(f"/donnees/lieux/{suspended.pk}.json").status_code == 404
    assert "1 lieu" in client.get("/donnees/").content.decode()


# --- a file that fails its check is not published; the operator is told --------------------


def test_a_file_that_fails_validation_is_not_published_and_the_operator_is_told_why(
        clock, nomenclature, structure, open_data, operator, mailoutbox, client):
    place = make_place(structure, name="Lieu correct")
    publication.publish()
    before = {name: published(open_data, name) for name in ("lieux.csv", "lieux.json")}
    # A postcode that no form accepts, typed in the admin.
    broken = make_place(structure, name="Lieu mal saisi", postcode="3300A")
    clock.shift(hours=2)

    with pytest.raises(CommandError, match="lieux.csv, lieux.json"):
        call_command("publish_open_data", stdout=io.StringIO())

    for name, content in before.items():
        assert published(open_data, name) == content
    assert sorted(path.name for path in open_data.iterdir()) == [
        ".publication.json", "lieux.csv", "lieux.json"]  # no temporary file left behind
    [mail] = mailoutbox
    assert mail.to == [operator.email]
    assert "lieux.csv, lieux.json" in mail.subject
    assert "code_postal" in mail.body and f"(id {broken.pk})" in mail.body
    assert "restent en ligne" in mail.body and mail.body.rstrip().endswith("/donnees/")
    page = signed_in(operator).get("/donnees/").content.decode()
    assert "Non publié le" in page and "code_postal" in page
    assert "Non publié le" not in client.get("/donnees/").content.decode()
    queue = signed_in(operator).get("/operateur/qualification/").content.decode()
    assert "n’a pas pu être publié" in queue

    broken.postcode = "33000"
    broken.save()
    outcomes = publication.publish()

    assert statuses(outcomes) == {"lieux.csv": "published", "lieux.json": "published"}
    assert [row["nom"] for row in csv_rows(open_data)] == [place.name, "Lieu mal saisi"]
    assert publication.refused_files() == []
    assert "Non publié le" not in signed_in(operator).get("/donnees/").content.decode()
    assert len(mailoutbox) == 1


# --- serving the files -----------------------------------------------------------------------


def test_the_files_are_served_with_validators_and_caching_headers(clock, nomenclature,
                                                                  structure, open_data, client):
    assert client.get("/donnees/lieux.csv").status_code == 404  # nothing published yet
    make_place(structure)
    publication.publish()
    published_at = publication.read_state()["files"]["lieux.csv"]["published_at"]

    answer = client.get("/donnees/lieux.csv")

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert b"".join(answer.streaming_content) == published(open_data, "lieux.csv")
    assert answer["Cache-Control"] == "public, max-age=3600"
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert answer["Last-Modified"] == http_date(datetime.fromisoformat(published_at).timestamp())
    etag = answer["ETag"]
    not_modified = client.get("/donnees/lieux.csv", HTTP_IF_NONE_MATCH=etag)
    assert not_modified.status_code == 304 and not_modified["ETag"] == etag
    assert client.get("/donnees/lieux.csv", HTTP_IF_MODIFIED_SINCE=answer["Last-Modified"]
                      ).status_code == 304
    head = client.head("/donnees/lieux.json")
    assert head.status_code == 200 and head.content == b""
    assert head["Content-Length"] == str(len(published(open_data, "lieux.json")))
    assert head["Content-Type"] == "application/json"
    assert client.get("/donnees/.publication.json").status_code == 404
    assert client.get("/donnees/..%2Fsecret").status_code == 404
    assert client.post("/donnees/lieux.csv").status_code == 405


# --- the page and the links ------------------------------------------------------------------


def test_the_open_data_page_lists_the_files_with_schemas_licence_date_and_counts(
        clock, nomenclature, structure, open_data, client):
    first = client.get("/donnees/").content.decode()
    assert first.count("Pas encore publié") == 2
    make_place(structure, name="Lieu A", services=["outils-atelier", "acces-poste"])
    make_place(structure, name="Lieu B", services=["outils-atelier"])
    publication.publish()

    page = client.get("/donnees/").content.decode()

    assert "Licence Ouverte 2.0" in page and "etalab" in page
    assert "Standard national des lieux de médiation numérique, version 1.0.2" in page
    assert "version v0 (data-inclusion-schema 1.0.6)" in page
    assert "2 lieux" in page and "2 structures" in page and "3 services" in page
    assert clock.today.strftime("%Y") in page
    assert f'datetime="{clock.today.isoformat()}' in page
    assert 'href="/donnees/lieux.csv"' in page and 'href="/donnees/lieux.json"' in page
    assert "http://127.0.0.1:8000/donnees/lieux.csv" in page  # SITE_URL
    english = client.get("/donnees/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200


def test_every_place_page_links_to_the_place_s_public_record(nomenclature, structure, client):
    place = make_place(structure, name="Centre social Les Aubiers")

    page = client.get(f"/lieux/{place.pk}/").content.decode()

    record_url = f"/donnees/lieux/{place.pk}.json"
    assert f'href="{record_url}"' in page and 'href="/donnees/"' in page
    record = client.get(record_url)
    assert record.status_code == 200 and record["Content-Type"].startswith("application/json")
    document = record.json()
    assert inclusion_errors(document) == []
    [item] = document["structures"]
    assert item["id"] == str(place.pk) and item["nom"] == "Centre social Les Aubiers"
    assert item["lien_source"] == f"http://127.0.0.1:8000/lieux/{place.pk}/"
    waiting = make_place(structure, qualified=False)
    assert client.get(f"/donnees/lieux/{waiting.pk}.json").status_code == 404


def test_the_map_links_to_the_open_data(nomenclature, client):
    assert 'href="/donnees/"' in client.get("/lieux/").content.decode()


# --- the daily job ---------------------------------------------------------------------------


def test_the_daily_job_is_declared_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["places-publish-open-data"]
    assert entry["task"] == "places.tasks.publish_open_data_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({4}, {30})


@pytest.fixture
def worker_open_data(settings, tmp_path, monkeypatch):
    """The published files' directory, also for a Celery worker started after it."""
    settings.OPEN_DATA_ROOT = tmp_path / "donnees"
    monkeypatch.setenv("OPEN_DATA_ROOT", str(settings.OPEN_DATA_ROOT))
    return settings.OPEN_DATA_ROOT


def test_the_daily_job_publishes_through_a_real_worker(worker_open_data, celery_worker,
                                                       nomenclature, structure):
    place = make_place(structure, name="Lieu publié par le worker")

    # The test process is not a worker. Celery keeps in one process-wide flag whether a wait
    # would block a task; eager tasks that earlier tests ran in threads (a live server,
    # concurrent redemptions) can leave it set, which would refuse this wait.
    outcomes = publish_open_data_task.delay().get(timeout=120, disable_sync_subtasks=False)

    assert [outcome["status"] for outcome in outcomes] == ["published", "published"]
    assert [row["id"] for row in csv_rows(worker_open_data)] == [str(place.pk)]
    assert frictionless_report(worker_open_data).valid
