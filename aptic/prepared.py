"""SELECTs built by the ORM once per shape, then run again with new values.

Building a queryset and compiling it to SQL costs more than the round trip to Postgres for
the small, indexed queries of a redemption. A Prepared query calls its `build` function
once per shape (the lengths of its list arguments) with stand-in values, compiles the
queryset, and remembers where each stand-in lands among the SQL's parameters; each call
then runs the same SQL with the real values and turns rows into model instances as the
ORM would (select_related, annotations, deferred fields).

When a stand-in cannot be found among the parameters (a value the ORM transformed, or that
changed the query's shape), the query is not prepared: each call builds it as usual.

On Postgres these queries (and aptic.statements' writes) also go through `cursor()`, whose
statements the server parses and plans once per connection (a server-side prepared
statement): planning the redemption's four statements cost Postgres more CPU than running
them. Django's own cursors bind parameters on the client and never prepare; the rest of
the ORM keeps them.
"""

import itertools

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.models.query import get_related_populators

_STAND_INS = itertools.count(1)


def _stand_in(value):
    number = next(_STAND_INS)
    if isinstance(value, bool):
        raise TypeError("a boolean argument changes the query's shape: put it in `shape`")
    if isinstance(value, int):
        return -(7 * 10**15 + number)
    if isinstance(value, str):
        return f"\x1fstand-in-{number}\x1f"
    raise TypeError(f"cannot prepare an argument of type {type(value).__name__}")


def shape_of(args):
    """What makes two calls compile to the same SQL: the lengths of the list arguments."""
    return tuple(len(arg) if isinstance(arg, list | tuple) else None for arg in args)


def stand_ins(args):
    """Distinct stand-ins for `args` (a list's items one by one), and where each comes
    from: {stand-in: (argument, position in the list or None)}."""
    origin, values = {}, []
    for index, arg in enumerate(args):
        if isinstance(arg, list | tuple):
            items = [_stand_in(item) for item in arg]
            origin.update({value: (index, position) for position, value in enumerate(items)})
            values.append(items)
        else:
            value = _stand_in(arg)
            origin[value] = (index, None)
            values.append(value)
    return values, origin


def slots_of(params, origin):
    """Where each of the compiled `params` comes from: a stand-in's argument, or a constant
    of the query; None when a stand-in went missing (a value the ORM transformed)."""
    slots = [origin.get(param, ("constant", param))
             if isinstance(param, int | str) and not isinstance(param, bool)
             else ("constant", param) for param in params]
    if {slot for slot in slots if slot[0] != "constant"} != set(origin.values()):
        return None
    return slots


def bind(slots, args):
    """The parameters of a compiled query for the real `args`."""
    return [slot[1] if slot[0] == "constant"
            else args[slot[0]] if slot[1] is None else args[slot[0]][slot[1]]
            for slot in slots]


class Prepared:
    def __init__(self, build):
        self.build = build
        self._shapes = {}

    def __call__(self, *args):
        """The instances the queryset `build(*args)` would give."""
        shape = shape_of(args)
        compiled = self._shapes.get(shape)
        if compiled is None:
            compiled = self._shapes[shape] = _Compiled.of(self.build, args) or False
        if compiled is False:
            return list(self.build(*args))
        return compiled.run(args)


class _Compiled:
    @classmethod
    def of(cls, build, args):
        values, origin = stand_ins(args)
        queryset = build(*values)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = slots_of(params, origin)
        if slots is None:
            return None
        return cls(queryset.db, compiler, sql, slots)

    def __init__(self, db, compiler, sql, slots):
        self.db, self.compiler, self.sql, self.slots = db, compiler, sql, slots
        klass_info = compiler.klass_info
        select = compiler.select
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start:self.end]]
        self.related_populators = get_related_populators(klass_info, select, db)
        self.annotations = dict(compiler.annotation_col_map)
        self.converters = compiler.get_converters(
            [column[0] for column in select[:compiler.col_count]])

    def run(self, args):
        with cursor(self.db) as database:
            database.execute(self.sql, bind(self.slots, args))
            rows = database.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        objects = []
        for row in rows:
            obj = self.model.from_db(self.db, self.init_list, row[self.start:self.end])
            for populator in self.related_populators:
                populator.populate(row, obj)
            for name, position in self.annotations.items():
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


def cursor(using=DEFAULT_DB_ALIAS):
    """A Django cursor (health check, execute wrappers, query logging all kept) whose
    statements Postgres prepares: parsed and planned at their first run on a connection,
    only executed afterwards (psycopg forgets them at a rollback on the connection, and the
    next run prepares again). Elsewhere, or with settings.PREPARED_STATEMENTS off (a
    connection pooler that cannot keep them), the usual cursor."""
    connection = connections[using]
    wrapper = connection.cursor()
    if connection.vendor == "postgresql" and settings.PREPARED_STATEMENTS:
        # Binding on the server is what lets psycopg prepare (after `prepare_threshold`
        # runs: 0, set with PREPARED_STATEMENTS); the client-binding cursors never do.
        wrapper.cursor = ServerBindingCursor(connection.connection)
    return wrapper
