"""Checking a package from its bytes alone, the way docs/verify_package.py does without Traveler:
the bag's fixity (bagit), every signature's content hash recomputed from traveler.json and its signed
values compared with the record's, the audit chain's hashes and links, and each attachment's SHA-256.

Both implementations follow the rules of docs/archive.md; the tests run them on the same packages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from mes.compliance.audit import GENESIS
from mes.compliance.canonical import canonical_hash

from .package import SCHEMA

# The measurement fields of a signed content (travelers.content.measurement_content) and where the
# record (travelers.records) shows the same value.
SIGNED_VALUE_FIELDS = {
    "entered_value": "entered_value",
    "entered_unit": "entered_unit",
    "value_numeric": "value",
    "value_text": "value_text",
    "value_bool": "value_bool",
    "judgment": "judgment",
    "recorded_at": "recorded_at",
    "supersedes": "supersedes",
    "correction_reason": "correction_reason",
    "source": "source",
    "device": "device",
    "attachment_sha256": "attachment_sha256",
}
AUDIT_FIELDS = (
    "chain",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "changes",
    "reason",
    "request_id",
    "prev_hash",
)


@dataclass
class Report:
    lines: list[tuple[str, str, str]] = field(default_factory=list)  # (what, OK|BROKEN, why)

    def add(self, what: str, ok: bool, why: str = "") -> None:
        self.lines.append((what, "OK" if ok else "BROKEN", why))

    @property
    def ok(self) -> bool:
        return all(status == "OK" for _, status, _ in self.lines)

    @property
    def problems(self) -> list[str]:
        return [f"{what}: {why}" for what, status, why in self.lines if status != "OK"]


def signed_values(content: dict) -> list[dict]:
    """The measurement contents a signature covers (a step's or traveler's values, or one correction)."""
    values = list(content.get("values") or [])
    if isinstance(content.get("value"), dict):
        values.append(content["value"])
    return values


def check_signatures(envelope: dict, report: Report) -> None:
    measurements = {m["id"]: m for step in envelope["record"]["steps"] for m in step["measurements"]}
    listed = {s["id"]: s for s in envelope["record"]["signatures"]}
    for sig in envelope["signatures"]:
        what = f"signature {sig['id']} ({sig['printed_name']}, {sig['meaning']}, {sig['signed_at']})"
        if sig.get("content") is None:
            report.add(what, False, f"no signed content in the package: {sig.get('content_error', '')}")
            continue
        signed = {
            "record_type": sig["record_type"],
            "record_id": sig["record_id"],
            "record": sig["content"],
            "signer_id": sig["signer_id"],
            "printed_name": sig["printed_name"],
            "meaning": sig["meaning"],
            "signed_at": sig["signed_at"],
        }
        if canonical_hash(signed) != sig["content_hash"]:
            report.add(what, False, "the signed content does not hash to the stored content hash")
            continue
        shown = listed.get(sig["id"])
        if shown is None or any(
            shown[k] != sig[k] for k in ("printed_name", "meaning", "signed_at", "signer_id", "content_hash")
        ):
            report.add(what, False, "the record shows this signature differently")
            continue
        why = ""
        for value in signed_values(sig["content"]):
            m = measurements.get(value["id"])
            if m is None:
                why = f"signed value {value['id']} is missing from the record"
                break
            for signed_field, record_field in SIGNED_VALUE_FIELDS.items():
                if signed_field in value and value[signed_field] != m[record_field]:
                    why = f"value {value['id']} ({value['characteristic']}) {record_field} differs from what was signed"
                    break
            if why:
                break
        report.add(what, not why, why)
    missing = set(listed) - {s["id"] for s in envelope["signatures"]}
    if missing:
        report.add("signatures", False, f"no signed content for signature(s) {sorted(missing)}")


def check_audit(envelope: dict, report: Report) -> None:
    audit = envelope["audit"]
    prev, expected = GENESIS, 1
    why = ""
    for event in audit["events"]:
        if event["seq"] != expected:
            why = f"event #{expected} is missing"
            break
        if event["prev_hash"] != prev:
            why = f"event #{event['seq']} does not point at its predecessor"
            break
        if canonical_hash({k: event[k] for k in AUDIT_FIELDS}) != event["hash"]:
            why = f"event #{event['seq']} ({event['action']}) does not match its hash"
            break
        prev, expected = event["hash"], expected + 1
    report.add(f"audit chain {audit['chain']} ({len(audit['events'])} events)", not why, why)


def check_attachments(envelope: dict, bag_dir: Path, report: Report) -> None:
    for a in envelope["attachments"]:
        path = bag_dir / a["path"]
        if not path.is_file():
            report.add(f"attachment {a['filename']}", False, "missing from the package")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        report.add(f"attachment {a['filename']}", digest == a["sha256"], "" if digest == a["sha256"] else "altered")


def check_bag(bag_dir: Path) -> Report:
    """Everything above on an unpacked package."""
    report = Report()
    try:
        bagit.Bag(str(bag_dir)).validate(processes=1)
        report.add("bag (BagIt fixity)", True)
    except bagit.BagError as exc:
        report.add("bag (BagIt fixity)", False, str(exc).splitlines()[0])
    try:
        envelope = json.loads((bag_dir / "data" / "traveler.json").read_bytes())
    except (OSError, ValueError) as exc:
        report.add("traveler.json", False, f"unreadable: {exc}")
        return report
    if envelope.get("schema") != SCHEMA:
        report.add("traveler.json", False, f"schema is {envelope.get('schema')!r}, not {SCHEMA!r}")
        return report
    check_signatures(envelope, report)
    check_audit(envelope, report)
    check_attachments(envelope, bag_dir, report)
    return report
