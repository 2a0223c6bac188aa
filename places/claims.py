"""Claims: a structure asks to run a place that is listed already.

Imported places often have no structure yet, and a qualified place may be run in fact by
another structure than the one holding it here. Claiming such a place only creates a
PlaceClaim: the place stays as it is — qualified, on the map and in the API — until the
decision. The operator approves; when the place has a structure, that structure's place
managers approve too (both are needed, in either order). Either of them may refuse, with a
reason, and then nothing changes.

Once every approval is in, the place moves to the claiming structure, keeping its
qualification: the operator has just vouched for the new structure (and may still suspend
the place). Every other pending claim on the place is refused, and the former structure's
pending rename or move of it is withdrawn. Each step is audited in its transaction. Who
sees a claim, and who decides on it: places.access.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aptic import audit
from aptic.errors import DomainError

from . import access, decisions, review
from .access import HOLDER, OPERATOR
from .models import Place, PlaceClaim, Request
from .notifications import mail_structure

# --- What waits for whom --------------------------------------------------------------------

def awaits(claim, party):
    """True when `party` has yet to approve the pending `claim`."""
    if claim.state != Request.PENDING:
        return False
    if party == OPERATOR:
        return claim.operator_approved_at is None
    return claim.holder_id is not None and claim.holder_approved_at is None


def pending_for_operator():
    return PlaceClaim.objects.filter(state=Request.PENDING, operator_approved_at=None)


def pending_for_holder(structure):
    return PlaceClaim.objects.filter(state=Request.PENDING, holder=structure,
                                     holder_approved_at=None)


# --- Actions --------------------------------------------------------------------------------

def request(place, *, by, structure, reason=""):
    """The claiming structure's place manager asks for `place` (audited)."""
    access.require_claimant(by, structure)
    with transaction.atomic():
        locked = Place.objects.select_for_update().get(pk=place.pk)
        if locked.structure_id == structure.pk:
            raise DomainError("already_yours", _("Ce lieu est déjà rattaché à votre structure."))
        if not access.claimable_places(structure).filter(pk=locked.pk).exists():
            raise DomainError("not_claimable", _("Ce lieu ne peut pas être demandé."))
        if PlaceClaim.objects.filter(place=locked, structure=structure,
                                     state=Request.PENDING).exists():
            raise DomainError("already_requested", _(
                "Votre structure a déjà demandé ce lieu : la demande est en cours d’examen."))
        claim = PlaceClaim.objects.create(place=locked, structure=structure,
                                          holder_id=locked.structure_id,
                                          reason=(reason or "").strip(), requested_by=by)
        audit.record(by, claim, "claim.requested", "", Request.PENDING, place=locked.pk,
                     structure=structure.pk, holder=locked.structure_id)
        if claim.holder_id:
            transaction.on_commit(lambda: notify(claim, HOLDER))
    return claim


def _lock(claim, by, party):
    # The place first, then its claims: every decision on a place's claims (and every edit
    # of the place, places.review) takes its locks in that one order, so none deadlock.
    Place.objects.select_for_update().filter(pk=claim.place_id).first()
    locked = PlaceClaim.objects.select_for_update().select_related("place").get(pk=claim.pk)
    access.require_claim_decider(by, locked, party)
    if locked.state != Request.PENDING:
        raise DomainError("already_decided", _("Cette demande a déjà été traitée."))
    return locked


def approve(claim, *, by, party):
    """`party` (OPERATOR or HOLDER) approves; the place moves once every approval is in."""
    with transaction.atomic():
        locked = _lock(claim, by, party)
        if not awaits(locked, party):
            raise DomainError("already_approved", _("Vous avez déjà accepté cette demande."))
        now = timezone.now()
        setattr(locked, f"{party}_approved_by", by)
        setattr(locked, f"{party}_approved_at", now)
        locked.save(update_fields=[f"{party}_approved_by", f"{party}_approved_at"])
        audit.record(by, locked, f"claim.approved_by_{party}", Request.PENDING,
                     Request.PENDING)
        if not (awaits(locked, OPERATOR) or awaits(locked, HOLDER)):
            _transfer(locked, by, now)
    return locked


def _transfer(claim, by, now):
    place = Place.objects.select_for_update().get(pk=claim.place_id)
    if place.structure_id != claim.holder_id:
        # The place changed hands since the claim: the approvals were given to another one.
        _close(claim, by, Request.REFUSED, _("Le lieu a changé de structure depuis la demande."))
        return
    place.structure_id = claim.structure_id
    place.save(update_fields=["structure", "updated_at"])
    audit.record(by, place, "place.structure_changed", place.qualification,
                 place.qualification, from_structure=claim.holder_id,
                 to_structure=claim.structure_id, claim=claim.pk)
    _close(claim, by, Request.APPROVED)
    for other in PlaceClaim.objects.select_for_update().filter(
            place=place, state=Request.PENDING).exclude(pk=claim.pk).order_by("pk"):
        _close(other, by, Request.REFUSED,
               _("Le lieu a été rattaché à une autre structure."))
    review.withdraw_for_place(place, by=by,
                              reason=_("Le lieu a été rattaché à une autre structure."))


def refuse(claim, *, by, party, reason):
    """`party` refuses (with a reason, sent to the claiming structure): nothing changes."""
    reason = decisions.clean_reason(reason)
    with transaction.atomic():
        locked = _lock(claim, by, party)
        _close(locked, by, Request.REFUSED, reason, party=party)
    return locked


def _close(claim, by, state, reason="", **details):
    decisions.close(claim, by, state,
                    "claim.approved" if state == Request.APPROVED else "claim.refused",
                    reason, **details)
    transaction.on_commit(lambda: notify(claim, "claimant"))


# --- Notification ---------------------------------------------------------------------------

MESSAGES = {
    HOLDER: (
        gettext_noop("Demande de rattachement de votre lieu : %(place)s"),
        gettext_noop("La structure « %(structure)s » demande à rattacher le lieu « %(place)s » "
                     "qui est aujourd’hui celui de votre structure. Rien ne change tant que "
                     "vous et l’opérateur #APTIC ne l’avez pas acceptée : acceptez-la ou "
                     "refusez-la depuis votre espace structure."),
    ),
    Request.APPROVED: (
        gettext_noop("Rattachement accepté : %(place)s"),
        gettext_noop("Le lieu « %(place)s » est maintenant rattaché à votre structure."),
    ),
    Request.REFUSED: (
        gettext_noop("Rattachement refusé : %(place)s"),
        gettext_noop("La demande de rattachement du lieu « %(place)s » est refusée pour le "
                     "motif suivant :\n\n%(reason)s"),
    ),
}


def notify(claim, audience):
    """E-mail the structure that holds the place (a new claim) or the claiming one (the
    decision)."""
    if audience == HOLDER:
        structure, key = claim.holder, HOLDER
    else:
        structure, key = claim.structure, claim.state
    if key not in MESSAGES:
        return 0
    return mail_structure(structure, MESSAGES[key], {
        "place": claim.place.name, "structure": claim.structure.name,
        "reason": claim.decision_reason})
