"""A qualified place's rename, address change or new bank details wait for the operator;
the public record (map, API, place page, open-data export) keeps the old values until
then. Other edits apply at once."""

import csv
import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client

from aptic.models import AuditEvent, Organisation, Role
from places import review
from places.models import ChangeRequest, Place, Qualification, Request, StructureProfile
from tests.cheques.reimbursement_support import BIC_A, BIC_B, IBAN_A, IBAN_B, bank
from tests.factories import OrganisationFactory, make_place, member
from tests.helpers import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def structure():
    return OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Clic & Lien",
                               email="contact@clic.example")


@pytest.fixture
def place(structure, nomenclature):
    return make_place(structure, name="Médiathèque Mériadeck", opening_hours="Tu-Sa 10:00-18:00")


def form_data(place, **changes):
    data = {"name": place.name, "address": place.address, "postcode": place.postcode,
            "town": place.town, "insee_code": place.insee_code,
            "latitude": str(place.latitude), "longitude": str(place.longitude),
            "opening_hours": place.opening_hours,
            "services": list(place.services.values_list("pk", flat=True))}
    data.update(changes)
    return data


def public_record(place):
    """What anyone sees of the place: its API answer, its page, the map, the export."""
    client = Client()
    detail = client.get(f"/api/v1/places/{place.pk}/").json()
    page = client.get(f"/lieux/{place.pk}/").content.decode()
    hits = client.get("/api/v1/places/", {"lat": "44.8412", "lon": "-0.57"}).json()["results"]
    export = client.get("/api/v1/places/export.csv").content.decode()
    row = next(row for row in csv.DictReader(io.StringIO(export)) if row["id"] == str(place.pk))
    hit = next(hit for hit in hits if hit["id"] == place.pk)
    return {"api": (detail["name"], detail["address"], detail["postcode"], detail["town"]),
            "map": (hit["name"], hit["address"], hit["postcode"], hit["town"]),
            "export": (row["nom"], row["adresse"], row["code_postal"], row["commune"]),
            "page": (place.name in page, place.address in page)}


