"""mes.prepared: a read compiled once gives what the ORM gives, and refuses a shape it cannot keep."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext

from mes.masterdata.models import Part, PartRevision
from mes.prepared import Prepared, _arrays_binary, run_prepared
from tests.factories import PartFactory, PartRevisionFactory

pytestmark = pytest.mark.django_db

REVISION = Prepared(
    lambda number, revision: (
        PartRevision.objects.select_related("part").filter(part__number=number, revision=revision).order_by()
    )
)


def test_a_prepared_read_sends_the_orms_own_sql_with_the_arguments_in_place():
    bound = REVISION("P-100", "B")
    assert (bound.sql, bound.params) == REVISION.sql_of("P-100", "B")
    again = REVISION("P-200", "C")  # the second call reuses the shape and binds its own arguments
    assert (again.sql, again.params) == REVISION.sql_of("P-200", "C")


def test_its_instances_are_the_querysets_with_related_rows_and_annotations():
    part = PartFactory(number="P-100")
    PartRevisionFactory(part=part, revision="A")
    wanted = PartRevisionFactory(part=part, revision="B")
    PartRevisionFactory(part=PartFactory(number="P-101"), revision="B")
    [found] = REVISION("P-100", "B").all()
    assert (found.pk, found.revision, found.part.number) == (wanted.pk, "B", "P-100")
    assert found._state.db == "default" and not found._state.adding
    assert REVISION("P-999", "B").first() is None

    counted = Prepared(lambda number: Part.objects.annotate(n=Count("revisions")).filter(number=number).order_by())
    [one] = counted("P-100").all()
    assert (one.pk, one.n) == (part.pk, 2)


def test_an_argument_equal_to_a_constant_of_the_shape_is_still_told_apart():
    # 31001 is the first stand-in of an integer: a constant of that value stays a constant.
    shape = Prepared(lambda pk: Part.objects.filter(pk=pk).exclude(pk=31001).order_by())
    bound = shape(7)
    assert bound.params == [7, 31001]
    assert (bound.sql, bound.params) == shape.sql_of(7)


def test_a_lookup_that_rewrites_its_value_cannot_be_prepared():
    contains = Prepared(lambda text: Part.objects.filter(number__contains=text))
    with pytest.raises(ValueError, match="cannot be prepared"):
        contains("P-1")


def test_only_int_and_str_arguments():
    with pytest.raises(TypeError, match="int or str"):
        REVISION("P-100", None)
    with pytest.raises(TypeError, match="int or str"):
        Prepared(lambda flag: Part.objects.filter(pk=1))(True)


@pytest.mark.django_db(transaction=True)  # the test's own transaction would hide the missing one
def test_a_locking_read_needs_a_transaction_as_the_orms_does():
    locked = Prepared(lambda pk: Part.objects.select_for_update().filter(pk=pk))
    part = PartFactory()
    with transaction.atomic():
        assert locked(part.pk).first() == part
    with pytest.raises(TransactionManagementError):
        locked(part.pk)


def test_a_list_argument_is_part_of_the_shape_by_its_length():
    parts = [PartFactory(number=f"P-3{n}") for n in range(3)]
    some = Prepared(lambda ids, number: Part.objects.filter(pk__in=ids).exclude(number=number).order_by("pk"))
    two = some([parts[0].pk, parts[1].pk], "P-31")
    assert (two.sql, two.params) == some.sql_of([parts[0].pk, parts[1].pk], "P-31")
    assert [p.pk for p in two.all()] == [parts[0].pk]
    three = some([p.pk for p in parts], "none")
    assert [p.pk for p in three.all()] == [p.pk for p in parts]
    with pytest.raises(ValueError, match="no empty list"):
        some([], "P-31")


def _server_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_read_alone_is_planned_once_a_prepared_statement_on_the_server(settings):
    settings.DATABASE_PREPARED_STATEMENTS = True
    PartRevisionFactory(part=PartFactory(number="P-500"), revision="A")
    with CaptureQueriesContext(connection) as queries:
        [found] = REVISION("P-500", "A").all()
    assert found.part.number == "P-500"
    assert len(queries) == 1  # logged where Django logs its queries
    assert any("masterdata_partrevision" in sql and "$1" in sql for sql in _server_statements())


def test_turned_off_a_read_goes_through_djangos_cursor(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    PartRevisionFactory(part=PartFactory(number="P-501"), revision="B")
    before = _server_statements()
    [found] = REVISION("P-501", "B").all()
    assert found.revision == "B"
    assert _server_statements() == before


def test_a_list_parameter_is_sent_as_a_binary_array():
    """Bulk inserts send a column as one array; psycopg's text form of an array escapes every element with a
    regular expression, so run_prepared asks for the binary form (%b) of those parameters alone."""
    sql = "INSERT INTO t (a, b, c) SELECT * FROM UNNEST((%s)::int[], (%s)::text[]) WHERE c LIKE '50%%' AND d = %s"
    assert _arrays_binary(sql, [[1, 2], ["x", "y"], 3]) == sql.replace(
        "(%s)::int[], (%s)::text[]", "(%b)::int[], (%b)::text[]"
    )
    assert _arrays_binary(sql, [[3], ["z"], 4]) == _arrays_binary(sql, [[1, 2], ["x", "y"], 3])  # kept
    scalars = "UPDATE t SET a = %s WHERE b = %s"
    assert _arrays_binary(scalars, [1, "x"]) == scalars


def test_a_write_in_the_round_trip_gives_no_rows_and_the_reads_after_it_see_it(settings):
    settings.DATABASE_PREPARED_STATEMENTS = True
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE scratch_note (code text, body text[]) ON COMMIT DROP")
        inserted, read = run_prepared(
            connection,
            [
                ("INSERT INTO scratch_note (code, body) VALUES (%s, %s)", ["N-1", ['"quoted" {a,b}', "back\\slash"]]),
                ("SELECT body FROM scratch_note WHERE code = ANY(%s)", [["N-1", "N-2"]]),
            ],
        )
    assert inserted == []
    assert read == [(['"quoted" {a,b}', "back\\slash"],)]
