"""The people of the places tests; each module brings its own `structure`."""

import pytest

from aptic.models import Role
from tests.factories import member


@pytest.fixture
def manager(structure):
    """A place manager of the module's structure."""
    return member(Role.PLACE_MANAGER, structure)


@pytest.fixture
def operator(db):
    return member(Role.OPERATOR_STAFF)
