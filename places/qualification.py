"""Qualification of places: the structure's file and the operator's decisions (who may do
what: places.access).

    draft ──submit──▶ submitted ──qualify──▶ qualified ──suspend──▶ suspended
      ▲                   │                      ▲                      │
      └──── (edit) ◀── rejected ◀──reject──┘     └──────reinstate───────┘

A structure (its place managers) creates and edits its own places, then submits them once
its file is complete (eligibility questionnaire, charter, bank details, services). Only the
operator qualifies, rejects (with a reason), suspends (with a reason) and reinstates. Every
decision is audited in the transaction that makes it, and the structure is told by e-mail
once the change is committed. Only qualified places redeem cheques and appear on the map.

Once a place is public, its structure renames or moves it only through the operator
(places.review); a structure asks for a listed place with a claim (places.claims).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from aptic import audit
from aptic.errors import DomainError

from . import access, review
from .decisions import clean_reason
from .models import Place, Qualification, StructureProfile
from .notifications import mail_structure

# --- What a complete file is ----------------------------------------------------------------

def profile_of(structure):
    profile, _created = StructureProfile.objects.get_or_create(organisation=structure)
    return profile


def missing_items(place):
    """What the structure must still provide before submitting `place` (French labels)."""
    structure = place.structure
    if structure is None:
        return [_("le lieu n’est rattaché à aucune structure")]
    missing = missing_structure_items(structure)
    if place.pk is None or not place.services.exists():
        missing.append(_("les services proposés"))
    if place.latitude is None or place.longitude is None:
        missing.append(_("les coordonnées géographiques du lieu"))
    return missing


def missing_structure_items(structure):
    """What the structure's own file still lacks (French labels)."""
    missing = []
    if not structure.siret:
        missing.append(_("le SIRET de la structure"))
    profile = StructureProfile.objects.filter(organisation=structure).first()
    if profile is None or not profile.eligibility:
        missing.append(_("le questionnaire d’éligibilité"))
    if profile is None or not profile.charter_accepted_at:
        missing.append(_("l’acceptation de la charte"))
    if profile is None or not profile.has_bank_details:
        missing.append(_("les coordonnées bancaires"))
    return missing


# --- Transitions ----------------------------------------------------------------------------

def _transition(place, actor, *, allowed_from, to, action, reason="", notify=True):
    """Lock the place, check its state, change it, audit it; notify after commit."""
    with transaction.atomic():
        locked = Place.objects.select_for_update().get(pk=place.pk)
        if locked.qualification not in allowed_from:
            raise DomainError(
                "invalid_status", _("Impossible : le lieu est « %(state)s ».")
                % {"state": locked.get_qualification_display()})
        from_state = locked.qualification
        locked.qualification = to
        locked.qualification_reason = reason
        locked.save(update_fields=["qualification", "qualification_reason", "updated_at"])
        audit.record(actor, locked, action, from_state, to, **({"reason": reason} if reason
                                                                 else {}))
        if notify:
            transaction.on_commit(lambda: notify_structure(locked))
    place.qualification = locked.qualification
    place.qualification_reason = locked.qualification_reason
    return locked


def submit(place, *, by):
    """The structure asks the operator to qualify its place (file complete)."""
    access.require_place_manager(by, place)
    missing = missing_items(place)
    if missing:
        raise DomainError(
            "incomplete",
            _("Dossier incomplet : il manque %(items)s.") % {"items": ", ".join(missing)})
    return _transition(place, by, allowed_from={Qualification.DRAFT, Qualification.REJECTED},
                       to=Qualification.SUBMITTED, action="place.submitted")


def qualify(place, *, by):
    access.require_qualifier(by)
    return _transition(place, by, allowed_from={Qualification.SUBMITTED},
                       to=Qualification.QUALIFIED, action="place.qualified")


def reject(place, *, by, reason):
    access.require_qualifier(by)
    reason = clean_reason(reason)
    return _transition(place, by, allowed_from={Qualification.SUBMITTED},
                       to=Qualification.REJECTED, action="place.rejected", reason=reason)


def suspend(place, *, by, reason):
    access.require_qualifier(by)
    reason = clean_reason(reason)
    return _transition(place, by, allowed_from={Qualification.QUALIFIED},
                       to=Qualification.SUSPENDED, action="place.suspended", reason=reason)


