"""The tests' one world: accounts and places (factory-boy), orders and issued orders. Tests
build their rows with these, through the fixtures of tests/conftest.py and
tests/cheques/conftest.py."""

import factory

from aptic.models import Membership, Organisation, Role, User
from places.models import Place, Qualification
from services.models import Service


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


class PlaceFactory(factory.django.DjangoModelFactory):
    """A place in Bordeaux, qualified (`qualified=False`: waiting for its qualification),
    offering every active service unless `services` names them (slugs)."""

    class Meta:
        model = Place
        skip_postgeneration_save = True

    class Params:
        qualified = True

    structure = None
    name = factory.LazyAttribute(
        lambda place: f"Lieu de {place.structure.name}" if place.structure else "Lieu")
    address = "1 place de la Bourse"
    postcode = "33000"
    town = "Bordeaux"
    latitude = 44.8412
    longitude = -0.5700
    qualification = factory.LazyAttribute(
        lambda place: Qualification.QUALIFIED if place.qualified else Qualification.SUBMITTED)

    @factory.post_generation
    def services(place, create, slugs, **_kwargs):
        if create:
            place.services.set(Service.objects.active() if slugs is None
                               else Service.objects.filter(slug__in=slugs))


def make_place(structure=None, **fields):
    """A place of `structure` (None: an imported place that no structure holds yet); any
    field of PlaceFactory may be given."""
    return PlaceFactory(structure=structure, **fields)
