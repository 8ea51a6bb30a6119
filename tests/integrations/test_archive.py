"""The data-lake archive: a closed traveler becomes a BagIt package (traveler.json, PDF, attachments) in
the lake, written once, indexed in Parquet, verifiable without Traveler, retrievable from the package
alone, and disposed of only after its retention with a signed approval."""

from __future__ import annotations

import ast
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

import bagit
import duckdb
import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fsspec.implementations.local import LocalFileSystem
from pypdf import PdfReader

from integrations.archive import lake as lakes
from integrations.archive import selectors, services, tasks
from integrations.archive import verify as archive_verify
from integrations.archive.adapter import Impl
from integrations.archive.errors import DisposalRefused, StoreUnavailable
from integrations.archive.models import ArchiveAttempt, ArchiveRecord, Disposal, RetentionClass
from integrations.models import Adapter
from integrations.relay import relay_drain
from mes.celery import app
from mes.compliance.models import AuditEvent, Signature
from mes.compliance.signing import signature_verify
from mes.events.models import OutboxMessage
from tests.conftest import TEST_INTEGRITY_KEYS
from tests.factories import UserFactory
from tests.integrations.archive_support import NOTE, ORDER_XML, PNG, closed_traveler, traveler  # noqa: F401 - fixture
from tests.tampering import as_superuser
from tests.travelers.conftest import PASSWORD, shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
VERIFY = ROOT / "docs" / "verify_package.py"


