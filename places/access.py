"""Who may see and do what in places: structures, places, claims, changes under review, the
import, and the places where cheques are redeemed. Pages, the API, the domain functions and
the cheques app ask here; each function of the domain that changes a state checks its actor
here too, so that a page, a task or the shell cannot skip the rule.

The one decision, applied everywhere: an object the user may not see answers 404 (the
`visible_*` querysets leave it out), an action the user may not take on an object they can
see answers 403 (the `require_*` functions raise PermissionDenied).
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from aptic.models import Organisation, Role
from aptic.permissions import PLACE_ROLES, is_operator, may_act_for_organisation, organisations_for

from .models import ChangeRequest, Place, PlaceClaim, Qualification

# The two parties who decide on a claim (places.claims).
OPERATOR = "operator"
HOLDER = "holder"


# --- The operator ---------------------------------------------------------------------------

def require_operator(user, detail=None):
    """Qualifying places, deciding on claims and reviewing changes are the operator's."""
    if not is_operator(user):
        raise PermissionDenied(detail or _("Réservé à l’opérateur."))


def require_qualifier(user):
    """Only the operator qualifies, rejects, suspends and reinstates places."""
    require_operator(user, _("Seul l’opérateur qualifie les lieux."))


def require_importer(actor):
    """An import (which may qualify places) is made by the platform itself (a command: no
    actor) or by the operator."""
    if actor is not None:
        require_qualifier(actor)


def may_review(user):
    """The operator reviews sensitive edits (places.review): its own apply at once."""
    return is_operator(user)


# --- Structures -----------------------------------------------------------------------------

def structures_managed_by(user):
    """The structures where the user is a place manager."""
    return organisations_for(user, Role.PLACE_MANAGER).filter(kind=Organisation.Kind.STRUCTURE)


def managed_structure(user, pk):
    """The structure `pk` of the place manager `user` (PermissionDenied when not theirs)."""
    structure = structures_managed_by(user).filter(pk=pk).first()
    if structure is None:
        raise PermissionDenied(_("Vous ne gérez pas cette structure."))
    return structure


def may_manage_structure(user, structure):
    """Place managers of the structure (and the operator) manage its file and places."""
    return is_operator(user) or may_act_for_organisation(user, structure, Role.PLACE_MANAGER)


def require_structure_manager(user, structure):
    if not may_manage_structure(user, structure):
        raise PermissionDenied(_("Vous ne gérez pas cette structure."))


def require_claimant(user, structure):
    """A claim is made by a place manager of the claiming structure (not by the operator,
    who decides on it)."""
    if not may_act_for_organisation(user, structure, Role.PLACE_MANAGER):
        raise PermissionDenied(_("Vous ne gérez pas cette structure."))


# --- Places ---------------------------------------------------------------------------------

def visible_places(user):
    """The places the user may see in the registry: public ones (qualified, or imported and
    held by no structure), those of the structures they work for, every place for the
    operator."""
    if is_operator(user):
        return Place.objects.all()
    return Place.objects.filter(
        Q(qualification=Qualification.QUALIFIED) | Q(structure=None)
        | Q(structure__in=organisations_for(user, *PLACE_ROLES)))


def may_edit_place(user, place):
    """A structure edits only its own places; the operator edits any place."""
    if is_operator(user):
        return True
    return place.structure_id is not None and may_act_for_organisation(
        user, place.structure_id, Role.PLACE_MANAGER)


def require_place_manager(user, place):
    if not may_edit_place(user, place):
        raise PermissionDenied(_("Vous ne gérez pas ce lieu."))


def places_for_redemption(user):
    """The places where the user may redeem cheques: the qualified places of the structures
    where they are a mediator or a place manager."""
    return Place.objects.qualified().filter(structure__in=organisations_for(user, *PLACE_ROLES))


# --- Claims ---------------------------------------------------------------------------------

def claimable_places(structure):
    """Places a structure may claim: imported places without a structure, and other
    structures' qualified places (public anyway). Other structures' places that are not
    public stay out of sight."""
    return (Place.objects.filter(Q(structure=None) | Q(qualification=Qualification.QUALIFIED))
            .exclude(structure=structure))


def visible_claims(user):
    """The operator sees every claim; place managers see their structures' claims and the
    claims on their structures' places."""
    if is_operator(user):
        return PlaceClaim.objects.all()
    managed = structures_managed_by(user)
    return PlaceClaim.objects.filter(Q(structure__in=managed) | Q(holder__in=managed))


def may_decide_claim(user, claim, party):
    """The operator decides as OPERATOR; the place managers of the structure that held the
    place when it was claimed decide as HOLDER."""
    if party == OPERATOR:
        return is_operator(user)
    return claim.holder_id is not None and may_act_for_organisation(
        user, claim.holder_id, Role.PLACE_MANAGER)


def require_claim_decider(user, claim, party):
    if not may_decide_claim(user, claim, party):
        raise PermissionDenied(_("Vous ne pouvez pas décider de cette demande."))


# --- Changes under review -------------------------------------------------------------------

def visible_changes(user):
    """The operator sees every request; a structure's place managers see their own."""
    if is_operator(user):
        return ChangeRequest.objects.all()
    return ChangeRequest.objects.filter(structure__in=structures_managed_by(user))


def require_reviewer(user):
    if not may_review(user):
        raise PermissionDenied(_("Seul l’opérateur valide ces modifications."))
