import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from aptic import permissions
from aptic.forms import OrganisationForm
from aptic.models import Membership, Organisation, Role
from tests.factories import OrganisationFactory, member

pytestmark = pytest.mark.django_db


def test_a_valid_siret_is_accepted_and_compacted():
    form = OrganisationForm(data={"name": "Médiathèque", "siret": "443 123 450 00019"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["siret"] == "44312345000019"


def test_a_siret_with_a_wrong_check_digit_is_a_form_error_in_french():
    form = OrganisationForm(data={"name": "Médiathèque", "siret": "44312345000018"})
    assert not form.is_valid()
    assert "SIRET invalide" in form.errors["siret"][0]


def test_a_siret_is_unique_when_present_but_many_organisations_have_none():
    OrganisationFactory(siret="")
    OrganisationFactory(siret="")
    OrganisationFactory(siret="44312345000019")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(siret="44312345000019")


def test_a_role_must_fit_the_kind_of_organisation():
    funder = OrganisationFactory(kind=Organisation.Kind.FUNDER)
    user = member(Role.FUNDER_MANAGER, funder)
    with pytest.raises(ValidationError):
        Membership(user=user, organisation=funder, role=Role.MEDIATOR).full_clean()


def test_a_user_may_act_only_for_the_organisations_where_they_hold_the_role():
    funder_a, funder_b = OrganisationFactory(), OrganisationFactory()
    manager_a = member(Role.FUNDER_MANAGER, funder_a)
    assert permissions.may_act_for_organisation(manager_a, funder_a)
    assert permissions.may_act_for_organisation(manager_a, funder_a, Role.FUNDER_MANAGER)
    assert not permissions.may_act_for_organisation(manager_a, funder_a, Role.PRESCRIBER)
    assert not permissions.may_act_for_organisation(manager_a, funder_b)
    assert not permissions.is_operator(manager_a)


def test_an_inactive_user_acts_for_nobody():
    funder = OrganisationFactory()
    manager = member(Role.FUNDER_MANAGER, funder)
    manager.is_active = False
    manager.save()
    assert not permissions.may_act_for_organisation(manager, funder)


def test_prescribers_attached_to_a_funder_may_distribute_but_not_manage_its_orders():
    funder, other_funder = OrganisationFactory(), OrganisationFactory()
    ccas = OrganisationFactory(kind=Organisation.Kind.PRESCRIBER, funder=funder)
    prescriber = member(Role.PRESCRIBER, ccas)
    assert permissions.may_act_for_funder(prescriber, funder, distribute=True)
    assert not permissions.may_act_for_funder(prescriber, funder)
    assert not permissions.may_act_for_funder(prescriber, other_funder, distribute=True)


def test_mediators_act_for_the_places_of_their_structure_only():
    structure, other = (OrganisationFactory(kind=Organisation.Kind.STRUCTURE) for _ in "ab")
    mediator = member(Role.MEDIATOR, structure)

    class Place:  # any object with a structure_id, as places.Place has
        def __init__(self, structure):
            self.structure_id = structure.pk

    assert permissions.may_act_for_place(mediator, Place(structure))
    assert not permissions.may_act_for_place(mediator, Place(other))
    assert not permissions.may_act_for_place(mediator, Place(structure), Role.PLACE_MANAGER)


def test_the_operator_is_recognised():
    staff = member(Role.OPERATOR_STAFF)
    assert permissions.is_operator(staff)
    assert permissions.roles_of(staff) == {Role.OPERATOR_STAFF}
