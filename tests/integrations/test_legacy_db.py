"""The legacy database: released orders are read from the legacy MES's own tables (its names, its
codes) into work orders, from a checkpoint; completions and results are written back, idempotently.
Runs against a scratch legacy database on the test PostgreSQL server."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from integrations.adapters import impl_for
from integrations.errors import IntegrationError
from integrations.inbox import inbox_reprocess
from integrations.models import Checkpoint, InboxMessage
from integrations.relay import relay_run
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import close_traveler, order, release
from travelers.models import WorkOrder


def rows(dsn, query, params=()):
    with psycopg.connect(dsn) as conn:
        return conn.execute(query, params).fetchall()


def test_released_orders_of_the_plant_become_work_orders(legacy_adapter, legacy_dsn):
    release(legacy_dsn, order("4711", codes=["MC-10", "AS-80"], quantity=3), order("4712", codes=["CT1"]))
    release(legacy_dsn, order("4713"), status="ANGL")  # created, not released yet
    release(legacy_dsn, order("4714"), plant="FR20")  # another plant's

    assert impl_for(legacy_adapter).poll() == 2

    made = WorkOrder.objects.filter(source_system="legacy-wic").order_by("number")
    assert [(w.number, w.quantity, w.due_date, w.site.code) for w in made] == [
        ("4711", 3, dt.date(2026, 12, 18), "WIC"),
        ("4712", 2, dt.date(2026, 12, 18), "WIC"),
    ]
    message = InboxMessage.objects.get(external_id="4711")
    assert message.source == "AUFTRAG" and message.message_type == "legacy_db.order"
    assert '"ARBGANG": "AS-80"' in message.payload and '"MATNR": "HSG-1"' in message.payload  # kept as read
    assert Checkpoint.objects.filter(adapter=legacy_adapter, key="last_changed").exists()


def test_a_restart_resumes_from_the_checkpoint_and_never_reimports(legacy_adapter, legacy_dsn):
    release(legacy_dsn, order("4721"), order("4722"))
    assert impl_for(legacy_adapter).poll() == 2
    assert impl_for(legacy_adapter).poll() == 0  # a new instance, as after a restart: nothing new

    release(legacy_dsn, order("4723"))
    assert impl_for(legacy_adapter).poll() == 1
    Checkpoint.objects.filter(adapter=legacy_adapter).delete()  # even with the checkpoint lost …
    assert impl_for(legacy_adapter).poll() == 3
    assert WorkOrder.objects.filter(number__in=["4721", "4722", "4723"]).count() == 3  # … the inbox stops repeats
    assert InboxMessage.objects.count() == 3


def test_a_rereleased_order_is_a_new_version_applied_before_work_begins(legacy_adapter, legacy_dsn):
    release(legacy_dsn, order("4731"))
    impl_for(legacy_adapter).poll()
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('UPDATE "AUFTRAG" SET "GEAEND" = clock_timestamp() WHERE "AUFNR" = %s', ["4731"])
    assert impl_for(legacy_adapter).poll() == 1
    work_order = WorkOrder.objects.get(number="4731")
    assert work_order.provenance.count() == 2 and InboxMessage.objects.filter(external_id="4731").count() == 2
    assert work_order.provenance.order_by("id").last().action == "unchanged"  # nothing differed
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('UPDATE "AUFTRAG" SET "MENGE" = 4, "GEAEND" = clock_timestamp() WHERE "AUFNR" = %s', ["4731"])
    impl_for(legacy_adapter).poll()
    work_order.refresh_from_db()
    assert work_order.quantity == 4
    assert work_order.provenance.order_by("id").last().note.startswith("sent again: quantity 2 EA → 4 EA")


def test_an_order_the_legacy_mes_cancels_is_cancelled(legacy_adapter, legacy_dsn):
    release(legacy_dsn, order("4741"))
    impl_for(legacy_adapter).poll()
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute(
            'UPDATE "AUFTRAG" SET "STATUS" = \'STOR\', "GEAEND" = clock_timestamp() WHERE "AUFNR" = %s', ["4741"]
        )
    assert impl_for(legacy_adapter).poll() == 1
    work_order = WorkOrder.objects.get(number="4741")
    assert work_order.status == "cancelled"
    assert work_order.provenance.order_by("id").last().action == "cancelled"


def test_an_unknown_code_dead_letters_until_it_is_mapped(legacy_adapter, legacy_dsn, wic):
    release(legacy_dsn, order("4741", codes=["MC-10", "Coat2"]))
    impl_for(legacy_adapter).poll()
    message = InboxMessage.objects.get(external_id="4741")
    assert message.status == InboxMessage.Status.DEAD and "'Coat2'" in message.reason
    assert not WorkOrder.objects.filter(number="4741").exists()

    md.operation_alias_create(operation=wic.ops["coating"], source_system="legacy-wic", site=wic.site, code="Coat2")
    assert inbox_reprocess(message.pk).status == InboxMessage.Status.PROCESSED
    assert WorkOrder.objects.filter(number="4741").exists()


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("MENGE", 2.5, "MENGE '2.500' is not a positive whole number"),
        ("MATNR", "NOPE-9", "part 'NOPE-9' from legacy-wic (site WIC) is not a known part"),
        ("REV", "", "column REV (revision) is empty"),
    ],
)
def test_a_bad_row_is_a_dead_letter_with_its_reason(legacy_adapter, legacy_dsn, column, value, reason):
    release(legacy_dsn, order("4751"))
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute(f'UPDATE "AUFTRAG" SET "{column}" = %s WHERE "AUFNR" = %s', [value, "4751"])  # noqa: S608
    before = WorkOrder.objects.count()
    impl_for(legacy_adapter).poll()
    message = InboxMessage.objects.get(external_id="4751")
    assert message.status == InboxMessage.Status.DEAD and reason in message.reason
    assert "AUFTRAG row" in message.reason and WorkOrder.objects.count() == before


def test_completions_and_results_are_written_back_once(legacy_adapter, legacy_dsn, wic):
    release(legacy_dsn, order("4761", quantity=1))
    impl_for(legacy_adapter).poll()
    traveler = close_traveler(wic, WorkOrder.objects.get(number="4761"), identifier="SN-4761")

    assert relay_run().failed == 0

    closed = OutboxMessage.objects.get(event_type="traveler.closed", aggregate_id=traveler.number)
    completion = rows(legacy_dsn, 'SELECT "BEGLEIT", "AUFNR", "SERNR", "MENGE", "MSGID", "STATUS" FROM "RUECKMELDUNG"')
    assert completion == [(traveler.number, "4761", "SN-4761", 1, str(closed.message_id), "NEU")]
    results = rows(
        legacy_dsn,
        'SELECT "VORNR", "ARBGANG", "MERKMAL", "MESSWERT", "EINHEIT", "BEWERTUNG" FROM "PRUEFWERT" '
        'ORDER BY "VORNR", "MERKMAL"',
    )
    assert results == [
        (10, "MC-10", "BORE_DIA", "12.701", "mm", "IO"),
        (10, "MC-10", "SURFACE", "true", "", "IO"),
        (20, "AS-80", "TORQUE", "25.0", "N*m", "IO"),  # at the characteristic's 1 decimal
        (30, "MK-90", "MARK_OK", "true", "", "IO"),
    ]
    assert rows(legacy_dsn, 'SELECT "STATUS" FROM "AUFTRAG" WHERE "AUFNR" = %s', ["4761"]) == [("TABG",)]

    with psycopg.connect(legacy_dsn, autocommit=True) as conn:  # the legacy MES takes it and moves it on
        conn.execute('UPDATE "RUECKMELDUNG" SET "STATUS" = %s', ["VERB"])
    assert impl_for(legacy_adapter).publish([closed]) == {closed.pk: None}  # delivered again (at least once)
    assert rows(legacy_dsn, 'SELECT count(*), min("STATUS") FROM "RUECKMELDUNG"') == [(1, "VERB")]
    assert rows(legacy_dsn, 'SELECT count(*) FROM "PRUEFWERT"') == [(4,)]


def test_travelers_of_orders_the_legacy_system_did_not_send_are_not_written(legacy_adapter, legacy_dsn, wic):
    close_traveler(wic, wic.order)  # WO-1 was made in Traveler
    assert relay_run().failed == 0
    assert rows(legacy_dsn, 'SELECT count(*) FROM "RUECKMELDUNG"') == [(0,)]


def test_without_its_connection_string_the_adapter_says_which_variable_to_set(legacy_adapter, monkeypatch):
    monkeypatch.delenv("LEGACY_TEST_DSN")
    with pytest.raises(IntegrationError, match="LEGACY_TEST_DSN"):
        impl_for(legacy_adapter).poll()


def test_a_legacy_database_that_is_down_fails_the_delivery_for_a_retry(legacy_adapter, monkeypatch, wic):
    close_traveler(wic, wic.order)
    monkeypatch.setenv("LEGACY_TEST_DSN", "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    result = relay_run()
    assert result.failed > 0
    legacy_adapter.refresh_from_db()
    assert legacy_adapter.state == "failing" and legacy_adapter.last_error
