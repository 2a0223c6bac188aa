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
from django.db.models import NOT_PROVIDED, AutoField
from django.db.models.sql import InsertQuery, UpdateQuery

from aptic import prepared


@dataclass
class Statement:
    name: str
    sql: str
    params: tuple
    returns: bool


def insert(name, model, objs, *, returning=(), on_conflict=None):
    """INSERT of `objs` (unsaved instances), as bulk_create would write them: with their
    primary key when they all carry one, else letting the database choose it. A nullable
    column that every row leaves empty is left out: the database writes NULL there all the
    same, and psycopg parses a statement of more than 50 parameters again at every call.
    Each shape (model, row count, columns, RETURNING, ON CONFLICT) is assembled into SQL
    once; later calls only prepare their values, the way the ORM does."""
    opts = model._meta
    fields = [field for field in opts.concrete_fields if not field.generated
              and not (_null_by_default(field) and all(
                  getattr(obj, field.attname) is None for obj in objs))]
    if any(obj.pk is None for obj in objs):
        fields = [field for field in fields if not isinstance(field, AutoField)]
    query = InsertQuery(model, on_conflict=on_conflict)
    query.insert_values(fields, objs)
    compiler = query.get_compiler(connection=connection)
    shape = (connection.alias, model, len(objs), tuple(fields), tuple(returning), on_conflict)
    layout = _INSERTS.get(shape)
    if layout is not None:
        rows = [[compiler.prepare_value(field, compiler.pre_save_val(field, obj))
                 for field in fields] for obj in objs]
        if not any(_is_expression(value) for row in rows for value in row):
            return Statement(name, layout.sql, layout.params(rows), bool(returning))
    compiler.returning_fields = [opts.get_field(name) for name in returning] or None
    [(sql, params)] = compiler.as_sql()
    if layout is None:
        _INSERTS[shape] = _InsertLayout.of(sql, params, fields, objs) or False
    return Statement(name, sql, tuple(params), bool(returning))


@dataclass
class _InsertLayout:
    """How an INSERT's parameters follow from its rows: row by row (VALUES), or one array
    per column (the UNNEST Django uses on Postgres for several rows)."""

    sql: str
    by_column: bool

    @classmethod
    def of(cls, sql, params, fields, objs):
        if any(hasattr(field, "get_placeholder") for field in fields) or any(
            _is_expression(param) for param in params
        ):
            return None  # placeholders or values that depend on the value itself
        if len(params) == len(objs) * len(fields):
            return cls(sql, by_column=False)
        if len(objs) > 1 and len(params) == len(fields):
            return cls(sql, by_column=True)
        return None

    def params(self, rows):
        if self.by_column:
            return tuple(list(column) for column in zip(*rows, strict=True))
        return tuple(value for row in rows for value in row)


_INSERTS = {}


def _null_by_default(field):
    """A column the database fills with NULL when an INSERT leaves it out, and that the
    ORM leaves as it is before saving."""
    return (field.null and field.db_default is NOT_PROVIDED and not field.primary_key
            and not getattr(field, "auto_now", False)
            and not getattr(field, "auto_now_add", False))


def _is_expression(value):
    return hasattr(value, "resolve_expression") or hasattr(value, "as_sql")


class Update:
    """An UPDATE of the rows of the queryset `build(*args)` (a plain filter on one table)
    to new values, as .update() would write it. Compiled once per shape (the lengths of
    the list arguments; aptic.prepared's stand-ins show where each argument lands); each
    call prepares its values the way the ORM does. `returning`: a column list for
    RETURNING, to count or read the changed rows."""

    def __init__(self, name, build, *, returning=""):
        self.name, self.build, self.returning = name, build, returning
        self._shapes = {}

    def __call__(self, *args, **values):
        shape = (connection.alias, prepared.shape_of(args), tuple(values))
        compiled = self._shapes.get(shape)
        if compiled is None:
            compiled = self._shapes[shape] = self._compile(args, values) or False
        if compiled is False or any(map(_is_expression, values.values())):
            return self._statement(*_update_sql(self.build(*args), values))
        sql, fields, slots = compiled
        return self._statement(sql, [*_prepared_values(fields, values),
                                     *prepared.bind(slots, args)])

    def _statement(self, sql, params):
        if self.returning:
            sql = f"{sql} RETURNING {self.returning}"
        return Statement(self.name, sql, tuple(params), bool(self.returning))

    def _compile(self, args, values):
        stand_ins, origin = prepared.stand_ins(args)
        queryset = self.build(*stand_ins)
        fields = [queryset.model._meta.get_field(name) for name in values]
        if any(_is_expression(value) or not field.concrete or field.model is not
               queryset.model for field, value in zip(fields, values.values(), strict=True)):
            return None
        sql, params = _update_sql(queryset, values)
        if list(params[:len(fields)]) != _prepared_values(fields, values):
            return None
        slots = prepared.slots_of(params[len(fields):], origin)
        if slots is None:
            return None
        return sql, fields, slots


def _prepared_values(fields, values):
    return [field.get_db_prep_save(value, connection=connection)
            for field, value in zip(fields, values.values(), strict=True)]


def _update_sql(queryset, values):
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(connection=connection).as_sql()


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
    with prepared.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    returning = [statement.name for statement in statements if statement.returns]
    return {name: json.loads(value) if isinstance(value, str) else value
            for name, value in zip(returning, row, strict=False)}