@pytest.fixture
def lake_dir(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_LAKE_URL = str(tmp_path / "lake")
    return tmp_path / "lake"


@pytest.fixture
def closed(shop, traveler, lake_dir):  # noqa: F811 - the fixtures
    return closed_traveler(shop, traveler)


def packages(lake: Path) -> list[Path]:
    return sorted((lake / "travelers").rglob("*.tar")) if (lake / "travelers").exists() else []


def unpack(tar_path: Path, into: Path) -> Path:
    with tarfile.open(tar_path) as tar:
        tar.extractall(into, filter="data")
    (bag,) = [p for p in into.iterdir() if p.is_dir()]
    return bag


def run_verifier(path: Path, *, key: bool = True) -> subprocess.CompletedProcess:
    # -I: isolated (no project on sys.path, no PYTHON* variables): the script needs only bagit.
    given = ["--key", TEST_INTEGRITY_KEYS] if key else []
    return subprocess.run(
        [sys.executable, "-I", str(VERIFY), str(path), *given], capture_output=True, text=True, timeout=60, check=False
    )


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


# --- The package -------------------------------------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.10(c)", "Annex 11 §17", "AC 120-78B records")
def test_archive_closed_traveler_becomes_a_bag_with_every_value_signature_and_event(shop, closed, lake_dir, tmp_path):  # noqa: E501, F811
    record = services.traveler_archive(traveler_id=closed.pk)
    (tar_path,) = packages(lake_dir)
    assert record.uri == str(tar_path)
    site, year, month = tar_path.parts[-4:-1]
    closed_utc = closed.closed_at.astimezone(dt.UTC)
    assert (site, year, month) == ("site=WIC", f"year={closed_utc:%Y}", f"month={closed_utc:%m}")
    assert tar_path.name == f"{closed.number}-{record.package_sha256[:12]}.tar"
    assert record.size == tar_path.stat().st_size and record.retention.code == "aerospace-30y"
    assert record.retain_until == closed_utc.date().replace(year=closed_utc.year + 30)

    bag_dir = unpack(tar_path, tmp_path / "out")
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # fixity of every file
    assert bag.version_info == (1, 0) and set(bag.algorithms) == {"sha256", "sha512"}
    info = bag.info
    assert info["Traveler-Part-Number"] == "HSG-1" and info["Traveler-Part-Revision"] == "A"
    assert info["Traveler-Serial-Number"] == "SN-0001" and info["Traveler-Work-Order"] == "WO-1"
    assert info["Traveler-Site"] == "WIC" and info["Retention-Class"] == "aerospace-30y"
    assert info["Retain-Until"] == record.retain_until.isoformat() and info["Archive-Schema-Version"] == "2"
    assert (
        info["Producing-Software-Version"] == metadata.version("traveler")
        and "Bagging-Date" in info
        and "Payload-Oxum" in info
    )

    raw = (bag_dir / "data" / "traveler.json").read_bytes()
    envelope = json.loads(raw)
    assert raw == json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert (envelope["schema"], envelope["schema_version"], envelope["software_version"]) == (
        "traveler.archive",
        "2",
        metadata.version("traveler"),
    )
    rec = envelope["record"]
    values = [m for s in rec["steps"] for m in s["measurements"]]
    bore = [m for m in values if m["characteristic"] == "BORE_DIA"]
    assert [(m["entered_value"], m["current"]) for m in bore] == [("12.702", False), ("12.701", True)]
    assert bore[1]["correction_reason"] == "misread the dial" and bore[1]["correction_signature"]
    assert {m["characteristic"] for m in values} == {"PHOTO", "BORE_DIA", "SURFACE", "TORQUE", "MARK_OK"}
    assert [(c["part_number"], c["identifier"]) for c in rec["genealogy"]["consumed"]] == [("PIN-1", "PIN-0001")]
    # every signature of the traveler, each with the content it signed and its stored hash
    stored = {s.pk: s for s in Signature.objects.filter(pk__in=[s["id"] for s in envelope["signatures"]])}
    assert {s["id"] for s in rec["signatures"]} == set(stored) and len(stored) == 8  # the correction's co-signature
    assert {s.meaning for s in stored.values()} == {"performed", "inspected", "corrected", "cosigned", "approved"}
    for sig in envelope["signatures"]:
        assert sig["content_hash"] == stored[sig["id"]].content_hash and sig["content"]
    # the whole audit chain, every field and hash
    events = list(AuditEvent.objects.filter(chain=f"traveler:{closed.pk}").order_by("seq"))
    assert [(e["seq"], e["hash"], e["prev_hash"], e["action"]) for e in envelope["audit"]["events"]] == [
        (e.seq, e.hash, e.prev_hash, e.action) for e in events
    ]
    assert set(envelope["audit"]["events"][0]) >= {"occurred_at", "actor_id", "actor_name", "changes", "reason"}
    assert envelope["audit"]["head"] == {"seq": events[-1].seq, "hash": events[-1].hash}
    # the work order's chain, and what happened to its signers' credentials while it was open
    related = {c["chain"]: c for c in envelope["related_audit"]}
    assert f"workorder:{shop.order.pk}" in related and related[f"workorder:{shop.order.pk}"]["from_genesis"]
    assert {f"user:{shop.operator.pk}", f"user:{shop.inspector.pk}"} <= set(related)
    # the checkpoint that covered it, sealed with the integrity key named beside it
    integrity = envelope["integrity"]
    assert integrity["key_id"] == "test-1" and integrity["checkpoint"]["key_id"] == "test-1"
    assert [f"traveler:{closed.pk}", events[-1].seq, events[-1].hash] in integrity["checkpoint"]["heads"]
    # the raw inbound message the work order came from
    (inbound,) = envelope["inbound_messages"]
    assert inbound["payload"] == ORDER_XML and inbound["message_type"] == "b2mml.SyncProductionSchedule"
    # attachments as uploaded, named by their SHA-256
    files = {p.name: p.read_bytes() for p in (bag_dir / "data" / "attachments").iterdir()}
    assert {name.split("-", 1)[1] for name in files} == {"bore.png", "wrench.txt"}
    assert PNG in files.values() and NOTE in files.values()
    assert envelope["context"]["operation_aliases"] == {"10": "MC-10"}
    # the PDF shows every signature's manifestation (printed name, meaning)
    text = pdf_text((bag_dir / "data" / "traveler.pdf").read_bytes())
    for sig in stored.values():
        assert sig.printed_name in text
    for meaning in ("Performed", "Inspected", "Corrected", "Approved"):
        assert meaning in text
    assert closed.number in text and "SN-0001" in text
    # ... and the archiving is itself audited
    assert AuditEvent.objects.filter(chain=f"archive:{closed.number}", action="archive.written").count() == 1


@pytest.mark.regulation("Annex 11 §17", "21 CFR 11.70")
def test_archive_verifier_reports_every_signature_ok_then_broken_after_tampering(closed, lake_dir, tmp_path):
    record = services.traveler_archive(traveler_id=closed.pk)
    done = run_verifier(Path(record.uri))
    assert done.returncode == 0, done.stdout + done.stderr
    signature_lines = [line for line in done.stdout.splitlines() if " signature " in f" {line} "]
    assert len(signature_lines) == 8 and all(line.startswith("OK") for line in signature_lines)
    assert "OK      audit trail" in done.stdout and "OK      bag: BagIt fixity" in done.stdout
    # bag, json, 8 signatures, 4 audit chains (traveler, work order, 2 signers), checkpoint, 2 files
    assert done.stdout.rstrip().endswith("(17 checks, 0 broken, 0 not checked)"), done.stdout
    without_key = run_verifier(Path(record.uri), key=False)
    assert without_key.returncode == 0 and "RESULT: OK, keyed hashes not checked" in without_key.stdout
    assert services.archive_check(record) == []  # the app's own check agrees

    # Tamper with a value in traveler.json: without re-bagging, the fixity and the signatures break
    bag_dir = unpack(Path(record.uri), tmp_path / "tampered")
    path = bag_dir / "data" / "traveler.json"
    envelope = json.loads(path.read_bytes())
    torque = next(m for s in envelope["record"]["steps"] for m in s["measurements"] if m["characteristic"] == "TORQUE")
    torque["entered_value"] = "26.0"
    path.write_bytes(json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    done = run_verifier(bag_dir)
    assert done.returncode == 1
    broken = [line for line in done.stdout.splitlines() if line.startswith("BROKEN")]
    assert any("bag: BagIt fixity" in line for line in broken)
    assert any("signature" in line and "TORQUE" in line for line in broken), done.stdout
    # ... and re-bagged (fresh manifests, so fixity passes) the signatures still read as broken
    bagit.Bag(str(bag_dir)).save(manifests=True)
    done = run_verifier(bag_dir)
    assert done.returncode == 1 and "OK      bag: BagIt fixity" in done.stdout
    assert any(line.startswith("BROKEN") and "TORQUE" in line for line in done.stdout.splitlines())
    # altering the signed content itself breaks its hash
    envelope["signatures"][0]["content"]["traveler"] = "T-999999"
    path.write_bytes(json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    done = run_verifier(path)  # traveler.json alone
    assert done.returncode == 1 and "the signed content does not match its keyed hash" in done.stdout


def test_a_rebagged_package_without_its_last_events_is_broken(closed, lake_dir, tmp_path):
    """The review's attack: remove the last audit events from traveler.json and re-bag. Both verifiers
    compare the chain with its head and with the checkpoint, so it shows even without the key."""
    record = services.traveler_archive(traveler_id=closed.pk)
    bag_dir = unpack(Path(record.uri), tmp_path / "rebagged")
    path = bag_dir / "data" / "traveler.json"
    envelope = json.loads(path.read_bytes())
    envelope["audit"]["events"] = envelope["audit"]["events"][:-3]
    path.write_bytes(json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    bagit.Bag(str(bag_dir)).save(manifests=True)
    for key in (True, False):
        done = run_verifier(bag_dir, key=key)
        assert done.returncode == 1 and "OK      bag: BagIt fixity" in done.stdout
        assert "events were removed" in done.stdout
    report = archive_verify.check_bag(bag_dir)
    assert any("events were removed" in p for p in report.problems)
    # moving the head back as well still contradicts the sealed checkpoint
    envelope["audit"]["head"] = {
        "seq": envelope["audit"]["events"][-1]["seq"],
        "hash": envelope["audit"]["events"][-1]["hash"],
    }
    path.write_bytes(json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    bagit.Bag(str(bag_dir)).save(manifests=True)
    done = run_verifier(bag_dir)
    assert (
        done.returncode == 1 and "integrity checkpoint" in done.stdout and "lacks or holds differently" in done.stdout
    )
    assert any("integrity checkpoint" in p for p in archive_verify.check_bag(bag_dir).problems)


def test_verify_package_script_needs_only_the_standard_library_and_bagit():
    tree = ast.parse(VERIFY.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"bagit"}


# --- Written once, whole or not at all ----------------------------------------------------------------------


def test_archive_twice_writes_once(closed, lake_dir, monkeypatch):
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
    closed,
    lake_dir,
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
    closed, lake_dir, monkeypatch
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


def test_archive_adapter_queues_the_task_for_traveler_closed_and_ignores_other_events(closed, monkeypatch):
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


def test_archive_backlog_sweep_queues_unarchived_travelers_and_the_tasks_ack_late_and_retry(closed, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.archive_traveler, "delay", lambda traveler_id: queued.append(traveler_id))
    assert tasks.archive_backlog_sweep() == [closed.pk] and queued == [closed.pk]
    assert tasks.archive_traveler.acks_late and tasks.archive_traveler.retry_backoff
    assert StoreUnavailable in tasks.archive_traveler.autoretry_for
    schedule = app.conf.beat_schedule
    assert schedule["archive-backlog-sweep"]["task"] == "integrations.archive.tasks.archive_backlog_sweep"
    assert schedule["archive-verify-weekly"]["schedule"] == 7 * 24 * 3600


def test_archive_travelers_command_backfills_through_the_service_and_says_where(closed, lake_dir, capsys):
    call_command("archive_travelers")
    out = capsys.readouterr().out
    record = ArchiveRecord.objects.get()
    assert closed.number in out and record.uri in out and "1 archived, 0 failed" in out
    call_command("archive_travelers")
    assert "nothing to archive" in capsys.readouterr().out


# --- Checking the archive -----------------------------------------------------------------------------------


def test_verify_archive_reports_corrupt_and_missing_packages_and_exits_non_zero(closed, lake_dir, capsys):
    record = services.traveler_archive(traveler_id=closed.pk)
    call_command("verify_archive")
    assert "1 package(s) checked, 0 problem(s)" in capsys.readouterr().out
    record.refresh_from_db()
    assert record.last_verify_ok is True and record.last_verified_at is not None

    data = bytearray(Path(record.uri).read_bytes())
    data[len(data) // 2] ^= 0xFF
    Path(record.uri).write_bytes(bytes(data))
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_archive", "--sample", "5")
    assert exit_.value.code == 1
    assert "package corrupt" in capsys.readouterr().out
    record.refresh_from_db()
    assert record.last_verify_ok is False and "package corrupt" in record.last_verify_problem

    Path(record.uri).unlink()
    with pytest.raises(SystemExit):
        call_command("verify_archive")
    assert "package missing" in capsys.readouterr().out


# --- The lake's Parquet index and facts ---------------------------------------------------------------------


def test_archive_parquet_index_and_facts_read_back_with_duckdb(closed, lake_dir):
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


# --- Retrieval from the package -----------------------------------------------------------------------------


@pytest.mark.regulation("Annex 11 §17", "21 CFR 11.10(b)")
def test_archived_traveler_opens_from_its_package_alone(closed, lake_dir, client, shop, monkeypatch):  # noqa: F811 - the fixture
    record = services.traveler_archive(traveler_id=closed.pk)
    ArchiveRecord.objects.filter(pk=record.pk).update(traveler=None)  # its rows may leave the live database

    def no_live_record(*args, **kwargs):
        raise AssertionError("the archive view read the live traveler")

    monkeypatch.setattr("travelers.records.traveler_record", no_live_record)
    monkeypatch.setattr("travelers.reports.traveler_for_record", no_live_record)
    client.force_login(shop.inspector)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/archive/{closed.number}/")
    assert page.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "travelers_" in q["sql"]]
    html = page.content.decode()
    assert "Archived copy" in html and closed.number in html and "misread the dial" in html
    assert "Ines Smith" in html and "Approved" in html and "12.701" in html
    assert f"/archive/{closed.number}/traveler.pdf" in html and f"/archive/{closed.number}/package.tar" in html

    pdf = client.get(f"/archive/{closed.number}/traveler.pdf")
    assert pdf["Content-Type"] == "application/pdf" and "Ines Smith" in pdf_text(pdf.content)
    tar = client.get(f"/archive/{closed.number}/package.tar")
    body = b"".join(tar.streaming_content)
    assert tar["Content-Type"] == "application/x-tar" and len(body) == record.size
    assert closed.number in tar["Content-Disposition"]

    listing = client.get("/archive/", {"q": "SN-0001"})
    assert listing.status_code == 200 and closed.number in listing.content.decode()


def test_archive_pages_need_login_and_view_permission(closed, lake_dir, client):
    services.traveler_archive(traveler_id=closed.pk)
    assert client.get(f"/archive/{closed.number}/").status_code == 302
    client.force_login(UserFactory(username="nobody"))
    assert client.get(f"/archive/{closed.number}/").status_code == 403
    assert client.get(f"/archive/{closed.number}/package.tar").status_code == 403


# --- Retention and disposal ---------------------------------------------------------------------------------


def records_manager(user):
    """`user`, allowed to approve disposals (a fresh instance: permissions are cached per instance)."""
    user.user_permissions.add(Permission.objects.get(codename="dispose_package"))
    return type(user).objects.get(pk=user.pk)


@pytest.mark.regulation("21 CFR 11.10(c)")
def test_disposal_refused_before_retain_until_and_recorded_with_a_signature_after(closed, lake_dir, shop):  # noqa: F811 - the fixture
    record = services.traveler_archive(traveler_id=closed.pk)
    approver = records_manager(shop.supervisor)
    with pytest.raises(DisposalRefused, match="must be kept until"):
        services.archive_dispose(
            record=record, actor=approver, secret=PASSWORD, username=approver.get_username(), reason="retention over"
        )
    assert Path(record.uri).exists() and not Disposal.objects.exists()

    yesterday = timezone.now().date() - dt.timedelta(days=1)
    # thirty years later, as it were (the database lets no one shorten a retention)
    as_superuser("UPDATE archive_archiverecord SET retain_until = %s WHERE id = %s", [yesterday, record.pk])
    record.refresh_from_db()
    with pytest.raises(DisposalRefused, match="may not approve"):
        services.archive_dispose(
            record=record,
            actor=shop.operator,
            secret=PASSWORD,
            username=shop.operator.get_username(),
            reason="retention over",
        )
    disposal = services.archive_dispose(
        record=record, actor=approver, secret=PASSWORD, username=approver.get_username(), reason="retention over"
    )
    record.refresh_from_db()
    assert record.disposed_at == disposal.disposed_at and not Path(record.uri).exists()
    assert not Path(record.index_uri).exists() and not Path(record.facts_uri).exists()
    signature = disposal.approval_signature
    assert (signature.meaning, signature.printed_name, signature.record_id) == (
        "disposed",
        "Sam Smith",
        str(record.pk),
    )
    assert signature_verify(signature)
    actions = list(AuditEvent.objects.filter(chain=f"archive:{closed.number}").values_list("action", flat=True))
    assert actions == ["archive.written", "signature.signed", "archive.disposed"]
    with pytest.raises(DisposalRefused, match="already"):
        services.archive_dispose(
            record=record, actor=approver, secret=PASSWORD, username=approver.get_username(), reason="again"
        )


def test_retention_class_for_part_wins_over_customer_and_life_of_product_has_no_end(closed, lake_dir, shop):  # noqa: F811 - the fixture
    part = shop.part_revision.part
    part.customer = "Airframer"
    part.save()
    RetentionClass.objects.create(code="airframer-10y", name="Airframer 10 years", years=10, customer="Airframer")
    assert services.retention_class_for(part).code == "airframer-10y"
    RetentionClass.objects.create(code="hsg-life", name="Housing: life of product", years=None, part=part)
    assert services.retention_class_for(part).code == "hsg-life"
    record = services.traveler_archive(traveler_id=closed.pk)
    assert record.retain_until is None and record.retention.code == "hsg-life"
    with pytest.raises(DisposalRefused, match="life of the product"):
        services.archive_dispose(
            record=record,
            actor=records_manager(shop.supervisor),
            secret=PASSWORD,
            username=records_manager(shop.supervisor).get_username(),
            reason="x",
        )
