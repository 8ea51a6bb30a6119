"""The command-line tools: import_orders (a backfill through the same inbox), export_performance (the
B2MML V0700 document of a work order's closed travelers) and seed_adapters (the demo adapters)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from lxml import etree

from integrations import b2mml
from integrations.models import Adapter, InboxMessage
from integrations.sim import legacy
from tests.factories import SiteFactory
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import CSV, V0401, close_traveler, order
from travelers.models import NumberingRule, WorkOrder


def run(*args) -> tuple[str, str | None]:
    """(what the command printed, the error it ended with or None)."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def test_import_orders_prints_what_it_created_and_what_it_refused(drop, tmp_path):
    backfill = tmp_path / "backfill"
    backfill.mkdir()
    (backfill / "a.xml").write_bytes(V0401)
    (backfill / "b.csv").write_text(CSV)
    (backfill / "c.xml").write_bytes(legacy.schedule_document([order("WO-77", codes=["ZZ-1"])], "V0700"))
    (backfill / "d.xml").write_text("<SyncProductionSchedule")

    printed, error = run("import_orders", str(backfill))

    assert "a.xml: imported: created WO-4401, WO-4402" in printed
    assert "b.csv: imported: created WO-C1, WO-C2" in printed
    refused = next(line for line in printed.splitlines() if line.startswith("c.xml: REFUSED: "))
    assert "operation code 'ZZ-1' from legacy-wic (site WIC) is not mapped" in refused
    assert "OperationsRequest[1]: " in refused  # says where in the file
    assert "d.xml: REFUSED: broken XML at line 1" in printed
    assert "4 work order(s) created from 4 file(s)" in printed
    assert error == "2 file(s) refused: c.xml, d.xml"  # a non-zero exit
    assert sorted(p.name for p in backfill.iterdir()) == ["a.xml", "b.csv", "c.xml", "d.xml"]  # left in place

    printed, error = run("import_orders", str(backfill / "a.xml"), str(backfill / "b.csv"), "--adapter", drop.name)
    assert "a.xml: already imported (WO-4401, WO-4402)" in printed and "nothing created" in printed
    assert error is None and WorkOrder.objects.filter(source_system="legacy-wic").count() == 4


def test_import_orders_says_which_adapter_or_file_is_wrong(drop, tmp_path):
    assert run("import_orders", str(tmp_path), "--adapter", "nope")[1].startswith("there is no adapter 'nope'")
    printed, error = run("import_orders", str(tmp_path / "missing.xml"))
    assert "missing.xml: REFUSED:" in printed and "does not exist" in printed and error
    Adapter.objects.create(name="second", kind="file_drop", source_system="x", settings={})
    assert "--adapter NAME" in run("import_orders", str(tmp_path / "x.xml"))[1]
    assert not InboxMessage.objects.exists()


def test_export_performance_prints_a_valid_document(wic, capsys):
    traveler = close_traveler(wic, wic.order)
    printed, error = run("export_performance", "WO-1")
    assert error is None
    root = etree.fromstring(printed.encode())
    b2mml.validate_performance(root)
    ns = {"b": b2mml.NS_V0700}
    assert root.findtext(".//b:OperationsPerformance/b:ID", namespaces=ns) == "WO-1"
    assert root.findtext(".//b:OperationsResponse/b:ID", namespaces=ns) == traveler.number


def test_export_performance_refuses_without_a_closed_traveler(wic):
    assert run("export_performance", "WO-1")[1] == (
        "work order WO-1 has no closed traveler yet: there is no performance to report"
    )
    assert run("export_performance", "WO-404")[1] == "there is no work order WO-404"


def test_export_performance_refuses_when_the_shipped_schemas_are_missing(wic, monkeypatch, tmp_path):
    close_traveler(wic, wic.order)
    monkeypatch.setattr(b2mml.schemas, "XSD_DIR", tmp_path)  # an installation that lost its xsd/ folder
    assert "the installation is incomplete" in run("export_performance", "WO-1")[1]
    printed, error = run("export_performance", "WO-1", "--no-validate")
    assert error is None and "SyncOperationsPerformance" in printed


@pytest.mark.django_db
def test_seed_adapters_configures_the_demo_adapters_once(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    SiteFactory(code="WIC", legacy_system="legacy-wic")
    SiteFactory(code="TLS", legacy_system="legacy-tls")

    SiteFactory(code="QRO", legacy_system="legacy-qro")
    printed, _ = run("seed_adapters")
    assert "Adapters: 4 created" in printed
    drop, db = Adapter.objects.get(name="wic-file-drop"), Adapter.objects.get(name="tls-legacy-db")
    archive = Adapter.objects.get(name="data-lake-archive")
    assert (archive.kind, archive.inbound, archive.outbound) == ("archive", False, True)
    assert drop.settings["inbox"] == str(tmp_path / "dropbox" / "wic" / "inbox")
    assert all((tmp_path / "dropbox" / "wic" / f).is_dir() for f in ("inbox", "done", "failed", "outbox"))
    assert (db.source_system, db.secret_env, db.settings["plant"]) == ("legacy-tls", "LEGACY_DB_URL", "FR20")
    assert drop.outbound and db.outbound

    assert (drop.release_policy, drop.release_as.username) == ("on_import", "legacy-mes")
    assert drop.release_as.has_perm("travelers.release_traveler") and not drop.release_as.has_usable_password()
    assert not drop.release_as.has_perm("travelers.perform_step")
    assert sorted(NumberingRule.objects.values_list("site__code", "pattern")) == [
        ("QRO", "Q{yy}-{seq:05d}"),
        ("TLS", "T{yy}-{seq:05d}"),
        ("WIC", "W{yy}-{seq:05d}"),
    ]

    printed, _ = run("seed_adapters")
    assert "Adapters: 0 created, 4 already present" in printed and Adapter.objects.count() == 4
    assert NumberingRule.objects.count() == 3


def test_export_performance_writes_the_version_asked_for(wic):
    close_traveler(wic, wic.order)
    printed, error = run("export_performance", "WO-1", "--b2mml-version", "V0500")
    assert error is None
    root = etree.fromstring(printed.encode())
    assert root.tag == f"{{{b2mml.NS_V0500}}}SyncProductionPerformance"
    b2mml.validate_performance(root, "V0500")
