"""Shared set-up of the redemption tests: a qualified place with its mediators and an issued
order of the funder."""

import pytest

from aptic.models import Organisation, Role
from tests.factories import OrganisationFactory, make_place, member


@pytest.fixture
def structure(db):
    return OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Clic & Lien")


@pytest.fixture
def place(structure, nomenclature):
    return make_place(structure)


@pytest.fixture
def mediator_x(structure):
    return member(Role.MEDIATOR, structure, first_name="Maya", last_name="Médiatrice")


@pytest.fixture
def manager_x(structure):
    return member(Role.PLACE_MANAGER, structure)


@pytest.fixture
def other_place(nomenclature):
    return make_place(OrganisationFactory(kind=Organisation.Kind.STRUCTURE, name="Autre"),
                      name="Autre lieu")


@pytest.fixture
def mediator_y(other_place):
    return member(Role.MEDIATOR, other_place.structure)


@pytest.fixture
def issued(make_order, funder_a, manager_a, operator):
    """An issued order of funder A: 2 booklets of 5 cheques of 10 €, restricted to nothing."""
    return make_order(funder_a, manager_a, approve_by=operator)


def codes_of(order, count=None):
    cheques = order.cheques.order_by("number")
    if count is not None:
        cheques = cheques[:count]
    return list(cheques.values_list("code", flat=True))
