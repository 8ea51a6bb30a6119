"""Reads of a fixed shape, compiled once per process: the hot path's querysets without the ORM's cost.

A request that records a value reads the same few querysets every time (the token, the step, the locked
traveler with its site and part, the characteristic); only their parameters change. Building and
compiling such a queryset costs more CPU than PostgreSQL spends running it. `Prepared` builds the
queryset once, with stand-in values for its arguments, compiles it, and remembers where each argument
went among the SQL's parameters; a call puts the real arguments there. The rows become model instances as
Django's own iterator builds them (select_related and annotations included).

    STEP = Prepared(lambda number, sequence: TravelerStep.objects.only("id", "traveler_id")
                    .filter(traveler__number=number, sequence=sequence)[:1])
    step = STEP(number, sequence).first()

What may be prepared: a queryset whose arguments (int or str, or non-empty lists of them: a list's length
is part of the shape, each length compiled once) reach the SQL unchanged as parameters, each at least once
(a lookup that rewrites its value, such as `__contains`, cannot: the stand-in would not be found, and
Prepared says so at the first call). Anything else the builder puts in the queryset is part of the shape.
tests/mes/test_prepared.py checks the machinery; tests/travelers/test_prepared_reads.py compares each
prepared read of the record path with the ORM's own SQL.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet
from django.db.models.query import get_related_populators
from django.db.transaction import TransactionManagementError

M = TypeVar("M")

# Stand-ins for the arguments while compiling: values no caller is likely to pass, told apart by position,
# small enough for any integer column's range (the ORM turns an out-of-range lookup into "no rows"). The
# shape is compiled with two sets of them: a parameter is an argument's place only where both sets put it.
_STAND_INS = ((30001, "\x1fprepared argument %d\x1f"), (31001, "\x1eprepared argument %d\x1e"))
_MOST_VALUES = 1000  # scalars in one call's arguments, lists' items counted


def _flat(args: tuple) -> tuple[tuple, list[int | str]]:
    """The arguments' kind (what makes a shape: each one's type, and a list's length and items' types)
    and their scalars in order, a list's items in their place."""
    kinds: list[object] = []
    scalars: list[int | str] = []
    for value in args:
        items = value if isinstance(value, list | tuple) else None
        for item in items if items is not None else (value,):
            if isinstance(item, bool) or not isinstance(item, int | str):
                raise TypeError(
                    f"a prepared read takes int or str arguments, or lists of them, not {type(item).__name__}"
                )
            scalars.append(item)
        if items is None:
            kinds.append(type(value))
        elif not items:
            raise ValueError("a prepared read takes no empty list: the ORM would not compile one to SQL")
        else:
            kinds.append((type(items), tuple(type(item) for item in items)))
    if len(scalars) > _MOST_VALUES:
        raise ValueError(f"a prepared read takes at most {_MOST_VALUES} values")
    return tuple(kinds), scalars


def _stand_ins(args: tuple, which: int) -> tuple[tuple, list[int | str]]:
    """The arguments rebuilt of stand-ins (lists as lists), and the stand-ins in order."""
    integer, text = _STAND_INS[which]
    flat: list[int | str] = []

    def stand_in(item: int | str) -> int | str:
        flat.append(integer + len(flat) if isinstance(item, int) else text % len(flat))
        return flat[-1]

    rebuilt = tuple(
        type(value)(stand_in(item) for item in value) if isinstance(value, list | tuple) else stand_in(value)
        for value in args
    )
    return rebuilt, flat


def _compiled(queryset: QuerySet) -> tuple[Any, str, list]:
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    return compiler, sql, list(params)


