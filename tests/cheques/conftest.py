import pytest

from aptic.models import Organisation, Role
from cheques import ordering
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
    def make(funder, user, *, approve_by=None, **terms):
        terms.setdefault("booklets", 2)
        terms.setdefault("cheques_per_booklet", 5)
        order = ordering.create_order(funder=funder, created_by=user,
                                      contact_name="Contact", contact_email="c@example.org",
                                      **terms)
        if approve_by:
            order = ordering.approve_order(order, actor=approve_by)
        return order

    return make


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
