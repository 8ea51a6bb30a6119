"""Shared by the file-drop, B2MML, legacy-database, command and simulator tests: the small shop of
tests/travelers with Wichita's legacy codes mapped, adapters on real folders, a scratch legacy
database on the test server, sample documents, and a quick way to a closed traveler.

Test modules take the fixtures with `from tests.integrations.legacy_support import *` (just the names in
__all__) and import the helpers by name."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import psutil
import psycopg
import pytest
from django.db import connection

from integrations.models import Adapter
from integrations.sim import legacy
from mes.masterdata import services as md
from tests.travelers.conftest import PASSWORD, run_to_signoff, shop
from travelers import services

__all__ = ["drop", "legacy_adapter", "legacy_database", "legacy_dsn", "shop", "wic"]  # the fixtures

WIC_CODES = {"assembly": "AS-80", "marking": "MK-90", "inspection": "QC-99", "coating": "CT1"}  # + MC-10
LAYOUT = {
    "number": "WO",
    "part": "PN",
    "revision": "REV",
    "quantity": "QTY",
    "due": "DUE",
    "operations": "OPS",
    "delimiter": ";",
    "date_format": "%Y-%m-%d",
}


@pytest.fixture
def wic(shop):  # noqa: F811 - the fixture imported above
    """The shop, with every operation of Wichita's legacy MES mapped (MC-10 is mapped by the shop)."""
    for name, code in WIC_CODES.items():
        md.operation_alias_create(operation=shop.ops[name], source_system="legacy-wic", site=shop.site, code=code)
    return shop


@pytest.fixture
def drop(wic, tmp_path):
    """A file-drop adapter for the shop's site on folders under tmp_path."""
    root = tmp_path / "dropbox"
    return Adapter.objects.create(
        name="wic-drop",
        kind=Adapter.Kind.FILE_DROP,
        site=wic.site,
        source_system="legacy-wic",
        inbound=True,
        outbound=True,
        settings={
            "inbox": str(root / "inbox"),
            "outbox": str(root / "outbox"),
            "layout": LAYOUT,
            "site_codes": {"US10": "WIC"},
        },
    )


def _drop_leftovers() -> None:
    """Scratch legacy databases of test runs that were killed before they could drop theirs."""
    with psycopg.connect(legacy.server_dsn(connection.settings_dict["NAME"]), autocommit=True) as conn:
        names = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'legacy_test_%'").fetchall()
        for (name,) in names:
            pid = name.split("_")[2]
            if pid.isdigit() and not psutil.pid_exists(int(pid)):
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def legacy_database(django_db_setup, django_db_blocker):
    """A scratch legacy MES database (the simulator's tables) on the test server, dropped at the end."""
    name = f"legacy_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with django_db_blocker.unblock():
        _drop_leftovers()
        dsn = legacy.database_create(name)
        try:
            legacy.schema_create(dsn)
            yield dsn
        finally:
            legacy.database_drop(name)


@pytest.fixture
def legacy_dsn(db, legacy_database):
    """The scratch legacy database, emptied for each test."""
    with psycopg.connect(legacy_database, autocommit=True) as conn:
        conn.execute('TRUNCATE "PRUEFWERT", "RUECKMELDUNG", "VORGANG", "AUFTRAG" RESTART IDENTITY')
    return legacy_database


@pytest.fixture
def legacy_adapter(wic, legacy_dsn, monkeypatch):
    monkeypatch.setenv("LEGACY_TEST_DSN", legacy_dsn)
    return Adapter.objects.create(
        name="wic-legacy-db",
        kind=Adapter.Kind.LEGACY_DB,
        site=wic.site,
        source_system="legacy-wic",
        inbound=True,
        outbound=True,
        secret_env="LEGACY_TEST_DSN",
        settings={**legacy.MAPPING, "plant": "US10"},
    )