class _Shape:
    """One compiled shape: the SQL, its parameters with the arguments' places, and how rows become instances."""

    def __init__(self, build: Callable[..., QuerySet[Any]], args: tuple, count: int) -> None:
        (first_args, first), (second_args, second) = _stand_ins(args, 0), _stand_ins(args, 1)
        queryset = build(*first_args)
        compiler, sql, self.params = _compiled(queryset)
        _, other_sql, other_params = _compiled(build(*second_args))
        if other_sql != sql or len(other_params) != len(self.params):
            raise ValueError("a prepared read's SQL depends on its arguments' values: it cannot be prepared")
        self.sql, self.db = sql, queryset.db
        self.for_update = queryset.query.select_for_update
        self.slots: list[tuple[int, int]] = []  # (index in params, index of the argument)
        for index, (param, other) in enumerate(zip(self.params, other_params, strict=True)):
            places = [p for p in range(count) if param == first[p] and other == second[p]]
            if places:
                self.slots.append((index, places[0]))
            elif param != other:
                raise ValueError(f"parameter {index} of a prepared read changes with its arguments: cannot be prepared")
        missing = sorted(set(range(count)) - {position for _, position in self.slots})
        if missing:
            raise ValueError(
                f"value {missing[0]} of a prepared read's arguments does not reach its SQL unchanged: "
                "it cannot be prepared"
            )
        klass_info, select = compiler.klass_info, compiler.select
        self.model = klass_info["model"]
        self.start, self.end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, self.db)  # type: ignore[call-arg]
        self.annotations = list((compiler.annotation_col_map or {}).items())
        fields = [column[0] for column in select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())

    def bind(self, scalars: list[int | str]) -> list:
        params = list(self.params)
        for index, position in self.slots:
            params[index] = scalars[position]
        return params

    def instances(self, rows: list) -> list:
        """Model instances of `rows`, as the queryset's own iteration would give them."""
        db, model, start, end, init_list = self.db, self.model, self.start, self.end, self.init_list
        connection = connections[db]
        objects = []
        for raw in rows:
            row = list(raw)
            for pos, (convs, expression) in self.converters:
                value = row[pos]
                for converter in convs:
                    value = converter(value, expression, connection)
                row[pos] = value
            obj = model.from_db(db, init_list, row[start:end])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            objects.append(obj)
        return objects


class Bound(Generic[M]):
    """A prepared read with its arguments: SQL and parameters to send (alone, or with others in one round
    trip), and the instances its rows make."""

    def __init__(self, shape: _Shape, scalars: list[int | str]) -> None:
        if shape.for_update and connections[shape.db].get_autocommit():
            raise TransactionManagementError("select_for_update cannot be used outside of a transaction.")
        self.shape, self.sql, self.params, self.db = shape, shape.sql, shape.bind(scalars), shape.db

    def instances(self, rows: list) -> list[M]:
        return self.shape.instances(rows)

    def all(self) -> list[M]:
        """Run alone: as a server-side prepared statement (PostgreSQL plans it once per connection, not at
        every call), unless settings.DATABASE_PREPARED_STATEMENTS is off (a pooler in transaction mode)."""
        connection = connections[self.db]
        if settings.DATABASE_PREPARED_STATEMENTS:
            return self.instances(run_prepared(connection, [(self.sql, self.params)])[0])
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return self.instances(cursor.fetchall())

    def first(self) -> M | None:
        found = self.all()
        return found[0] if found else None


def read_together(reads: Sequence[Bound[Any] | tuple[str, Sequence[Any]]]) -> list[list]:
    """Several reads of one database in one round trip, in order: each a prepared read (its instances, as
    list() would give them, select_related and annotations included) or hand-written SQL with its parameters
    (its rows). Each runs after the one before with its own snapshot (READ COMMITTED), exactly as separate
    queries would, less the round trips: as server-side prepared statements in psycopg's pipeline
    (run_prepared); with prepared statements off (settings.DATABASE_PREPARED_STATEMENTS: a pooler in
    transaction mode), in one execute of several statements, bound on the client (one_text)."""
    if not reads:
        return []
    dbs = {read.db for read in reads if isinstance(read, Bound)}
    if len(dbs) > 1:
        raise ValueError("reads together must be of one database")
    connection = connections[dbs.pop() if dbs else DEFAULT_DB_ALIAS]
    statements = [(read.sql, read.params) if isinstance(read, Bound) else (read[0], list(read[1])) for read in reads]
    if settings.DATABASE_PREPARED_STATEMENTS:
        rows_of = run_prepared(connection, statements)
    else:
        with connection.cursor() as cursor:
            cursor.execute(one_text(cursor, statements), [])
            # Counted from the last result: an execute wrapper (pghistory's context) may put a statement of
            # its own first, and leaves the cursor on the last result.
            rows_of = [cursor.set_result(index - len(reads)).fetchall() for index in range(len(reads))]
    return [
        read.instances(rows) if isinstance(read, Bound) else rows for read, rows in zip(reads, rows_of, strict=True)
    ]