def test_renaming_a_qualified_place_waits_for_the_operator_and_the_public_keeps_the_old_name(
        place, manager, operator, django_capture_on_commit_callbacks):
    before = public_record(place)

    response = signed_in(manager).post(
        f"/structure/lieux/{place.pk}/modifier/",
        form_data(place, name="=HYPERLINK(\"http://evil.example\")",
                  opening_hours="Mo-Fr 09:00-12:00"))

    assert response.status_code == 302
    place.refresh_from_db()
    assert place.name == "Médiathèque Mériadeck"
    assert place.opening_hours == "Mo-Fr 09:00-12:00"  # not sensitive: applied at once
    assert public_record(place) == before
    change = ChangeRequest.objects.get()
    assert (change.kind, change.state, change.values, change.previous, change.requested_by) == (
        ChangeRequest.Kind.PLACE, Request.PENDING, {"name": "=HYPERLINK(\"http://evil.example\")"},
        {"name": "Médiathèque Mériadeck"}, manager)
    operator_client = signed_in(operator)
    assert f"/operateur/modifications/{change.pk}/" in operator_client.get(
        "/operateur/qualification/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        operator_client.post(f"/operateur/modifications/{change.pk}/", {"decision": "approve"})

    place.refresh_from_db()
    assert place.name == "=HYPERLINK(\"http://evil.example\")"
    assert public_record(place)["api"][0] == place.name
    change.refresh_from_db()
    assert (change.state, change.decided_by) == (Request.APPROVED, operator)
    assert list(AuditEvent.objects.for_object(change).order_by("id")
                .values_list("action", flat=True)) == ["change.requested", "change.approved"]
    approved = AuditEvent.objects.for_object(place).filter(details__change=change.pk).get()
    assert (approved.action, approved.actor, approved.details["fields"]) == (
        "place.updated", operator, ["name"])
    assert mail.outbox[-1].subject.startswith("Modification acceptée")


def test_moving_a_qualified_place_waits_for_the_operator_who_may_refuse(
        place, manager, operator, django_capture_on_commit_callbacks):
    before = public_record(place)

    signed_in(manager).post(f"/structure/lieux/{place.pk}/modifier/", form_data(
        place, address="34 cours de Luze", postcode="33300", town="Bordeaux Bastide",
        latitude="44.8612", longitude="-0.5706"))

    place.refresh_from_db()
    assert (place.address, place.postcode, place.latitude) == ("1 place de la Bourse", "33000",
                                                               44.8412)
    assert public_record(place) == before
    change = review.pending_for_place(place)
    assert sorted(change.values) == ["address", "latitude", "longitude", "postcode", "town"]

    with django_capture_on_commit_callbacks(execute=True):
        refused = signed_in(operator).post(f"/operateur/modifications/{change.pk}/",
                                           {"decision": "refuse", "reason": "Adresse inconnue."})

    assert refused.status_code == 302
    place.refresh_from_db()
    assert (place.address, place.postcode) == ("1 place de la Bourse", "33000")
    change.refresh_from_db()
    assert (change.state, change.decision_reason) == (Request.REFUSED, "Adresse inconnue.")
    assert "Adresse inconnue." in mail.outbox[-1].body


def test_the_edit_form_shows_the_pending_request_and_saving_it_again_keeps_it(place, manager):
    client = signed_in(manager)
    client.post(f"/structure/lieux/{place.pk}/modifier/", form_data(place, name="Nouveau nom"))

    page = client.get(f"/structure/lieux/{place.pk}/modifier/").content.decode()
    assert 'value="Nouveau nom"' in page and "en attente de validation" in page
    client.post(f"/structure/lieux/{place.pk}/modifier/",
                form_data(place, name="Nouveau nom", phone="05 56 10 30 00"))
    assert ChangeRequest.objects.get().values == {"name": "Nouveau nom"}

    # Typing the public name back withdraws the request.
    client.post(f"/structure/lieux/{place.pk}/modifier/",
                form_data(place, phone="05 56 10 30 00"))
    change = ChangeRequest.objects.get()
    assert change.state == Request.WITHDRAWN
    place.refresh_from_db()
    assert (place.name, place.phone) == ("Médiathèque Mériadeck", "+33556103000")


def test_a_place_that_is_not_public_yet_is_renamed_at_once(structure, manager, nomenclature):
    draft = make_place(structure, name="Brouillon", qualified=False)

    signed_in(manager).post(f"/structure/lieux/{draft.pk}/modifier/",
                            form_data(draft, name="Tiers-lieu du Grand Parc"))

    draft.refresh_from_db()
    assert draft.name == "Tiers-lieu du Grand Parc"
    assert not ChangeRequest.objects.exists()


def test_the_operator_renames_a_qualified_place_at_once(place, operator):
    signed_in(operator).post(f"/structure/lieux/{place.pk}/modifier/",
                             form_data(place, name="Médiathèque Mériadeck (Bordeaux)"))

    place.refresh_from_db()
    assert place.name == "Médiathèque Mériadeck (Bordeaux)"
    assert not ChangeRequest.objects.exists()


def test_new_bank_details_of_a_structure_with_a_qualified_place_wait_for_the_operator(
        place, structure, manager, operator):
    bank(structure, iban=IBAN_A, bic=BIC_A, holder="Clic & Lien")

    response = signed_in(manager).post("/structure/banque/", {
        "iban": IBAN_B, "bic": BIC_B, "account_holder": "Quelqu’un d’autre"})

    assert response.status_code == 302
    profile = StructureProfile.objects.get(organisation=structure)
    assert (profile.iban, profile.bic, profile.account_holder) == (IBAN_A, BIC_A, "Clic & Lien")
    change = review.pending_for_bank(structure)
    assert change.values == {"iban": IBAN_B, "bic": BIC_B, "account_holder": "Quelqu’un d’autre"}
    requested = AuditEvent.objects.for_object(change).get()
    assert IBAN_B not in str(requested.details) and IBAN_A not in str(requested.details)
    assert "en attente de validation" in signed_in(manager).get(
        "/structure/banque/").content.decode()

    review.approve(change, by=operator)

    profile.refresh_from_db()
    assert (profile.iban, profile.bic, profile.account_holder) == (IBAN_B, BIC_B,
                                                                   "Quelqu’un d’autre")


def test_the_first_bank_details_of_a_structure_without_a_public_place_apply_at_once(
        structure, manager, nomenclature):
    make_place(structure, qualified=False)

    signed_in(manager).post("/structure/banque/", {"iban": IBAN_A, "bic": BIC_A,
                                                   "account_holder": "Clic & Lien"})

    assert StructureProfile.objects.get(organisation=structure).iban == IBAN_A
    assert not ChangeRequest.objects.exists()


def test_only_the_operator_decides_a_change(place, manager, operator):
    signed_in(manager).post(f"/structure/lieux/{place.pk}/modifier/",
                            form_data(place, name="Nouveau nom"))
    change = ChangeRequest.objects.get()

    own = signed_in(manager).post(f"/operateur/modifications/{change.pk}/",
                                  {"decision": "approve"})
    stranger = signed_in(member(Role.PLACE_MANAGER)).get(f"/operateur/modifications/{change.pk}/")

    assert (own.status_code, stranger.status_code) == (403, 404)
    with pytest.raises(PermissionDenied):
        review.approve(change, by=manager)
    place.refresh_from_db()
    assert place.name == "Médiathèque Mériadeck"
    assert Place.objects.get(pk=place.pk).qualification == Qualification.QUALIFIED
