"""The tests' one world: accounts (factory-boy), orders and issued orders. Tests build their
rows with these, through the fixtures of tests/conftest.py and tests/cheques/conftest.py."""

import factory

from aptic.models import Membership, Organisation, Role, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("motdepasse-solide-42")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = Organisation.Kind.FUNDER
    name = factory.Sequence(lambda n: f"Organisation {n}")


def member(role, organisation=None, **user_fields):
    """A new user holding `role` in `organisation` (a new one of the right kind if none)."""
    kind = {
        Role.FUNDER_MANAGER: Organisation.Kind.FUNDER,
        Role.PRESCRIBER: Organisation.Kind.PRESCRIBER,
        Role.PLACE_MANAGER: Organisation.Kind.STRUCTURE,
        Role.MEDIATOR: Organisation.Kind.STRUCTURE,
        Role.OPERATOR_STAFF: Organisation.Kind.OPERATOR,
    }[role]
    organisation = organisation or OrganisationFactory(kind=kind)
    user = UserFactory(**user_fields)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def make_order(funder, user, *, approve_by=None, **terms):
    """An order of `funder` placed by `user` (2 booklets of 5 cheques of 10 € unless told),
    approved and issued by `approve_by` when given."""
    from cheques import ordering

    terms.setdefault("booklets", 2)
    terms.setdefault("cheques_per_booklet", 5)
    terms.setdefault("contact_name", "Contact")
    terms.setdefault("contact_email", "c@example.org")
    order = ordering.create_order(funder=funder, created_by=user, **terms)
    if approve_by:
        order = ordering.approve_order(order, actor=approve_by)
    return order
