"""The qualification workflow of places, its permissions, audit and notifications."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from aptic.errors import DomainError
from aptic.models import AuditEvent, Organisation, Role
from places import access, qualification
from places.models import Place, Qualification, StructureProfile
from tests.clock import paris
from tests.factories import OrganisationFactory, make_place, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def structure(nomenclature):
    structure = OrganisationFactory(kind=Organisation.Kind.STRUCTURE, siret="44312345000019",
                                    email="contact@structure.example")
    StructureProfile.objects.create(
        organisation=structure, eligibility={"no_extra_charge": True},
        charter_accepted_at=paris(2026, 11, 2, 10), iban="FR7630006000011234567890189",
        bic="AGRIFRPP", account_holder="Association Test",
    )
    return structure


def place_of(structure, **fields):
    """A place of `structure`, in draft unless told otherwise, offering one service."""
    return make_place(structure, **{"name": "Médiathèque", "qualification": Qualification.DRAFT,
                                    "services": ["outils-atelier"], **fields})


def test_a_complete_place_goes_from_submitted_to_qualified_with_audit_and_email(
        structure, manager, operator, django_capture_on_commit_callbacks):
    place = place_of(structure)

    with django_capture_on_commit_callbacks(execute=True):
        qualification.submit(place, by=manager)
    with django_capture_on_commit_callbacks(execute=True):
        qualification.qualify(place, by=operator)

    place.refresh_from_db()
    assert place.qualification == Qualification.QUALIFIED
    events = list(AuditEvent.objects.for_object(place).order_by("id")
                  .values_list("action", "from_state", "to_state", "actor"))
    assert events == [("place.submitted", "draft", "submitted", manager.pk),
                      ("place.qualified", "submitted", "qualified", operator.pk)]
    assert [message.subject for message in mail.outbox] == [
        "Demande de qualification reçue : Médiathèque", "Lieu qualifié : Médiathèque"]
    assert set(mail.outbox[1].to) == {"contact@structure.example", manager.email}


def test_an_incomplete_file_cannot_be_submitted(structure, manager):
    StructureProfile.objects.filter(organisation=structure).update(iban="", bic="")
    place = place_of(structure)
    place.services.clear()

    with pytest.raises(DomainError, match="coordonnées bancaires") as error:
        qualification.submit(place, by=manager)

    assert "services proposés" in error.value.detail
    assert (error.value.code, error.value.status) == ("incomplete", 422)
    place.refresh_from_db()
    assert place.qualification == Qualification.DRAFT
    assert not AuditEvent.objects.for_object(place).exists()


def test_only_the_operator_qualifies(structure, manager):
    place = place_of(structure, qualification=Qualification.SUBMITTED)

    for user in (manager, member(Role.MEDIATOR, structure), member(Role.FUNDER_MANAGER)):
        with pytest.raises(PermissionDenied):
            qualification.qualify(place, by=user)

    place.refresh_from_db()
    assert place.qualification == Qualification.SUBMITTED


def test_a_structure_cannot_submit_or_edit_another_structures_place(structure, manager):
    other = OrganisationFactory(kind=Organisation.Kind.STRUCTURE)
    place = place_of(other)

    with pytest.raises(PermissionDenied):
        qualification.submit(place, by=manager)
    with pytest.raises(PermissionDenied):
        qualification.save_place(place, by=manager)
    assert access.may_edit_place(manager, place_of(structure))
    assert not access.may_edit_place(manager, place)
    assert not access.may_edit_place(member(Role.MEDIATOR, structure), place)


def test_rejecting_needs_a_reason_which_is_sent_to_the_structure(
        structure, operator, django_capture_on_commit_callbacks):
    place = place_of(structure, qualification=Qualification.SUBMITTED)

    with pytest.raises(DomainError, match="motif"):
        qualification.reject(place, by=operator, reason="  ")
    with django_capture_on_commit_callbacks(execute=True):
        qualification.reject(place, by=operator, reason="Horaires d’ouverture manquants.")

    place.refresh_from_db()
    assert place.qualification == Qualification.REJECTED
    assert place.qualification_reason == "Horaires d’ouverture manquants."
    event = AuditEvent.objects.for_object(place).get()
    assert event.details == {"reason": "Horaires d’ouverture manquants."}
    assert "Horaires d’ouverture manquants." in mail.outbox[0].body


def test_a_qualified_place_is_suspended_with_a_reason_then_reinstated(structure, operator):
    place = place_of(structure, qualification=Qualification.QUALIFIED)

    qualification.suspend(place, by=operator, reason="Plainte d’un bénéficiaire.")
    assert not Place.objects.qualified().filter(pk=place.pk).exists()
    qualification.reinstate(place, by=operator)

    place.refresh_from_db()
    assert place.qualification == Qualification.QUALIFIED
    assert list(AuditEvent.objects.for_object(place).order_by("id")
                .values_list("action", flat=True)) == ["place.suspended", "place.reinstated"]


@pytest.mark.parametrize(("state", "action"), [
    (Qualification.DRAFT, "qualify"), (Qualification.QUALIFIED, "qualify"),
    (Qualification.DRAFT, "reject"), (Qualification.SUBMITTED, "suspend"),
    (Qualification.QUALIFIED, "reinstate"),
])
def test_transitions_from_the_wrong_state_are_refused_and_change_nothing(
        structure, operator, state, action):
    place = place_of(structure, qualification=state)
    kwargs = {"reason": "Motif"} if action in ("reject", "suspend") else {}

    with pytest.raises(DomainError) as error:
        getattr(qualification, action)(place, by=operator, **kwargs)

    assert (error.value.code, error.value.status) == ("invalid_status", 409)

    place.refresh_from_db()
    assert place.qualification == state
    assert not AuditEvent.objects.for_object(place).exists()


def test_a_rejected_place_edited_by_its_structure_goes_back_to_draft(structure, manager):
    place = place_of(structure, qualification=Qualification.REJECTED)

    place.opening_hours = "Mo-Fr 09:00-17:00"
    qualification.save_place(place, by=manager, fields=["opening_hours"])

    place.refresh_from_db()
    assert place.qualification == Qualification.DRAFT
    qualification.submit(place, by=manager)
    assert place.qualification == Qualification.SUBMITTED
