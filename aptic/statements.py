"""Several writes in one round trip to the database.

A change that writes to five tables (a redemption: cheques, redemptions, booklets, audit,
ledger, idempotent answer) pays one round trip per statement when written through the ORM
one call at a time. Here the same statements are compiled by the ORM (so that every field's
conversion, `auto_now_add` and any field added later are honoured) and sent together: on
Postgres as one data-modifying WITH, whose parts run exactly once and see one snapshot; on
another database (the demo's SQLite) one after the other, inside the caller's transaction.

Each statement is named; `run` answers, per name, the rows it returned (RETURNING).
"""

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import AutoField
from django.db.models.sql import InsertQuery, UpdateQuery


@dataclass
class Statement:
    name: str
    sql: str
    params: tuple
    returns: bool


def insert(name, model, objs, *, returning=(), on_conflict=None):
    """INSERT of `objs` (unsaved instances), as bulk_create would write them: with their
    primary key when they all carry one, else letting the database choose it."""
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.generated]
    if any(obj.pk is None for obj in objs):
        fields = [field for field in fields if not isinstance(field, AutoField)]
    query = InsertQuery(model, on_conflict=on_conflict)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [opts.get_field(name) for name in returning] or None
    [(sql, params)] = compiler.as_sql()
    return Statement(name, sql, params, bool(returning))


def update(name, queryset, *, returning="", **values):
    """UPDATE of the rows of `queryset` (a plain filter on one table), as .update() would;
    `returning`: a column list for RETURNING, to count or read the changed rows."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(connection=connection).as_sql()
    if returning:
        sql = f"{sql} RETURNING {returning}"
    return Statement(name, sql, tuple(params), bool(returning))


def run(statements):
    """Execute `statements` in one round trip where the database allows it; returns
    {name: [row as a dict]} for the statements that return rows. Call it inside a
    transaction."""
    if connection.vendor == "postgresql":
        return _together(statements)
    results = {}
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.sql, statement.params)
            if statement.returns:
                columns = [column[0] for column in cursor.description]
                results[statement.name] = [dict(zip(columns, row, strict=True))
                                           for row in cursor.fetchall()]
    return results


def _together(statements):
    quote = connection.ops.quote_name
    parts, params, selected = [], [], []
    for statement in statements:
        parts.append(f"{quote(statement.name)} AS ({statement.sql})")
        params.extend(statement.params)
        if statement.returns:
            # The rows a statement returned, as one JSON array of objects.
            selected.append(f"(SELECT coalesce(json_agg({quote(statement.name)}), '[]') "
                            f"FROM {quote(statement.name)})")
    sql = f"WITH {', '.join(parts)} SELECT {', '.join(selected) or '1'}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    returning = [statement.name for statement in statements if statement.returns]
    return {name: json.loads(value) if isinstance(value, str) else value
            for name, value in zip(returning, row, strict=False)}