def reinstate(place, *, by):
    access.require_qualifier(by)
    return _transition(place, by, allowed_from={Qualification.SUSPENDED},
                       to=Qualification.QUALIFIED, action="place.reinstated")


@transaction.atomic
def save_place(place, *, by, fields=None):
    """Create or edit a place of a structure (audited). A rejected place goes back to draft
    when edited, ready to be submitted again. A public place keeps its name and address
    until the operator approves new ones (places.review); the rest applies at once.
    Returns the names of the fields held for review."""
    access.require_place_manager(by, place)
    created = place.pk is None
    held = []
    if not created:
        current = Place.objects.select_for_update().get(pk=place.pk)
        # The state is the row's, not the form's: a form never changes it.
        place.qualification = current.qualification
        held = review.hold_place_fields(current, place, by=by)
    from_state = place.qualification
    if not created and place.qualification == Qualification.REJECTED:
        place.qualification = Qualification.DRAFT
    place.save()
    applied = sorted(set(fields or []) - set(held))
    audit.record(by, place, "place.created" if created else "place.updated", from_state,
                 place.qualification, **({"fields": applied} if applied else {}))
    return held


@transaction.atomic
def accept_charter(structure, *, by):
    access.require_structure_manager(by, structure)
    profile = StructureProfile.objects.select_for_update().get_or_create(
        organisation=structure)[0]
    if not profile.charter_accepted_at:
        profile.charter_accepted_at = timezone.now()
        profile.charter_accepted_by = by
        profile.save(update_fields=["charter_accepted_at", "charter_accepted_by"])
        audit.record(by, profile, "structure.charter_accepted")
    return profile


@transaction.atomic
def save_bank_details(profile, *, by, fields):
    """New bank details of a structure (audited without the IBAN). Once one of its places
    is public, they are paid to only after the operator approves them (places.review).
    Returns the names of the fields held for review."""
    access.require_structure_manager(by, profile.organisation)
    held = []
    if profile.pk is not None:
        current = StructureProfile.objects.select_for_update().get(pk=profile.pk)
        held = review.hold_bank_details(current, profile, by=by)
    profile.save()
    applied = sorted(set(fields) - set(held))
    if applied:
        audit.record(by, profile, "structure.bank_details_changed", fields=applied)
    return held


@transaction.atomic
def save_profile(profile, *, by, action, fields):
    """Save the questionnaire or the bank details of a structure (audited; the IBAN itself
    is not written in the journal)."""
    access.require_structure_manager(by, profile.organisation)
    profile.save()
    audit.record(by, profile, action, fields=sorted(fields))
    return profile


# --- Notification ---------------------------------------------------------------------------

MESSAGES = {
    Qualification.SUBMITTED: (
        gettext_noop("Demande de qualification reçue : %(place)s"),
        gettext_noop("Nous avons bien reçu la demande de qualification du lieu « %(place)s ». "
                     "L’opérateur #APTIC l’examine et vous répondra par e-mail."),
    ),
    Qualification.QUALIFIED: (
        gettext_noop("Lieu qualifié : %(place)s"),
        gettext_noop("Bonne nouvelle : le lieu « %(place)s » est qualifié #APTIC. Il apparaît "
                     "sur la carte publique et ses médiateurs peuvent encaisser les chèques."),
    ),
    Qualification.REJECTED: (
        gettext_noop("Qualification refusée : %(place)s"),
        gettext_noop("La qualification du lieu « %(place)s » est refusée pour le motif "
                     "suivant :\n\n%(reason)s\n\nVous pouvez compléter le dossier et le "
                     "soumettre à nouveau."),
    ),
    Qualification.SUSPENDED: (
        gettext_noop("Qualification suspendue : %(place)s"),
        gettext_noop("La qualification du lieu « %(place)s » est suspendue pour le motif "
                     "suivant :\n\n%(reason)s\n\nPendant la suspension, le lieu n’apparaît "
                     "plus sur la carte et ne peut plus encaisser de chèques."),
    ),
}


def notify_structure(place):
    """E-mail the structure about the new state of its place."""
    if place.structure_id is None or place.qualification not in MESSAGES:
        return 0
    return mail_structure(place.structure, MESSAGES[place.qualification],
                          {"place": place.name, "reason": place.qualification_reason})
