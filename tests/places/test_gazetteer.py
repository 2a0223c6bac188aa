import gzip

import pytest
from django.core.management import call_command

from places import gazetteer
from places.models import Commune


def test_la_poste_upper_case_names_are_made_readable():
    assert gazetteer.readable_name("ST ETIENNE") == "Saint-Etienne"
    assert gazetteer.readable_name("STE FOY LES LYON") == "Sainte-Foy-les-Lyon"
    assert gazetteer.readable_name("L ISLE D ESPAGNAC") == "L’Isle-d’Espagnac"
    assert gazetteer.readable_name("LA HAYE PESNEL") == "La Haye-Pesnel"
    assert gazetteer.readable_name("VILLENEUVE D ASCQ") == "Villeneuve-d’Ascq"
    assert gazetteer.readable_name("LYON 01") == "Lyon 1er arrondissement"
    assert gazetteer.readable_name("PARIS 16") == "Paris 16e arrondissement"


def test_search_names_ignore_case_accents_and_punctuation():
    assert gazetteer.normalise("L’Isle-d’Espagnac") == "l isle d espagnac"
    assert gazetteer.normalise("SAINT-ÉTIENNE") == "saint etienne"
    assert gazetteer.normalise_query("St-Étienne") == "saint etienne"
    assert gazetteer.normalise_query("st") == "st"  # still typing: could be Strasbourg


def test_the_data_file_is_derived_one_row_per_commune_and_postcode(tmp_path):
    source = tmp_path / "laposte.csv.gz"
    with gzip.open(source, "wt", encoding="utf-8") as handle:
        handle.write(
            "Code_commune_INSEE;Nom_commune;Code_postal;Ligne_5;Libellé_d_acheminement;"
            "coordonnees_gps\n"
            "42218;ST ETIENNE;42100;;ST ETIENNE;45.4301235512,4.37913997076\n"
            "42218;ST ETIENNE;42100;TERRENOIRE;ST ETIENNE;45.4301235512,4.37913997076\n"
            "42218;ST ETIENNE;42000;;ST ETIENNE;45.4301235512,4.37913997076\n"
            "2A004;AJACCIO;20000;;AJACCIO;41.9347926638,8.70132275974\n"
            "98735;PAPEETE;98714;;PAPEETE;\n"
        )
    target = tmp_path / "communes.csv.gz"
    assert gazetteer.build_data_file(source, target) == 4
    rows = list(gazetteer.read_rows(target))
    assert [(r["insee"], r["postcode"]) for r in rows] == [
        ("2A004", "20000"), ("42218", "42000"), ("42218", "42100"), ("98735", "98714")]
    assert rows[1] == {"insee": "42218", "name": "Saint-Etienne", "postcode": "42000",
                       "lat": "45.43012", "lon": "4.37914", "department": "42"}
    assert rows[0]["department"] == "2A"
    assert rows[3]["department"] == "987" and rows[3]["lat"] == ""


def test_the_shipped_file_covers_france_with_departments_and_coordinates():
    rows = list(gazetteer.read_rows())
    assert 35000 < len(rows) < 36000
    assert len({(row["insee"], row["postcode"]) for row in rows}) == len(rows)
    assert all(row["department"] for row in rows)
    assert sum(1 for row in rows if not row["lat"]) < 300
    lyon = [row for row in rows if row["postcode"] == "69001"]
    assert [row["name"] for row in lyon] == ["Lyon 1er arrondissement"]


@pytest.mark.django_db
def test_loading_the_communes_is_idempotent():
    Commune.objects.all().delete()
    assert gazetteer.load(departments=["69"]) > 250
    count = Commune.objects.count()
    gazetteer.load(departments=["69"])
    assert Commune.objects.count() == count
    lyon = Commune.objects.get(postcode="69001")
    assert (lyon.insee_code, lyon.department, lyon.search_name) == (
        "69381", "69", "lyon 1er arrondissement")


@pytest.mark.django_db
def test_the_load_communes_command_loads_the_whole_file(capsys):
    call_command("load_communes")
    assert 35000 < Commune.objects.count() < 36000
    assert "communes loaded" in capsys.readouterr().out


@pytest.mark.django_db
def test_autocompletion_ignores_accents_and_case_and_matches_postcode_prefixes():
    gazetteer.load(departments=["42", "69"])
    for query in ("SAINT-ÉTIENNE", "saint etienne", "St Étienne", "st-etie"):
        names = [commune.name for commune in gazetteer.autocomplete(query)]
        assert names[0] == "Saint-Etienne", query
    assert [c.postcode for c in gazetteer.autocomplete("6900")] == [
        f"6900{n}" for n in range(1, 10)]
    assert gazetteer.autocomplete("x") == []
    # A word inside the name matches too, after the names that begin with it.
    assert "Sainte-Foy-les-Lyon" in [c.name for c in gazetteer.autocomplete("foy les l")]


@pytest.mark.django_db
def test_the_communes_api_autocompletes_without_login(client):
    gazetteer.load(departments=["69"])
    response = client.get("/api/v1/communes/", {"q": "villeurb"})
    assert response.status_code == 200
    assert response.json()["results"] == [{
        "insee": "69266", "name": "Villeurbanne", "postcode": "69100", "department": "69",
        "latitude": 45.77077, "longitude": 4.88846, "label": "Villeurbanne (69100)"}]
    assert client.get("/api/v1/communes/", {"q": "x" * 101}).json()["code"] == "invalid_query"


@pytest.mark.django_db
def test_a_postcode_shared_by_several_communes_is_located_at_their_mean_centre():
    gazetteer.load(postcode_prefixes=["69"])
    communes = list(Commune.objects.filter(postcode="69490"))
    assert len(communes) > 1
    point = gazetteer.locate(postcode="69490")
    assert point.latitude == pytest.approx(sum(c.latitude for c in communes) / len(communes))
    assert gazetteer.locate(postcode="00000") is None
    assert gazetteer.locate(insee="99999") is None
    # Lyon is only listed by arrondissement: its INSEE code searches around their centroid.
    assert gazetteer.locate(insee="69123").label == "Lyon"