def one_text(cursor: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> str:
    """Statements as one text to execute with no parameters of its own ([]): each statement's parameters
    merged in by psycopg exactly as its client-side binding would merge them (psycopg caches its parse of
    a statement of ordinary length; the joined text of a round trip is too long for that cache, and was
    parsed afresh on every request), and '%' doubled, as a text with parameters must have it."""
    client = cursor.cursor  # Django's psycopg ClientCursor: several statements in one execute need it
    return "; ".join(client.mogrify(sql, params) for sql, params in statements).replace("%", "%%")


def run_prepared(connection: Any, statements: Sequence[tuple[str, Sequence[Any]]]) -> list[list]:
    """Statements as server-side prepared statements (PostgreSQL plans each once per connection; psycopg
    keeps them), in order, in one round trip (several go in psycopg's pipeline mode), each with its own
    snapshot as separate queries would have; the rows of each. Not through Django's execute wrappers: they
    may put a statement of their own first (pghistory's context, which only writes need), and a prepared
    statement is one statement. Errors become Django's; the round trip is logged as one query where Django
    logs queries (tests count them). A statement that returns no rows (a write) gives []. Needs
    settings.DATABASE_PREPARED_STATEMENTS."""
    with connection.cursor() as cursor:
        raw = cursor.cursor.connection
        start = time.monotonic()
        cursors: list[psycopg.Cursor] = []
        try:
            with connection.wrap_database_errors:
                if len(statements) > 1:
                    with raw.pipeline() as pipeline:
                        _send(raw, statements, cursors)
                        pipeline.sync()  # the round trip: every statement's result is in its cursor after it
                else:
                    _send(raw, statements, cursors)
                return [server.fetchall() if _has_rows(server) else [] for server in cursors]
        finally:
            for server in cursors:
                server.close()
            if connection.queries_logged:
                sent = "; ".join(sql for sql, _ in statements)
                connection.queries_log.append({"sql": sent, "time": f"{time.monotonic() - start:.3f}"})


def _has_rows(server: psycopg.Cursor) -> bool:
    """Whether the statement gave rows (a read) rather than a count (a write): from its result's status, not
    `description`, which builds a column object for every column at each call."""
    result = server.pgresult
    return result is not None and result.status == psycopg.pq.ExecStatus.TUPLES_OK


def _send(raw: psycopg.Connection, statements: Sequence[tuple[str, Sequence[Any]]], cursors: list) -> None:
    """Each statement executed, prepared, on a cursor of its own (added to `cursors`, which the caller closes)."""
    for sql, params in statements:
        server: psycopg.Cursor = psycopg.Cursor(raw)
        cursors.append(server)
        server.execute(_arrays_binary(sql, params), params, prepare=True)


_PLACEHOLDER = re.compile(r"%%|%s")
_BINARY_ARRAYS: dict[tuple[str, int], str] = {}


def _arrays_binary(sql: str, params: Sequence[Any]) -> str:
    """`sql` with the placeholder of each list parameter (an array: bulk inserts send a column as one) made
    binary (%b): psycopg writes an array's text form escaping every element with a regular expression, six
    times the CPU of its binary form for rows of JSON. Which places take arrays is learnt from the first
    call of each statement (a statement's places keep their types: Django casts an array's place to an
    array type) and kept, so later calls cost a lookup, not a look at every parameter; the statement's
    text, and so its prepared plan, stays one per shape. (A place first seen with a scalar keeps %s: a list
    there later still goes, in text form.)"""
    found = _BINARY_ARRAYS.get((sql, len(params)))
    if found is None:
        places = iter([isinstance(value, list) for value in params])
        found = _PLACEHOLDER.sub(lambda m: m[0] if m[0] == "%%" else ("%b" if next(places) else "%s"), sql)
        if len(_BINARY_ARRAYS) < 1000:  # shapes are few; a caller making SQL per call is not cached
            _BINARY_ARRAYS[(sql, len(params))] = found
    return found


class Prepared(Generic[M]):
    """A queryset shape, `build(*args)`, compiled at its first use in each process (for each kind of
    arguments) and bound to its arguments at every call."""

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self._shapes: dict[tuple, _Shape] = {}
        self._lock = threading.Lock()

    def __call__(self, *args: int | str | Sequence[int | str]) -> Bound[M]:
        kinds, scalars = _flat(args)
        shape = self._shapes.get(kinds)
        if shape is None:
            with self._lock:
                shape = self._shapes.get(kinds)
                if shape is None:
                    shape = self._shapes[kinds] = _Shape(self.build, args, len(scalars))
        return Bound(shape, scalars)

    def sql_of(self, *args: int | str | Sequence[int | str], using: str = DEFAULT_DB_ALIAS) -> tuple[str, list]:
        """What the ORM itself would send for these arguments, compiled afresh (for tests)."""
        queryset = self.build(*args)
        sql, params = queryset.query.get_compiler(using=using).as_sql()
        return sql, list(params)
