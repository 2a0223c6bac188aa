"""SELECTs built by the ORM once per shape, then run again with new values.

Building a queryset and compiling it to SQL costs more than the round trip to Postgres for
the small, indexed queries of a redemption. A Prepared query calls its `build` function
once per shape (the lengths of its list arguments) with stand-in values, compiles the
queryset, and remembers where each stand-in lands among the SQL's parameters; each call
then runs the same SQL with the real values and turns rows into model instances as the
ORM would (select_related, annotations, deferred fields).

When a stand-in cannot be found among the parameters (a value the ORM transformed, or that
changed the query's shape), the query is not prepared: each call builds it as usual.
"""

import itertools

from django.db import connections
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


class Prepared:
    def __init__(self, build):
        self.build = build
        self._shapes = {}

    def __call__(self, *args):
        """The instances the queryset `build(*args)` would give."""
        shape = tuple(len(arg) if isinstance(arg, list | tuple) else None for arg in args)
        compiled = self._shapes.get(shape)
        if compiled is None:
            compiled = self._shapes[shape] = _Compiled.of(self.build, args) or False
        if compiled is False:
            return list(self.build(*args))
        return compiled.run(args)


class _Compiled:
    @classmethod
    def of(cls, build, args):
        where = {}
        stand_ins = []
        for index, arg in enumerate(args):
            if isinstance(arg, list | tuple):
                values = [_stand_in(item) for item in arg]
                where.update({value: (index, position) for position, value in enumerate(values)})
                stand_ins.append(values)
            else:
                value = _stand_in(arg)
                where[value] = (index, None)
                stand_ins.append(value)
        queryset = build(*stand_ins)
        compiler = queryset.query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        slots = [where.get(param, ("constant", param))
                 if isinstance(param, int | str) and not isinstance(param, bool)
                 else ("constant", param) for param in params]
        if {slot for slot in slots if slot[0] != "constant"} != set(where.values()):
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
        params = [slot[1] if slot[0] == "constant"
                  else args[slot[0]] if slot[1] is None else args[slot[0]][slot[1]]
                  for slot in self.slots]
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
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
