"""Decisions on what waits for one: a claim on a place (places.claims), a change under review
(places.review), a place's qualification (places.qualification). A refusal says why, and the
structure receives the reason; a request, once decided, keeps who decided, when and why, and
the journal says so in the same transaction."""

from django.utils import timezone
from django.utils.translation import gettext as _

from aptic import audit
from aptic.errors import DomainError

from .models import Request


def clean_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("reason_required", _("Indiquez le motif : la structure le recevra."))
    return reason


def close(request, by, state, action, reason="", **details):
    """Close a pending claim or change request (locked by the caller) in `state`, audited
    as `action`."""
    request.state = state
    request.decided_by = by if getattr(by, "is_authenticated", False) else None
    request.decided_at = timezone.now()
    request.decision_reason = reason
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    audit.record(by, request, action, Request.PENDING, state,
                 **({"reason": reason} if reason else {}), **details)
