import pytest

from services.models import Category, Service
from services.nomenclature import NOMENCLATURE, ensure_seeded

pytestmark = pytest.mark.django_db

STANDARD_SERVICES = {
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
}


def test_the_migration_seeds_the_nine_services_of_the_national_standard_as_categories():
    assert set(Category.objects.values_list("standard_label", flat=True)) == STANDARD_SERVICES


def test_every_category_has_a_concrete_redeemable_service_with_a_default_number_of_cheques():
    for category in Category.objects.all():
        services = list(category.services.all())
        assert services, category
        assert all(service.default_cheques >= 1 for service in services)
    assert Service.objects.get(slug="outils-atelier").default_cheques == 2


def test_seeding_again_changes_nothing_and_keeps_the_operators_edits():
    Service.objects.filter(slug="outils-atelier").update(label="Atelier (édité)")
    before = Service.objects.count()
    ensure_seeded()
    assert Service.objects.count() == before == sum(len(s) for _, _, s in NOMENCLATURE)
    assert Service.objects.get(slug="outils-atelier").label == "Atelier (édité)"


def test_the_public_api_lists_the_active_nomenclature(client):
    Service.objects.filter(slug="outils-smartphone").update(active=False)
    Category.objects.filter(slug="loisirs").update(active=False)
    response = client.get("/api/v1/services/")
    assert response.status_code == 200
    categories = {c["slug"]: c for c in response.json()["results"]}
    assert "loisirs" not in categories
    outils = [s["slug"] for s in categories["outils-quotidien"]["services"]]
    assert "outils-smartphone" not in outils
    assert {"slug": "outils-atelier", "label": "Atelier collectif (2 h)",
            "default_cheques": 2} in categories["outils-quotidien"]["services"]


def test_an_inactive_service_is_kept_for_history_but_not_selectable():
    service = Service.objects.get(slug="outils-smartphone")
    service.active = False
    service.save()
    assert Service.objects.filter(slug="outils-smartphone").exists()
    assert not Service.objects.get(slug="outils-smartphone").is_selectable
    assert not Service.objects.active().filter(slug="outils-smartphone").exists()
