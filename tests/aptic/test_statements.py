"""aptic.statements: writes assembled once per shape, then only fed new values."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from aptic import statements
from aptic.models import Organisation

pytestmark = pytest.mark.django_db


def organisations(*names):
    return [Organisation(kind=Organisation.Kind.FUNDER, name=name, phone="") for name in names]


def write(*writes):
    with transaction.atomic():
        return statements.run(list(writes))


@pytest.mark.parametrize("rows", [1, 3])
def test_an_insert_assembled_once_writes_what_its_first_compilation_wrote(rows):
    first = write(statements.insert("new", Organisation, organisations(
        *(f"Premier {n}" for n in range(rows))), returning=["id", "name", "created_at"]))
    again = write(statements.insert("new", Organisation, organisations(
        *(f"Second {n}" for n in range(rows))), returning=["id", "name", "created_at"]))
    assert any(layout for layout in statements._INSERTS.values())  # the second one was not compiled
    assert [row["name"] for row in first["new"] + again["new"]] == [
        *(f"Premier {n}" for n in range(rows)), *(f"Second {n}" for n in range(rows))]
    stored = Organisation.objects.filter(pk__in=[row["id"] for row in again["new"]])
    assert sorted(stored.values_list("name", flat=True)) == [f"Second {n}" for n in range(rows)]
    assert all(organisation.created_at is not None for organisation in stored)


RENAME = statements.Update("renamed", lambda ids, kind: Organisation.objects.filter(
    pk__in=ids, kind=kind), returning="id")


def test_an_update_compiled_once_changes_only_the_rows_its_arguments_find():
    funders = Organisation.objects.bulk_create(organisations("A", "B", "C"))
    when = timezone.make_aware(datetime.datetime(2027, 1, 1, 0, 30))
    first = write(RENAME([funders[0].pk, funders[1].pk], "funder", name="Un", created_at=when))
    second = write(RENAME([funders[1].pk, funders[2].pk], "funder", name="Deux",
                          created_at=when))
    none = write(RENAME([funders[0].pk, funders[2].pk], "structure", name="Trois",
                        created_at=when))
    assert all(RENAME._shapes.values())  # one compilation, then reused
    assert sorted(row["id"] for row in first["renamed"]) == [funders[0].pk, funders[1].pk]
    assert sorted(row["id"] for row in second["renamed"]) == [funders[1].pk, funders[2].pk]
    assert none["renamed"] == []
    assert dict(Organisation.objects.filter(pk__in=[f.pk for f in funders])
                .values_list("name", "created_at")) == {"Un": when, "Deux": when}
