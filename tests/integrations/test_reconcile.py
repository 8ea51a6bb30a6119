"""The parallel run: the legacy MES (its database, or its files) and Traveler compared per site and day —
orders, operations, completions and quantities — on a page, as CSV, by `manage.py reconcile` and nightly."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from integrations.adapters import impl_for
from integrations.adapters.file_drop import file_receive
from integrations.models import Reconciliation
from integrations.reconcile import reconcile
from integrations.relay import relay_drain
from integrations.sim import legacy
from integrations.tasks import reconcile_nightly
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import close_traveler, order, release
from travelers.models import WorkOrder


def today(site):
    return timezone.localtime(timezone.now(), timezone=zoneinfo.ZoneInfo(site.time_zone)).date()


@pytest.fixture
def parallel_run(legacy_adapter, legacy_dsn, wic):
    """Three orders released in the legacy database, imported, their travelers run and closed, and the
    completions written back by the relay: the two systems agree."""
    release(
        legacy_dsn,
        order("4801", codes=["MC-10", "AS-80", "MK-90", "QC-99"], quantity=1),
        order("4802", codes=["MC-10", "AS-80", "MK-90", "QC-99"], quantity=1),
        order("4803", codes=["MC-10", "AS-80", "MK-90", "QC-99"], quantity=2),
    )
    legacy_adapter.settings = {**legacy_adapter.settings, "lag_seconds": 0}
    legacy_adapter.save()
    assert impl_for(legacy_adapter).poll() == 3
    travelers = {}
    for number, serial in (("4801", "SN-1"), ("4802", "SN-2"), ("4803", "SN-3")):
        travelers[number] = close_traveler(wic, WorkOrder.objects.get(number=number), identifier=serial)
    relay_drain()
    return travelers


def differences(run):
    return [(d.kind, d.work_order, d.traveler) for d in run.differences.all()]


def test_when_both_systems_agree_there_is_no_difference(parallel_run, legacy_adapter, wic):
    run = reconcile(adapter=legacy_adapter, site=wic.site, day=today(wic.site))
    assert run.error == "" and differences(run) == []
    assert run.summary == {"orders_legacy": 3, "orders_traveler": 3, "completions_legacy": 3, "completions_traveler": 3}


def test_a_withheld_completion_is_exactly_the_difference_listed(parallel_run, legacy_adapter, legacy_dsn, wic):
    withheld = parallel_run["4801"]  # its order is complete in Traveler: the legacy MES never heard so
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('DELETE FROM "RUECKMELDUNG" WHERE "BEGLEIT" = %s', [withheld.number])
        conn.execute('UPDATE "AUFTRAG" SET "STATUS" = \'FREI\' WHERE "AUFNR" = %s', ["4801"])
    run = reconcile(adapter=legacy_adapter, site=wic.site, day=today(wic.site))
    assert differences(run) == [("completion_missing_in_legacy", "4801", withheld.number)]
    (difference,) = run.differences.all()
    assert difference.traveler_value == "1" and difference.legacy_value == "—"


def test_quantities_status_and_orders_that_differ_are_listed(parallel_run, legacy_adapter, legacy_dsn, wic):
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('UPDATE "AUFTRAG" SET "MENGE" = 5 WHERE "AUFNR" = %s', ["4803"])
        conn.execute('UPDATE "RUECKMELDUNG" SET "MENGE" = 3 WHERE "BEGLEIT" = %s', [parallel_run["4802"].number])
    release(legacy_dsn, order("4804", part="NOPE-9"))  # refused by Traveler: a dead letter, not an order
    run = reconcile(adapter=legacy_adapter, site=wic.site, day=today(wic.site))
    assert sorted(differences(run)) == [
        ("completion_quantity_mismatch", "4802", parallel_run["4802"].number),
        ("order_missing_in_traveler", "4804", ""),
        ("quantity_mismatch", "4803", ""),
    ]
    again = reconcile(adapter=legacy_adapter, site=wic.site, day=today(wic.site))
    assert again.pk == run.pk and again.differences.count() == 3  # replaced, not added


def test_a_legacy_side_that_cannot_be_read_is_said_not_raised(legacy_adapter, wic, monkeypatch):
    monkeypatch.setenv("LEGACY_TEST_DSN", "postgresql://nobody@127.0.0.1:9/none")
    run = reconcile(adapter=legacy_adapter, site=wic.site, day=today(wic.site))
    assert run.error.startswith("the legacy side could not be read: OperationalError")


def test_files_are_reconciled_from_what_was_received_and_written_back(drop, wic, tmp_path):
    path = tmp_path / "orders.xml"
    path.write_bytes(legacy.schedule_document([order("WO-F1", quantity=1), order("WO-F2", quantity=1)], "V0700"))
    assert file_receive(adapter=drop, path=path).status == "imported"
    first = close_traveler(wic, WorkOrder.objects.get(number="WO-F1"), identifier="SN-F1")
    second = close_traveler(wic, WorkOrder.objects.get(number="WO-F2"), identifier="SN-F2")
    relay_drain()
    outbox = impl_for(drop).folder("outbox")
    assert len(list(outbox.glob("*.xml"))) == 2
    assert differences(reconcile(adapter=drop, site=wic.site, day=today(wic.site))) == []
    next(outbox.glob(f"*{second.number}*.xml")).unlink()  # a performance document lost on the way
    run = reconcile(adapter=drop, site=wic.site, day=today(wic.site))
    assert differences(run) == [("completion_missing_in_legacy", "WO-F2", second.number)]
    assert first.number not in str(differences(run))


def test_the_command_page_csv_and_status_page_show_the_differences(
    parallel_run, legacy_adapter, legacy_dsn, wic, client
):
    withheld = parallel_run["4802"]
    with psycopg.connect(legacy_dsn, autocommit=True) as conn:
        conn.execute('DELETE FROM "RUECKMELDUNG" WHERE "BEGLEIT" = %s', [withheld.number])
    out = io.StringIO()
    call_command("reconcile", "--site", "WIC", "--date", today(wic.site).isoformat(), stdout=out)
    printed = out.getvalue()
    assert "wic-legacy-db" in printed and "1 difference" in printed
    assert f"Completion missing in the legacy MES: 4802 {withheld.number}" in printed
    run = Reconciliation.objects.get()
    client.force_login(wic.supervisor)
    page = client.get("/integrations/reconciliations/").content.decode()
    assert "Completion missing in the legacy MES" in page and withheld.number in page
    csv = client.get(f"/integrations/reconciliations/{run.pk}.csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert f"completion_missing_in_legacy,4802,{withheld.number}" in csv.content.decode()
    status = client.get("/integrations/status").content.decode()
    assert "Open differences with the legacy MES" in status and "/integrations/reconciliations/" in status
    client.force_login(wic.operator)
    assert client.get("/integrations/reconciliations/").status_code == 403


def test_the_command_refuses_a_bad_site_or_date(db):
    with pytest.raises(CommandError, match="there is no site NOPE"):
        call_command("reconcile", "--site", "NOPE", "--date", "2026-12-01")
    with pytest.raises(CommandError, match="'yesterday' is not a date"):
        call_command("reconcile", "--site", "NOPE", "--date", "yesterday")


def test_the_nightly_task_reconciles_yesterday_for_every_legacy_adapter(legacy_adapter, wic):
    assert reconcile_nightly() == 1
    run = Reconciliation.objects.get()
    assert run.day == today(wic.site) - dt.timedelta(days=1)
