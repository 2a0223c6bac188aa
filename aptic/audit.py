"""The audit helper every state change calls, inside the transaction that makes the change."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from .models import AuditEvent


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _event(actor, obj, action, from_state, to_state, details):
    return AuditEvent(
        actor=_actor(actor),
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        from_state=from_state or "",
        to_state=to_state or "",
        details=details,
    )


def _require_transaction():
    # An audit row written outside the change's transaction could survive a rolled-back
    # change, or be lost with a committed one: refuse instead.
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must be called inside transaction.atomic().")


def record(actor, obj, action, from_state="", to_state="", **details):
    """Write one audit event for `obj`; `actor` is a user, or None for the system."""
    _require_transaction()
    event = _event(actor, obj, action, from_state, to_state, details)
    event.save()
    return event


def record_many(actor, objects, action, from_state="", to_state="", **details):
    """Write one event per object in a single INSERT (bulk transitions)."""
    return AuditEvent.objects.bulk_create(
        events(actor, objects, action, from_state, to_state, **details))


def events(actor, objects, action, from_state="", to_state="", **details):
    """The events record_many would write, unsaved: for a caller that writes them in one
    statement with the change itself (aptic.statements), inside the same transaction."""
    _require_transaction()
    return [_event(actor, obj, action, from_state, to_state, details) for obj in objects]