def order(number="WO-100", *, codes=("MC-10", "AS-80", "MK-90", "QC-99"), quantity=2, part="HSG-1", revision="A"):
    return legacy.LegacyOrder(
        number=number,
        site="WIC",
        part=part,
        revision=revision,
        quantity=quantity,
        due=dt.date(2026, 12, 18),
        codes=list(codes),
    )


def close_traveler(shop, work_order, identifier="SN-0001"):  # noqa: F811
    """Release a traveler on `work_order`, run every step and approve it: a closed traveler."""
    traveler = services.traveler_release(work_order=work_order, identifier=identifier, actor=shop.supervisor)
    run_to_signoff(shop, traveler)
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    traveler.refresh_from_db()
    return traveler


V0401 = """<?xml version="1.0" encoding="ISO-8859-1"?>
<SyncProductionSchedule xmlns="http://www.wbf.org/xml/B2MML-V0401" releaseID="0401">
  <ApplicationArea>
    <Sender><LogicalID>MES-WICHITA</LogicalID></Sender>
    <CreationDateTime>2026-11-30T06:00:00Z</CreationDateTime>
  </ApplicationArea>
  <DataArea>
    <Sync/>
    <ProductionSchedule>
      <ID>PS-2026-48</ID>
      <Location><EquipmentID>US10</EquipmentID><EquipmentElementLevel>Site</EquipmentElementLevel></Location>
      <ProductionRequest>
        <ID>WO-4401</ID>
        <Description>Gehäuse, Los 1</Description>
        <EndTime>2026-12-15T23:00:00-06:00</EndTime>
        <SegmentRequirement>
          <ID>0010</ID>
          <ProcessSegmentID>MC-10</ProcessSegmentID>
        </SegmentRequirement>
        <SegmentRequirement>
          <ID>0020</ID>
          <ProductSegmentID>AS-80</ProductSegmentID>
          <MaterialProducedRequirement>
            <MaterialDefinitionID>HSG-1</MaterialDefinitionID>
            <Quantity><QuantityString>3</QuantityString><UnitOfMeasure>EA</UnitOfMeasure></Quantity>
            <MaterialProducedRequirementProperty>
              <ID>Revision</ID><Value><ValueString>A</ValueString></Value>
            </MaterialProducedRequirementProperty>
          </MaterialProducedRequirement>
        </SegmentRequirement>
      </ProductionRequest>
      <ProductionRequest>
        <ID>WO-4402</ID>
        <SegmentRequirement>
          <ID>0010</ID>
          <SegmentRequirement><ID>0011</ID><ProcessSegmentID>CT1</ProcessSegmentID></SegmentRequirement>
          <SegmentRequirement><ID>0012</ID><ProcessSegmentID>QC-99</ProcessSegmentID>
            <LatestEndTime>2026-12-20T12:00:00Z</LatestEndTime>
          </SegmentRequirement>
          <MaterialProducedRequirement>
            <MaterialDefinitionID>HSG-1</MaterialDefinitionID>
            <Quantity><QuantityString>1</QuantityString></Quantity>
            <MaterialProducedRequirementProperty>
              <ID>Revision</ID><Value><ValueString>A</ValueString></Value>
            </MaterialProducedRequirementProperty>
          </MaterialProducedRequirement>
        </SegmentRequirement>
      </ProductionRequest>
    </ProductionSchedule>
  </DataArea>
</SyncProductionSchedule>
""".encode("iso-8859-1")

CSV = "WO;PN;REV;QTY;DUE;OPS\nWO-C1;HSG-1;A;4;2026-12-01;MC-10|AS-80|MK-90\n\nWO-C2;HSG-1;A;1;;CT1\n"


def release(dsn, *orders, plant="US10", status="FREI"):
    """Release `orders` in the scratch legacy database (at `plant`, then set to `status`)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for o in orders:
            o.site = {"US10": "WIC", "FR20": "TLS"}[plant]
            legacy.order_release(conn, o)
            if status != "FREI":
                conn.execute('UPDATE "AUFTRAG" SET "STATUS" = %s WHERE "AUFNR" = %s', [status, o.number])
