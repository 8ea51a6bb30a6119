"""The data-lake archive's package: a closed traveler becomes a BagIt package (traveler.json, PDF,
attachments, every value, signature and event), verifiable without Traveler by docs/verify_package.py,
and `verify_archive` finds a corrupt or missing package."""

from __future__ import annotations

import ast
import datetime as dt
import json
import sys
from importlib import metadata
from pathlib import Path

import bagit
import pytest
from django.core.management import call_command

from integrations.archive import services
from integrations.archive import verify as archive_verify
from mes.compliance.models import AuditEvent, Signature
from tests.integrations.archive_support import (  # noqa: F401 - fixtures
    NOTE,
    ORDER_XML,
    PNG,
    VERIFY,
    closed,
    lake_dir,
    packages,
    pdf_text,
    run_verifier,
    traveler,
    unpack,
)
from tests.travelers.conftest import shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


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
def test_archive_verifier_reports_every_signature_ok_then_broken_after_tampering(closed, lake_dir, tmp_path):  # noqa: F811 - the fixtures
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


def test_a_rebagged_package_without_its_last_events_is_broken(closed, lake_dir, tmp_path):  # noqa: F811 - the fixtures
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


# --- Checking the archive -----------------------------------------------------------------------------------


def test_verify_archive_reports_corrupt_and_missing_packages_and_exits_non_zero(closed, lake_dir, capsys):  # noqa: F811 - the fixtures
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
