import pytest
from django.db import transaction

from aptic import audit
from aptic.models import AuditEvent
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_audit_event_records_who_what_and_the_states():
    actor, organisation = UserFactory(), OrganisationFactory()
    with transaction.atomic():
        audit.record(actor, organisation, "organisation.renamed", "old", "new", why="typo")
    event = AuditEvent.objects.for_object(organisation).get()
    assert (event.actor, event.action, event.from_state, event.to_state) == (
        actor, "organisation.renamed", "old", "new")
    assert event.details == {"why": "typo"}
    assert event.at is not None


def test_an_audit_event_rolls_back_with_the_change_it_describes():
    organisation = OrganisationFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record(None, organisation, "organisation.touched")
        raise RuntimeError("the change fails after its audit row was written")
    assert not AuditEvent.objects.exists()


def test_the_audit_helper_refuses_to_write_outside_a_transaction():
    with pytest.raises(RuntimeError):
        audit.record(None, OrganisationFactory(), "organisation.touched")


def test_the_audit_trail_is_append_only():
    organisation = OrganisationFactory()
    with transaction.atomic():
        event = audit.record(None, organisation, "organisation.touched")
    event.action = "forged"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.update(action="forged")


def test_bulk_transitions_write_one_event_per_object_in_one_go():
    organisations = [OrganisationFactory() for _ in range(3)]
    with transaction.atomic():
        audit.record_many(None, organisations, "organisation.checked", count=3)
    assert AuditEvent.objects.filter(action="organisation.checked").count() == 3
