"""factory-boy factories for the accounts; domain apps add theirs beside their tests."""

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
