"""The record path's INSERTs, their SQL compiled once per shape (travelers.services.common.insert_statement),
send what Django's own compiler sends for the same rows: one row (VALUES) and several (UNNEST)."""

from __future__ import annotations

import copy

import pytest
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.sql import InsertQuery
from psycopg.types.json import Jsonb

from mes.compliance.history import reason_for_change
from mes.compliance.models import AuditEvent
from mes.events.models import OutboxMessage
from mes.masterdata.models import Site, SiteEvent
from tests.travelers.conftest import do_step
from travelers import services
from travelers.models import Measurement
from travelers.services import common
from travelers.services.measurement_batch import ValueEntry

pytestmark = pytest.mark.django_db


def djangos(objs) -> tuple[str, list]:
    meta = objs[0]._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated]
    query = InsertQuery(type(objs[0]))
    query.insert_values(fields, list(objs))
    [(sql, params)] = query.get_compiler(using=DEFAULT_DB_ALIAS).as_sql()
    return sql, list(params)


def comparable(value):
    """Parameters as values: psycopg's JSON wrappers compare by what they wrap."""
    if isinstance(value, Jsonb):
        return ("jsonb", value.obj)
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    return value


def unsaved(rows):
    """Copies of saved rows, as the services build them: unsaved, their ids drawn."""
    copies = []
    for row in rows:
        twin = copy.copy(row)
        twin._state = copy.copy(row._state)
        twin._state.adding = True
        copies.append(twin)
    return copies


@pytest.mark.parametrize("model", [Measurement, AuditEvent, OutboxMessage])
@pytest.mark.parametrize("count", [1, 2])
def test_a_cached_insert_is_djangos_insert(shop, traveler, model, count):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    rows = unsaved(model.objects.order_by("-pk")[:count])
    assert len(rows) == count
    common._INSERTS.clear()
    first = common.insert_statement(rows)  # compiled by Django, and its shape kept
    again = common.insert_statement(rows)  # from the kept shape
    assert (type(rows[0]), True, count > 1) in common._INSERTS
    sql, params = djangos(rows)
    for made in (first, again):
        assert made[0] == sql
        assert comparable(made[1]) == comparable(params)
    if count > 1:
        assert "UNNEST" in sql


def test_values_a_field_would_convert_are_converted_as_django_does(shop, traveler):
    """The kept shape passes plain values (a str in a text field, an int in an integer or key field) as they
    are; anything else — a choice's enum member, a lazy text, a number typed as text for a key, a Decimal —
    goes through the field's own preparation, as Django's compiler sends it."""
    from django.utils.functional import lazy  # noqa: PLC0415 — only this test builds a lazy text

    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    rows = unsaved(Measurement.objects.order_by("-pk")[:2])
    common._INSERTS.clear()
    common.insert_statement(rows)  # the shape kept
    rows[0].judgment = Measurement.Judgment.IN_SPEC  # an enum member (a str subclass): as Django prepares it
    rows[0].step_id = str(rows[0].step_id)  # a key's id as text: Django saves the integer
    rows[1].entered_unit = lazy(lambda: "mm", str)()  # a lazy text: Django saves the text
    made = common.insert_statement(rows)
    sql, params = djangos(rows)
    assert made[0] == sql and comparable(made[1]) == comparable(params)
    columns = dict(zip([f.attname for f in Measurement._meta.local_concrete_fields], made[1], strict=True))
    assert type(columns["step_id"][0]) is int
    assert type(columns["entered_unit"][1]) is str


TRICKY = 'caliper %s 50%% O\'Brien "{a,b}" C:\\gauge\\ NULL; DROP TABLE x; --'


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "client-bound"])
def test_text_with_percent_signs_and_quotes_is_written_as_given(shop, traveler, settings, prepared):
    """The writes go together: prepared statements in a pipeline, or one text with the parameters merged
    in (mes.prepared.one_text). A '%', a quote, a brace or a backslash in a value must reach the database as
    typed, in the value, its audit event and its outbox message."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    step = services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)
    m = services.measurement_record(
        step=step, characteristic="BORE_DIA", value="12.701", unit="mm", device=TRICKY, actor=shop.operator
    )
    m.refresh_from_db()
    assert m.device == TRICKY
    message = OutboxMessage.objects.filter(event_type__endswith="measurement.recorded").latest("id")
    assert message.payload["data"]["value"]["device"] == TRICKY
    assert AuditEvent.objects.filter(object_id=str(m.pk), action="measurement.recorded").exists()


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "client-bound"])
def test_a_steps_values_in_one_request_keep_such_text_in_every_row(shop, traveler, settings, prepared):
    """Several values go as arrays, one per column (UNNEST); prepared, each array is sent in binary form
    (mes.prepared._arrays_binary): every element arrives intact, the actor's printed name in each audit
    event and the JSON payloads (all quotes) of the outbox included."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    profile = shop.operator.profile
    profile.printed_name = TRICKY
    profile.save()
    step = services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)
    recorded = services.measurement_record_batch(
        step=step,
        values=[
            ValueEntry(characteristic="BORE_DIA", value="12.701", unit="mm"),
            ValueEntry(characteristic="SURFACE", value="pass"),
        ],
        actor=shop.operator,
    )
    events = AuditEvent.objects.filter(action="measurement.recorded", object_id__in=[str(m.pk) for m in recorded])
    assert [e.actor_name for e in events] == [TRICKY, TRICKY]
    messages = OutboxMessage.objects.filter(event_type__endswith="measurement.recorded").order_by("id")
    assert [m.payload["data"]["value"]["entered_value"] for m in messages] == ["12.701", "pass"]
    assert [m.payload["data"]["value"]["characteristic"] for m in messages] == ["BORE_DIA", "SURFACE"]


@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "client-bound"])
def test_writes_sent_together_carry_the_open_history_context(settings, prepared):
    """Prepared, the writes bypass Django's cursor, where pghistory puts who/why in front of each write:
    write_together sends that context first, so a tracked table's trigger still records it."""
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    site = Site(code="CTX-1", name="Context")
    with transaction.atomic(), reason_for_change("sent with the record path's writes"):
        common.write_together([common.insert_statement([site])])
    event = SiteEvent.objects.get(code="CTX-1", pgh_label="created")
    assert event.pgh_context is not None
    assert event.pgh_context.metadata["reason"] == "sent with the record path's writes"
