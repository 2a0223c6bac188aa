import datetime

import pytest

from aptic.models import Organisation, Role
from tests import factories
from tests.factories import OrganisationFactory, member


@pytest.fixture
def funder_a(db):
    return OrganisationFactory(kind=Organisation.Kind.FUNDER, name="Financeur A",
                               email="a@financeur.example")


@pytest.fixture
def funder_b(db):
    return OrganisationFactory(kind=Organisation.Kind.FUNDER, name="Financeur B")


@pytest.fixture
def manager_a(funder_a):
    return member(Role.FUNDER_MANAGER, funder_a)


@pytest.fixture
def manager_b(funder_b):
    return member(Role.FUNDER_MANAGER, funder_b)


@pytest.fixture
def operator(db):
    return member(Role.OPERATOR_STAFF)


@pytest.fixture
def mediator(db):
    return member(Role.MEDIATOR)


@pytest.fixture
def make_order(nomenclature):
    """tests.factories.make_order, once the nomenclature is seeded."""
    return factories.make_order


def next_june(today):
    return datetime.date(today.year + 1, 6, 30)


@pytest.fixture
def form_data(clock):
    """The order form filled in, valid until 30 June of next year."""
    def data(**extra):
        data = {"booklets": "3", "cheques_per_booklet": "10", "face_value": "12,50",
                "valid_until": next_june(clock.today).isoformat(), "territory": "33, 2a",
                "target_public": "Seniors", "custom_wording": "Avec le Département",
                "contact_name": "Fanny Financeur", "contact_email": "fanny@example.org",
                "contact_phone": ""}
        data.update(extra)
        return {key: value for key, value in data.items() if value is not None}

    return data


# Redemption: a qualified place, its mediators, an issued order.
from tests.cheques.redemption_fixtures import (  # noqa: E402, F401
    issued,
    manager_x,
    mediator_x,
    mediator_y,
    other_place,
    place,
    structure,
)
