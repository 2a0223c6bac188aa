"""Sensitive edits of public records wait for the operator.

The map, the API, the place's page and the open-data export say what a place is called and
where it is; reimbursements are paid to the structure's bank account. Once a place is
public (qualified, or suspended and able to come back), its structure changes these only
through the operator:

- a rename or an address change (PLACE_FIELDS) of such a place;
- new bank details (BANK_FIELDS) of a structure that holds such a place.

Such an edit is kept in a ChangeRequest and the record keeps its values until the operator
approves it; the other fields of the same edit apply at once. A new edit of the same record
replaces the pending request, or withdraws it when it no longer asks for anything new. The
operator's own edits apply at once: the operator is the reviewer. Requests and decisions are
audited with the names of the fields, never with the bank details themselves.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aptic import audit
from aptic.errors import DomainError

from . import access, decisions
from .models import ChangeRequest, Place, Qualification, Request, StructureProfile
from .notifications import mail_structure

PLACE_FIELDS = ("name", "address", "address_complement", "postcode", "insee_code", "town",
                "latitude", "longitude")
BANK_FIELDS = ("iban", "bic", "account_holder")
PUBLIC_STATES = (Qualification.QUALIFIED, Qualification.SUSPENDED)


# --- What is reviewed -----------------------------------------------------------------------

def place_is_public(place):
    return place.qualification in PUBLIC_STATES


def bank_details_are_public(structure):
    """A structure's bank details are reviewed once one of its places is public."""
    return Place.objects.filter(structure=structure, qualification__in=PUBLIC_STATES).exists()


def pending_for_place(place):
    return ChangeRequest.objects.filter(kind=ChangeRequest.Kind.PLACE, place=place,
                                        state=Request.PENDING).first()


def pending_for_bank(structure):
    return ChangeRequest.objects.filter(kind=ChangeRequest.Kind.BANK, structure=structure,
                                        state=Request.PENDING).first()


def show_requested(record, change):
    """`record` with the values its pending `change` asks for, in memory only: the edit form
    shows what the structure asked for, so that saving it again keeps the request."""
    for name, value in (change.values if change else {}).items():
        setattr(record, name, value)
    return record


# --- Holding an edit ------------------------------------------------------------------------

def hold_place_fields(current, edited, *, by):
    """Inside the edit's transaction, `current` being the locked row: keep the renaming and
    moving of a public place for review. Puts `current`'s values back on `edited` and
    returns the names of the fields held."""
    if not place_is_public(current):
        return []
    return _hold(current, edited, by=by, kind=ChangeRequest.Kind.PLACE, fields=PLACE_FIELDS,
                 structure_id=current.structure_id, place=current)


def hold_bank_details(current, edited, *, by):
    """The same for the bank details of a structure that has a public place."""
    if not bank_details_are_public(current.organisation_id):
        return []
    return _hold(current, edited, by=by, kind=ChangeRequest.Kind.BANK, fields=BANK_FIELDS,
                 structure_id=current.organisation_id, place=None)


def _hold(current, edited, *, by, kind, fields, structure_id, place):
    if access.may_review(by):
        return []
    wanted = {name: getattr(edited, name) for name in fields
              if getattr(edited, name) != getattr(current, name)}
    for name in fields:
        setattr(edited, name, getattr(current, name))
    pending = ChangeRequest.objects.select_for_update().filter(
        kind=kind, structure_id=structure_id, place=place, state=Request.PENDING).first()
    if not wanted:
        if pending is not None:
            decisions.close(pending, by, Request.WITHDRAWN, "change.withdrawn")
        return []
    if pending is not None and pending.values == wanted:
        return sorted(wanted)
    if pending is None:
        pending = ChangeRequest(kind=kind, structure_id=structure_id, place=place)
    pending.values = wanted
    pending.previous = {name: getattr(current, name) for name in wanted}
    pending.requested_by = by
    pending.requested_at = timezone.now()
    pending.save()
    audit.record(by, pending, "change.requested", "", Request.PENDING, fields=sorted(wanted))
    return sorted(wanted)


def withdraw_for_place(place, *, by, reason):
    """A place changing hands: its former structure's request is no longer theirs to make."""
    for change in ChangeRequest.objects.select_for_update().filter(
            kind=ChangeRequest.Kind.PLACE, place=place, state=Request.PENDING):
        decisions.close(change, by, Request.WITHDRAWN, "change.withdrawn", reason)


# --- The operator's decisions ---------------------------------------------------------------

def _lock_pending(change):
    # The record first, then the request: an edit of the record (qualification.save_place,
    # save_bank_details) locks them in this order too, so the two never deadlock.
    if change.kind == ChangeRequest.Kind.PLACE:
        Place.objects.select_for_update().filter(pk=change.place_id).first()
    else:
        StructureProfile.objects.select_for_update().filter(
            organisation_id=change.structure_id).first()
    locked = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if locked.state != Request.PENDING:
        raise DomainError("already_decided", _("Cette demande a déjà été traitée."))
    return locked


def approve(change, *, by):
    """Apply the requested values to the place or the bank details (audited)."""
    access.require_reviewer(by)
    with transaction.atomic():
        locked = _lock_pending(change)
        if locked.kind == ChangeRequest.Kind.PLACE:
            record = Place.objects.select_for_update().get(pk=locked.place_id)
            action = "place.updated"
        else:
            record = StructureProfile.objects.select_for_update().get_or_create(
                organisation_id=locked.structure_id)[0]
            action = "structure.bank_details_changed"
        for name, value in locked.values.items():
            setattr(record, name, value)
        record.save()
        fields = sorted(locked.values)
        audit.record(by, record, action, getattr(record, "qualification", ""),
                     getattr(record, "qualification", ""), fields=fields, change=locked.pk)
        decisions.close(locked, by, Request.APPROVED, "change.approved")
        transaction.on_commit(lambda: notify(locked))
    return locked


def refuse(change, *, by, reason):
    """Keep the record as it is; the structure is told why."""
    access.require_reviewer(by)
    reason = decisions.clean_reason(reason)
    with transaction.atomic():
        locked = _lock_pending(change)
        decisions.close(locked, by, Request.REFUSED, "change.refused", reason)
        transaction.on_commit(lambda: notify(locked))
    return locked


# --- Notification ---------------------------------------------------------------------------

MESSAGES = {
    Request.APPROVED: (
        gettext_noop("Modification acceptée : %(what)s"),
        gettext_noop("L’opérateur #APTIC a accepté la modification « %(what)s » : elle "
                     "s’applique dès maintenant."),
    ),
    Request.REFUSED: (
        gettext_noop("Modification refusée : %(what)s"),
        gettext_noop("L’opérateur #APTIC a refusé la modification « %(what)s » pour le motif "
                     "suivant :\n\n%(reason)s\n\nLes valeurs précédentes restent en place."),
    ),
}


def describe(change):
    if change.kind == ChangeRequest.Kind.BANK:
        return _("coordonnées bancaires")
    return _("nom ou adresse du lieu %(place)s") % {"place": change.place.name}


def notify(change):
    if change.state not in MESSAGES:
        return 0
    return mail_structure(change.structure, MESSAGES[change.state],
                          {"what": describe(change), "reason": change.decision_reason})
