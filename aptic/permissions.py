"""The one place that answers "may this user act for this organisation / this place"."""

from .models import Membership, Organisation, Role

PLACE_ROLES = (Role.MEDIATOR, Role.PLACE_MANAGER)


def is_operator(user):
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return _memberships(user).filter(
        role=Role.OPERATOR_STAFF, organisation__kind=Organisation.Kind.OPERATOR
    ).exists()


def _memberships(user):
    return Membership.objects.filter(user=user, user__is_active=True)


def roles_of(user):
    """The set of roles the user holds anywhere (empty for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(_memberships(user).values_list("role", flat=True))


def organisations_for(user, *roles):
    """Organisations the user may act for, with one of `roles` (any role when none given)."""
    if not getattr(user, "is_authenticated", False):
        return Organisation.objects.none()
    memberships = _memberships(user)
    if roles:
        memberships = memberships.filter(role__in=roles)
    return Organisation.objects.filter(pk__in=memberships.values("organisation_id"))


def may_act_for_organisation(user, organisation, *roles):
    """True when the user holds one of `roles` (any role if none) in `organisation`."""
    if organisation is None:
        return False
    organisation_id = getattr(organisation, "pk", organisation)
    return organisations_for(user, *roles).filter(pk=organisation_id).exists()


def may_act_for_funder(user, funder, *, distribute=False):
    """Funder managers act for their funder; with `distribute`, its prescribers too
    (members of the funder with the prescriber role, or of a prescriber organisation
    attached to it)."""
    funder_id = getattr(funder, "pk", funder)
    if may_act_for_organisation(user, funder_id, Role.FUNDER_MANAGER):
        return True
    if not distribute:
        return False
    return organisations_for(user, Role.PRESCRIBER).filter(
        pk=funder_id
    ).exists() or organisations_for(user, Role.PRESCRIBER).filter(funder_id=funder_id).exists()


def may_act_for_place(user, place, *roles):
    """A place belongs to a structure (`place.structure_id`); mediators and place managers of
    that structure act for its places. `roles` narrows to, say, place managers only."""
    return may_act_for_organisation(user, place.structure_id, *(roles or PLACE_ROLES))
