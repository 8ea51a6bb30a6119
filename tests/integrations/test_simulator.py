"""The legacy MES simulator: it owns its database, releases work orders through its tables and as B2MML
files, stops by itself, and takes the completions that come back."""

from __future__ import annotations

import io
import threading

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from psycopg import conninfo

from integrations import b2mml
from integrations.adapters import impl_for
from integrations.models import Adapter, InboxMessage
from integrations.sim import legacy
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import order
from travelers import selectors
from travelers.models import Traveler, WorkOrder


@pytest.fixture
def demo(db, settings, tmp_path, legacy_dsn, monkeypatch):
    """The demo factory's master data and adapters, the simulator's database being the scratch one."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setenv(legacy.LEGACY_ENV, legacy_dsn)
    call_command("seed_demo", "--no-travelers", stdout=io.StringIO())
    call_command("seed_adapters", stdout=io.StringIO())
    return legacy_dsn


def query(dsn: str, sql: str) -> tuple:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql).fetchone()


def sim(*args) -> str:
    out = io.StringIO()
    call_command("legacy_sim", "--no-gauges", *args, stdout=out)
    return out.getvalue()


def test_released_orders_arrive_through_the_database_and_the_file_drops_resolved(demo, tmp_path):
    printed = sim("--once", "--seed", "7", "--no-machines")

    (number, plant, status) = query(demo, 'SELECT "AUFNR", "WERK", "STATUS" FROM "AUFTRAG"')
    assert (plant, status) == ("FR20", "FREI")
    (dropped,) = (tmp_path / "dropbox" / "wic" / "inbox").glob("*.xml")
    assert "V0401" in dropped.name and f"released order {number}" in printed
    (erp,) = (tmp_path / "dropbox" / "qro" / "inbox").glob("*.xml")
    assert "MX30" in erp.name and "V0600" in erp.name

    tls_db = Adapter.objects.get(name="tls-legacy-db")
    assert impl_for(tls_db).poll() == 0  # rows younger than lag_seconds (1 s) wait for the next poll
    tls_db.settings["lag_seconds"] = 0
    assert impl_for(tls_db).poll() == 1
    assert impl_for(Adapter.objects.get(name="wic-file-drop")).poll() == 1
    assert impl_for(Adapter.objects.get(name="qro-file-drop")).poll() == 1

    assert set(InboxMessage.objects.values_list("status", flat=True)) == {"processed"}
    tls = WorkOrder.objects.get(number=number)
    assert tls.site.code == "TLS" and tls.source_system == "legacy-tls"
    wic = WorkOrder.objects.get(provenance__message__adapter__name="wic-file-drop")
    assert wic.site.code == "WIC" and wic.part_revision.part.number in {"7420-101", "7420-100"}
    qro = WorkOrder.objects.get(provenance__message__adapter__name="qro-file-drop")
    assert qro.site.code == "QRO" and "the part's current released revision" in qro.provenance.get().note


def test_the_simulators_orders_wait_in_the_toulouse_and_queretaro_station_queues(demo, tmp_path):
    sim("--once", "--seed", "3", "--no-machines")
    tls_db = Adapter.objects.get(name="tls-legacy-db")
    tls_db.settings["lag_seconds"] = 0
    impl_for(tls_db).poll()
    impl_for(Adapter.objects.get(name="qro-file-drop")).poll()
    for site, adapter in (("TLS", "tls-legacy-db"), ("QRO", "qro-file-drop")):
        order = WorkOrder.objects.get(provenance__message__adapter__name=adapter)
        travelers = list(Traveler.objects.filter(work_order=order))
        assert travelers and sum(t.item.quantity for t in travelers) == order.quantity, site
        first = travelers[0].steps.order_by("sequence").first().work_center
        _, queue = selectors.work_center_queue(site, first.code)
        assert {t.number for t, _ in queue} == {t.number for t in travelers}, site
        assert travelers[0].released_by.username == "legacy-mes"


@pytest.mark.parametrize("version", ["V0401", "V0500", "V0600", "V0700"])
def test_what_the_simulator_drops_is_valid_b2mml_of_its_version(version):
    document = legacy.schedule_document([order("WO-9", codes=["MC-10", "CT1"])], version)
    noun = "OperationsSchedule" if version == "V0700" else "ProductionSchedule"
    b2mml.validate(b2mml.parse_xml(document), version=version, document=noun)


def test_an_unmapped_code_from_the_legacy_mes_is_a_dead_letter(demo):
    sim("--count", "1", "--interval", "0", "--no-files", "--unmapped-every", "1", "--no-machines")
    tls_db = Adapter.objects.get(name="tls-legacy-db")
    tls_db.settings["lag_seconds"] = 0
    impl_for(tls_db).poll()
    message = InboxMessage.objects.get()
    assert message.status == "dead" and "'Coat2'" in message.reason


def test_the_simulator_stops_by_itself(demo):
    simulator = legacy.LegacySimulator(dsn=demo, inbox=None, outbox=None, out=lambda line: None)
    assert simulator.run(interval=0, count=3, duration=None, once=False, stop_event=threading.Event()) == 3
    stop = threading.Event()
    stop.set()
    assert simulator.run(interval=60, count=100, duration=None, once=False, stop_event=stop) == 3
    assert simulator.run(interval=0.05, count=4, duration=0.3, once=False, stop_event=threading.Event()) == 4


def test_completions_sent_back_are_taken_and_logged(demo, tmp_path):
    with psycopg.connect(demo, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO "RUECKMELDUNG" ("BEGLEIT", "AUFNR", "SERNR", "MENGE", "MSGID", "STATUS") '
            "VALUES ('T-0000042', '10000001', 'SN-42', 1, 'm-1', 'NEU')"
        )
    outbox = tmp_path / "dropbox" / "wic" / "outbox"
    (outbox / "WO-1_T-0000043_x.xml").write_text(
        '<SyncOperationsPerformance xmlns="http://www.mesa.org/xml/B2MML"><DataArea><OperationsPerformance>'
        "<OperationsResponse><ID>T-0000043</ID></OperationsResponse></OperationsPerformance></DataArea>"
        "</SyncOperationsPerformance>"
    )
    lines = []
    simulator = legacy.LegacySimulator(dsn=demo, inbox=None, outbox=outbox, out=lines.append)

    assert simulator.accept() == 2
    assert any("completion of order 10000001: traveler T-0000042, SN-42" in line for line in lines)
    assert any("WO-1_T-0000043_x.xml: traveler(s) T-0000043" in line for line in lines)
    assert (outbox / "accepted" / "WO-1_T-0000043_x.xml").exists()  # moved aside, not deleted
    assert query(demo, 'SELECT "VERARB" IS NOT NULL FROM "RUECKMELDUNG"') == (True,)
    assert simulator.accept() == 0  # taken once


def test_peripherals_are_skipped_with_a_notice_when_mqtt_is_not_configured(demo, monkeypatch):
    monkeypatch.delenv("MQTT_URL", raising=False)
    printed = sim("--once", "--no-files")
    assert "machine states not published: MQTT_URL is not set" in printed


def test_the_legacy_database_lives_on_travelers_server(db, monkeypatch):
    monkeypatch.setenv(legacy.LEGACY_ENV, "postgresql://somewhere/else")
    assert legacy.legacy_dsn() == "postgresql://somewhere/else"  # the environment wins
    mine, theirs = connection.get_connection_params(), conninfo.conninfo_to_dict(legacy.server_dsn("legacy_mes"))
    assert theirs["dbname"] == "legacy_mes" and theirs.get("host") == mine.get("host")
