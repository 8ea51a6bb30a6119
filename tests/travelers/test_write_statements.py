"""The record path's INSERTs, their SQL compiled once per shape (travelers.services.common.insert_statement),
send what Django's own compiler sends for the same rows: one row (VALUES) and several (UNNEST)."""

from __future__ import annotations

import copy

import pytest
from django.db import DEFAULT_DB_ALIAS
from django.db.models.sql import InsertQuery
from psycopg.types.json import Jsonb

from mes.compliance.models import AuditEvent
from mes.events.models import OutboxMessage
from tests.travelers.conftest import do_step
from travelers import services
from travelers.models import Measurement
from travelers.services import common

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


def test_text_with_percent_signs_and_quotes_is_written_as_given(shop, traveler):
    """The round trips merge their parameters into one text (common.one_text): a '%' or a quote in a value
    must reach the database as typed, in the value, its audit event and its outbox message."""
    tricky = "caliper %s 50%% O'Brien \"; DROP TABLE x; --"
    step = services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)
    m = services.measurement_record(
        step=step, characteristic="BORE_DIA", value="12.701", unit="mm", device=tricky, actor=shop.operator
    )
    m.refresh_from_db()
    assert m.device == tricky
    message = OutboxMessage.objects.filter(event_type__endswith="measurement.recorded").latest("id")
    assert message.payload["data"]["value"]["device"] == tricky
    assert AuditEvent.objects.filter(object_id=str(m.pk), action="measurement.recorded").exists()
