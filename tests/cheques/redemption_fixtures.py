"""Shared set-up of the redemption tests: a qualified place with its mediators and an issued
order of the funder."""

import pytest

from aptic.models import Organisation, Role
from places.models import Place, Qualification
from services.models import Service
from tests.factories import OrganisationFactory, member


def make_place(structure, *, postcode="33000", town="Bordeaux", qualified=True, **fields):
    """A place of `structure` (None: an imported place that no structure holds yet)."""
    name = fields.pop("name", None) or f"Lieu de {structure.name}"
    place = Place.objects.create(
        structure=structure, name=name,
        address="1 place de la Bourse", postcode=postcode, town=town,
        latitude=44.8412, longitude=-0.5700,
        qualification=Qualification.QUALIFIED if qualified else Qualification.SUBMITTED,
        **fields,
    )
    place.services.set(Service.objects.active())
    return place


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
