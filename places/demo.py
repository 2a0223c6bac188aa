"""Demo data of the places app: the demo structure's qualified place in Bordeaux, and the
real places of the Hinaura network so that the public map has content."""

from pathlib import Path

from django.db import transaction
from django.utils import timezone

from aptic import audit
from services.models import Service

from .models import Place, Qualification, StructureProfile
from .standard.importing import import_places

DATA = Path(__file__).resolve().parent / "data"
HINAURA = DATA / "hinaura-2023_v0.1.json"

DEMO_PLACE = dict(
    name="Espace numérique Clic & Lien",
    address="12 place Pey-Berland",
    postcode="33000",
    insee_code="33063",
    town="Bordeaux",
    latitude=44.837789,
    longitude=-0.577680,
    opening_hours="Mo-Fr 09:00-12:30,13:30-18:00; Sa 09:00-12:00",
    phone="+33556000000",
    emails=["bonjour@clicetlien.example"],
    summary="Ateliers et accompagnements individuels au numérique, démarches en ligne, "
            "prise en main du smartphone.",
    publics=["Seniors", "Jeunes"],
    specific_support=["Surdité", "Déficience visuelle"],
    fees=["Gratuit"],
    access_modes=["Se présenter", "Téléphoner"],
    support_modes=["Accompagnement individuel", "Dans un atelier collectif"],
    itinerancy=["Fixe"],
    national_schemes=["Conseillers numériques"],
)


def load(accounts, stdout):
    """Idempotent: running it again changes nothing."""
    structure, operator = accounts["structure"], accounts["operateur"]
    with transaction.atomic():
        profile, _created = StructureProfile.objects.get_or_create(organisation=structure)
        if not (profile.has_bank_details and profile.charter_accepted_at and profile.eligibility):
            profile.iban = "FR7630006000011234567890189"
            profile.bic = "AGRIFRPP"
            profile.account_holder = "Association Clic & Lien"
            profile.charter_accepted_at = profile.charter_accepted_at or timezone.now()
            profile.charter_accepted_by = profile.charter_accepted_by or accounts["gestionnaire"]
            profile.eligibility = profile.eligibility or {
                "activity": "association", "mediators": 3, "yearly_people": 400,
                "public_reception": True, "trained_mediators": True, "no_extra_charge": True,
                "equipment": True,
            }
            profile.save()
        place, created = Place.objects.get_or_create(
            source="aptic-demo", source_id="clic-et-lien-bordeaux",
            defaults={**DEMO_PLACE, "structure": structure},
        )
        services = Service.objects.active().filter(category__active=True)
        if set(place.services.values_list("pk", flat=True)) != set(
                services.values_list("pk", flat=True)):
            place.services.set(services)
        if created:
            audit.record(accounts["gestionnaire"], place, "place.created", "",
                         place.qualification)
        if place.qualification != Qualification.QUALIFIED:
            from_state = place.qualification
            place.qualification = Qualification.QUALIFIED
            place.qualification_reason = ""
            place.save(update_fields=["qualification", "qualification_reason", "updated_at"])
            audit.record(operator, place, "place.qualified", from_state,
                         Qualification.QUALIFIED, via="demo")
    report = import_places(HINAURA.read_bytes(), qualified=True, actor=operator,
                           file_name=HINAURA.name)
    stdout.write(f"Lieux Hinaura : {report.summary()}")
