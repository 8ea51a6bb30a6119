"""Writing the data-lake archive: a package is written once, whole or not at all; the archive adapter
queues the task for a closed traveler, the backlog sweep and the backfill command catch what was
missed; the lake's Parquet index and facts read back with DuckDB."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import duckdb
import pytest
from django.core.management import call_command
from django.utils import timezone
from fsspec.implementations.local import LocalFileSystem

from integrations.archive import lake as lakes
from integrations.archive import selectors, services, tasks
from integrations.archive.adapter import Impl
from integrations.archive.errors import StoreUnavailable
from integrations.archive.models import ArchiveAttempt, ArchiveRecord
from integrations.models import Adapter
from integrations.relay import relay_drain
from mes.celery import app
from mes.events.models import OutboxMessage
from tests.integrations.archive_support import (  # noqa: F401 - fixtures
    closed,
    lake_dir,
    packages,
    traveler,
)
from tests.tampering import as_superuser
from tests.travelers.conftest import shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


# --- Written once, whole or not at all ----------------------------------------------------------------------


def test_archive_twice_writes_once(closed, lake_dir, monkeypatch):  # noqa: F811 - the fixtures
    first = services.traveler_archive(traveler_id=closed.pk)
    mtime = Path(first.uri).stat().st_mtime_ns
    puts = []
    put_file = LocalFileSystem.put_file

    def spy(fs, local, remote, *args, **kwargs):  # packages are counted, checkpoints written
        if str(local).endswith(".tar"):
            puts.append(local)
            return None
        return put_file(fs, local, remote, *args, **kwargs)

    monkeypatch.setattr(LocalFileSystem, "put_file", spy)
    again = services.traveler_archive(traveler_id=closed.pk)
    assert again.pk == first.pk and puts == []
    # even with the index row gone (e.g. a restored database), the package is found and not rewritten
    as_superuser("DELETE FROM archive_archiverecord")
    third = services.traveler_archive(traveler_id=closed.pk)
    assert third.uri == first.uri and third.package_sha256 == first.package_sha256 and puts == []
    assert len(packages(lake_dir)) == 1 and Path(first.uri).stat().st_mtime_ns == mtime
    assert list(selectors.archive_backlog()) == []
    # reproducible: packed again (same day), the same traveler gives the same bytes, so the same name
    monkeypatch.undo()
    Path(first.uri).unlink()
    as_superuser("DELETE FROM archive_archiverecord")
    fourth = services.traveler_archive(traveler_id=closed.pk)
    assert (fourth.uri, fourth.package_sha256, fourth.size) == (first.uri, first.package_sha256, first.size)


def test_archive_store_failing_once_leaves_the_traveler_in_the_backlog_until_the_next_try(
    closed,  # noqa: F811 - the fixtures
    lake_dir,  # noqa: F811 - the fixtures
    monkeypatch,
    client,
    shop,  # noqa: F811 - the fixture
):
    real_put = LocalFileSystem.put_file
    calls = []

    def flaky(self, lpath, rpath, **kwargs):
        calls.append(rpath)
        if len(calls) == 1:
            raise ConnectionError("lake unreachable")
        return real_put(self, lpath, rpath, **kwargs)

    monkeypatch.setattr(LocalFileSystem, "put_file", flaky)
    with pytest.raises(StoreUnavailable):
        services.traveler_archive(traveler_id=closed.pk)
    (waiting,) = selectors.archive_backlog()
    assert waiting.pk == closed.pk and waiting.archive_attempt.attempts == 1
    assert "lake unreachable" in waiting.archive_attempt.last_error
    assert packages(lake_dir) == [] and not list((lake_dir / "_tmp").iterdir())
    assert ArchiveRecord.objects.count() == 0
    client.force_login(shop.inspector)
    page = client.get("/archive/").content.decode()
    assert "Closed, not archived yet (1)" in page and closed.number in page and "lake unreachable" in page

    record = services.traveler_archive(traveler_id=closed.pk)
    (tar_path,) = packages(lake_dir)
    assert record.uri == str(tar_path) and list(selectors.archive_backlog()) == []
    assert not ArchiveAttempt.objects.exists()
    assert services.archive_check(record) == []
    assert "Closed, not archived yet (0)" in client.get("/archive/").content.decode()


def test_archive_worker_killed_before_the_rename_leaves_nothing_visible_and_the_next_try_completes(
    closed,  # noqa: F811 - the fixtures
    lake_dir,  # noqa: F811 - the fixtures
    monkeypatch,
):
    def killed(self, tmp, final):
        assert Path(tmp).is_file() and Path(tmp).stat().st_size > 0  # the whole package was built aside
        raise SystemExit("worker killed")

    monkeypatch.setattr(lakes.Lake, "_commit", killed)
    with pytest.raises(SystemExit):
        services.traveler_archive(traveler_id=closed.pk)
    assert packages(lake_dir) == [] and list(selectors.archive_backlog()) == [closed]
    assert not list((lake_dir / "_tmp").iterdir())
    # a kill -9 leaves its temporary file behind: never visible as a package, swept later
    stale = lake_dir / "_tmp" / "0123-T-000001-deadbeef0000.tar"
    stale.write_bytes(b"partial")
    old = timezone.now().timestamp() - 7200
    os.utime(stale, (old, old))

    monkeypatch.undo()
    record = services.traveler_archive(traveler_id=closed.pk)
    assert packages(lake_dir) == [Path(record.uri)]
    assert lakes.Lake().sweep_temporary() == 1 and not stale.exists()
    assert list(selectors.archive_backlog()) == []


# --- The event, the task, the backlog sweep -----------------------------------------------------------------


def test_archive_adapter_queues_the_task_for_traveler_closed_and_ignores_other_events(closed, monkeypatch):  # noqa: F811 - the fixtures
    queued = []
    monkeypatch.setattr(tasks.archive_traveler, "delay", lambda traveler_id: queued.append(traveler_id))
    adapter = Adapter.objects.create(
        name="lake", kind="archive", source_system="traveler", inbound=False, outbound=True
    )
    messages = list(OutboxMessage.objects.filter(aggregate_id=closed.number).order_by("id"))
    assert {"traveler.closed", "step.started"} <= {m.event_type for m in messages}
    relay_drain()  # the relay hands every message to the adapter: one task, for the closing
    assert queued == [closed.pk] and not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    outcome = Impl(adapter).publish(messages)
    assert set(outcome) == {m.pk for m in messages} and not any(outcome.values())
    # broker down: the closed event waits for the relay's next round
    monkeypatch.setattr(tasks.archive_traveler, "delay", lambda traveler_id: (_ for _ in ()).throw(OSError("down")))
    outcome = Impl(adapter).publish(messages)
    closed_msg = next(m for m in messages if m.event_type == "traveler.closed")
    assert "down" in outcome[closed_msg.pk] and sum(1 for e in outcome.values() if e) == 1


def test_archive_backlog_sweep_queues_unarchived_travelers_and_the_tasks_ack_late_and_retry(closed, monkeypatch):  # noqa: F811 - the fixtures
    queued = []
    monkeypatch.setattr(tasks.archive_traveler, "delay", lambda traveler_id: queued.append(traveler_id))
    assert tasks.archive_backlog_sweep() == [closed.pk] and queued == [closed.pk]
    assert tasks.archive_traveler.acks_late and tasks.archive_traveler.retry_backoff
    assert StoreUnavailable in tasks.archive_traveler.autoretry_for
    schedule = app.conf.beat_schedule
    assert schedule["archive-backlog-sweep"]["task"] == "integrations.archive.tasks.archive_backlog_sweep"
    assert schedule["archive-verify-weekly"]["schedule"] == 7 * 24 * 3600


def test_archive_travelers_command_backfills_through_the_service_and_says_where(closed, lake_dir, capsys):  # noqa: F811 - the fixtures
    call_command("archive_travelers")
    out = capsys.readouterr().out
    record = ArchiveRecord.objects.get()
    assert closed.number in out and record.uri in out and "1 archived, 0 failed" in out
    call_command("archive_travelers")
    assert "nothing to archive" in capsys.readouterr().out


# --- The lake's Parquet index and facts ---------------------------------------------------------------------


def test_archive_parquet_index_and_facts_read_back_with_duckdb(closed, lake_dir):  # noqa: F811 - the fixtures
    record = services.traveler_archive(traveler_id=closed.pk)
    db = duckdb.connect()
    index = db.sql(
        "SELECT traveler_number, part_number, serial_or_lot, site, year, month, package_sha256, n_corrections, "
        "retain_until FROM read_parquet(?, hive_partitioning = true)",
        params=[f"{lake_dir}/index/travelers/*/*/*/*.parquet"],
    ).fetchall()
    closed_utc = closed.closed_at.astimezone(dt.UTC)
    assert index == [
        (
            "T-000001" if closed.number == "T-000001" else closed.number,
            "HSG-1",
            "SN-0001",
            "WIC",
            closed_utc.year,
            closed_utc.month,
            record.package_sha256,
            1,
            record.retain_until,
        )
    ]
    facts = db.sql(
        "SELECT characteristic_code, operation_code, operation_alias, CAST(value AS VARCHAR), unit, "
        "CAST(lower_limit AS DOUBLE), CAST(upper_limit AS DOUBLE), judgment, recorded_by, superseded, site_code, "
        "serial_or_lot FROM read_parquet(?, hive_partitioning = true) ORDER BY measurement_id",
        params=[f"{lake_dir}/facts/measurements/**/*.parquet"],
    ).fetchall()
    assert record.facts_rows == len(facts) == 6
    bore = [f for f in facts if f[0] == "BORE_DIA"]
    assert [(f[3], f[9]) for f in bore] == [("12.702000000", True), ("12.701000000", False)]
    assert bore[0][1:3] == ("MACHINING", "MC-10") and bore[0][4:9] == ("mm", 12.687, 12.713, "in_spec", "Olga Smith")
    assert {f[10] for f in facts} == {"WIC"} and {f[11] for f in facts} == {"SN-0001"}
    torque = next(f for f in facts if f[0] == "TORQUE")
    assert torque[1:3] == ("ASSEMBLY", None) and torque[3] == "25.000000000"
    # the queries of docs/archive.md
    current_bores = db.execute(
        "SELECT traveler_number, serial_or_lot, operation_code, operation_alias, value, unit, lower_limit, "
        "upper_limit, judgment, recorded_at, recorded_by "
        "FROM read_parquet(?, hive_partitioning = true) "
        "WHERE site = 'WIC' AND year = ? AND part_number = 'HSG-1' AND characteristic_code = 'BORE_DIA' "
        "AND NOT superseded ORDER BY judgment = 'out_of_spec' DESC, recorded_at",
        [f"{lake_dir}/facts/measurements/**/*.parquet", closed_utc.year],
    ).fetchall()
    assert [(r[0], r[1], r[3], str(r[4])) for r in current_bores] == [
        (closed.number, "SN-0001", "MC-10", "12.701000000")
    ]
    took_lot = db.execute(
        "SELECT traveler_number, serial_or_lot, closed_at, package_uri "
        "FROM read_parquet(?, hive_partitioning = true), unnest(components) AS c(component) "
        "WHERE component.part_number = 'PIN-1' AND component.serial_or_lot = 'PIN-0001'",
        [f"{lake_dir}/index/travelers/**/*.parquet"],
    ).fetchall()
    assert [(r[0], r[1], r[3]) for r in took_lot] == [(closed.number, "SN-0001", record.uri)]
