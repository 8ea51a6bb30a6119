"""Checking a package from its bytes alone, the way docs/verify_package.py does without Traveler:
the bag's fixity (bagit), every signature's keyed content hash recomputed from traveler.json and its
signed values compared with the record's, the audit chains' keyed hashes and links and their heads, the
integrity checkpoint's seal and what it says of the traveler's chain, and each attachment's SHA-256.
Keys come from this installation's key ring (mes.compliance.keys).

Both implementations follow the rules of docs/archive.md; the tests run them on the same packages."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import bagit

from mes.compliance import keys
from mes.compliance.audit import GENESIS
from mes.compliance.canonical import canonical_bytes, canonical_hash
from mes.compliance.checkpoints import document_seal_content

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
    "seal",
    "key_id",
    "prev_hash",
)
ENVELOPE_FIELDS = (
    "envelope",
    "record_type",
    "record_id",
    "signer_id",
    "printed_name",
    "meaning",
    "signed_at",
    "method",
    "qualification_id",
    "qualification",
    "comment",
    "key_id",
)


def keyed(content, key_id: str, digest: str) -> tuple[bool, str]:
    """(ok, why) of a keyed hash under this installation's ring."""
    key = keys.get(key_id) if key_id else None
    if key is None:
        return False, f"key {key_id!r} is not in this installation's ring" if key_id else "not keyed"
    return (key.mac(canonical_bytes(content)) == digest), "does not match its keyed hash"


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
        signed = {k: sig.get(k) for k in ENVELOPE_FIELDS} | {"record": sig["content"]}
        ok, why = keyed(signed, sig.get("key_id", ""), sig["content_hash"])
        if not ok:
            report.add(what, False, f"the signed content {why}")
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


def chain_problem(chain: dict) -> str:
    """Why a chain of the package is broken ("" when it is not): links, keyed hashes; numbering from 1 for a
    chain carried from its first event; its head at the last event when given (a removed last event shows)."""
    events = chain["events"]
    complete = chain.get("from_genesis", True)
    prev = GENESIS if complete else (events[0]["prev_hash"] if events else GENESIS)
    expected = 1 if complete else (events[0]["seq"] if events else 1)
    for event in events:
        if event["seq"] != expected:
            return f"event #{expected} is missing"
        if event["prev_hash"] != prev:
            return f"event #{event['seq']} does not point at its predecessor"
        content = {k: event[k] for k in AUDIT_FIELDS}
        if event.get("key_id"):
            ok, why = keyed(content, event["key_id"], event["hash"])
            if not ok:
                return f"event #{event['seq']} ({event['action']}) {why}"
        elif canonical_hash(content) != event["hash"]:
            return f"event #{event['seq']} ({event['action']}) does not match its hash"
        prev, expected = event["hash"], expected + 1
    head = chain.get("head")
    if head is not None:
        last = (events[-1]["seq"], events[-1]["hash"]) if events else (0, GENESIS)
        if (head["seq"], head["hash"]) != last:
            return f"its head is event #{head['seq']}, the package's events end at #{last[0]}: events were removed"
    return ""


def check_audit(envelope: dict, report: Report) -> None:
    for chain in [envelope["audit"], *envelope.get("related_audit", [])]:
        why = chain_problem(chain)
        report.add(f"audit chain {chain['chain']} ({len(chain['events'])} events)", not why, why)


def check_checkpoint(envelope: dict, report: Report) -> None:
    """The checkpoint that covered the traveler: sealed, and saying of its chain what the package holds."""
    checkpoint = (envelope.get("integrity") or {}).get("checkpoint")
    if checkpoint is None:
        report.add("integrity checkpoint", False, "the package carries no checkpoint")
        return
    what = f"integrity checkpoint {checkpoint['number']} ({checkpoint['created_at']})"
    ok, why = keyed(document_seal_content(checkpoint), checkpoint.get("key_id", ""), checkpoint.get("seal", ""))
    if not ok:
        report.add(what, False, f"its seal {why}")
        return
    events = {e["seq"]: e["hash"] for e in envelope["audit"]["events"]}
    chain = envelope["audit"]["chain"]
    stated = [(seq, digest) for name, seq, digest in checkpoint["heads"] if name == chain]
    if not stated:
        report.add(what, False, f"it does not cover {chain}")
        return
    for seq, digest in stated:
        if events.get(seq) != digest:
            report.add(what, False, f"it says {chain} reached #{seq} with another hash: events were removed or altered")
            return
    report.add(what, True)


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
    check_checkpoint(envelope, report)
    check_attachments(envelope, bag_dir, report)
    return report
