#!/usr/bin/env python3
"""Check a Traveler archive package without Traveler: Python 3.11+ and the `bagit` library only.

    pip install "bagit>=1.8,<2"
    python verify_package.py T-000123-1a2b3c4d5e6f.tar      # a package as stored in the data lake
    python verify_package.py T-000123/                      # an unpacked package (a BagIt bag)
    python verify_package.py traveler.json                  # the record alone (no fixity, no files)

It reports OK or BROKEN for:
  - the bag: BagIt fixity of every file (payload and tag manifests), as `bagit` validates it;
  - every electronic signature: its content hash is recomputed from traveler.json — the SHA-256 of the
    canonical JSON of {record_type, record_id, record, signer_id, printed_name, meaning, signed_at} —
    and compared with the stored hash; each value the signature covers must read the same in the record;
  - the traveler's audit trail: each event's hash recomputed over its fields, each pointing at the one
    before (the first at 64 zeros), numbered 1, 2, 3… without a gap;
  - every attachment: its SHA-256 as recorded at upload.
Exit status: 0 when everything is OK, 1 when anything is BROKEN, 2 when the package cannot be read.

Canonical JSON: UTF-8, keys sorted, no whitespace (separators "," and ":"), non-ASCII kept as is. In
traveler.json every decimal, time and date is already a string, so json.dumps with those options
reproduces the bytes that were hashed. See docs/archive.md.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
import tempfile
from pathlib import Path

import bagit

SCHEMA = "traveler.archive"
GENESIS = "0" * 64
SIGNED_VALUE_FIELDS = {  # field of a signed value -> the same value's field in the record
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
AUDIT_HASHED = (
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


def canonical_sha256(value) -> str:
    data = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


class Results:
    def __init__(self) -> None:
        self.lines: list[tuple[str, bool, str]] = []

    def add(self, what: str, ok: bool, why: str = "") -> None:
        self.lines.append((what, ok, why))

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.lines)

    def print(self) -> None:
        for what, ok, why in self.lines:
            print(f"{'OK    ' if ok else 'BROKEN'}  {what}" + (f" — {why}" if why else ""))
        broken = sum(1 for _, ok, _ in self.lines if not ok)
        print(f"RESULT: {'OK' if not broken else 'BROKEN'} ({len(self.lines)} checks, {broken} broken)")


def check_signatures(envelope: dict, out: Results) -> None:
    values = {m["id"]: m for step in envelope["record"]["steps"] for m in step["measurements"]}
    shown = {s["id"]: s for s in envelope["record"]["signatures"]}
    for sig in envelope["signatures"]:
        what = f"signature {sig['id']}: {sig['printed_name']} — {sig['meaning']} — {sig['signed_at']}"
        if sig.get("content") is None:
            out.add(what, False, f"no signed content in the package: {sig.get('content_error', '')}")
            continue
        envelope_hashed = {
            "record_type": sig["record_type"],
            "record_id": sig["record_id"],
            "record": sig["content"],
            "signer_id": sig["signer_id"],
            "printed_name": sig["printed_name"],
            "meaning": sig["meaning"],
            "signed_at": sig["signed_at"],
        }
        if canonical_sha256(envelope_hashed) != sig["content_hash"]:
            out.add(what, False, "content does not match the stored content hash")
            continue
        listed = shown.get(sig["id"])
        keys = ("printed_name", "meaning", "signed_at", "signer_id", "content_hash")
        if listed is None or any(listed[k] != sig[k] for k in keys):
            out.add(what, False, "the record shows this signature differently")
            continue
        covered = list(sig["content"].get("values") or [])
        if isinstance(sig["content"].get("value"), dict):
            covered.append(sig["content"]["value"])
        why = ""
        for value in covered:
            record_value = values.get(value["id"])
            if record_value is None:
                why = f"signed value {value['id']} is missing from the record"
                break
            changed = [r for s, r in SIGNED_VALUE_FIELDS.items() if s in value and value[s] != record_value[r]]
            if changed:
                why = (
                    f"value {value['id']} ({value['characteristic']}): {', '.join(changed)} differ from what was signed"
                )
                break
        out.add(what, not why, why)
    unsigned = sorted(set(shown) - {s["id"] for s in envelope["signatures"]})
    if unsigned:
        out.add("signatures", False, f"no signed content for signature(s) {unsigned}")


def check_audit(envelope: dict, out: Results) -> None:
    audit = envelope["audit"]
    previous, expected, why = GENESIS, 1, ""
    for event in audit["events"]:
        if event["seq"] != expected:
            why = f"event #{expected} is missing"
        elif event["prev_hash"] != previous:
            why = f"event #{event['seq']} does not point at the event before it"
        elif canonical_sha256({k: event[k] for k in AUDIT_HASHED}) != event["hash"]:
            why = f"event #{event['seq']} ({event['action']}) does not match its hash"
        if why:
            break
        previous, expected = event["hash"], expected + 1
    out.add(f"audit trail {audit['chain']} ({len(audit['events'])} events)", not why, why)


def check_attachments(envelope: dict, bag: Path, out: Results) -> None:
    for a in envelope["attachments"]:
        path = bag / a["path"]
        if not path.is_file():
            out.add(f"attachment {a['filename']}", False, "missing from the package")
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        out.add(f"attachment {a['filename']}", digest == a["sha256"], "" if digest == a["sha256"] else "altered")


def check_bag(bag: Path, out: Results) -> dict | None:
    try:
        bagit.Bag(str(bag)).validate(processes=1)
        out.add("bag: BagIt fixity", True)
    except bagit.BagError as exc:
        out.add("bag: BagIt fixity", False, str(exc).splitlines()[0])
    return load_envelope(bag / "data" / "traveler.json", out)


def load_envelope(path: Path, out: Results) -> dict | None:
    try:
        envelope = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        out.add("traveler.json", False, f"unreadable: {exc}")
        return None
    if envelope.get("schema") != SCHEMA:
        out.add("traveler.json", False, f"schema {envelope.get('schema')!r} is not {SCHEMA!r}")
        return None
    number = envelope.get("traveler_number")
    out.add(f"traveler.json: {number}, schema version {envelope.get('schema_version')}", True)
    return envelope


def unpack(tar_path: Path, into: Path) -> Path:
    with tarfile.open(tar_path, "r:") as tar:
        members = tar.getmembers()
        roots = {m.name.split("/", 1)[0] for m in members}
        if len(roots) != 1 or any(not (m.isfile() or m.isdir()) for m in members):
            raise ValueError("a package unpacks to one folder of plain files")
        tar.extractall(into, members=members, filter="data")
    return into / roots.pop()


def verify(path: Path) -> Results:
    out = Results()
    with tempfile.TemporaryDirectory(prefix="verify-package-") as tmp:
        if path.is_file() and path.suffix == ".json":
            envelope, bag = load_envelope(path, out), None
        else:
            bag = unpack(path, Path(tmp)) if path.is_file() else path
            envelope = check_bag(bag, out)
        if envelope is not None:
            check_signatures(envelope, out)
            check_audit(envelope, out)
            if bag is not None:
                check_attachments(envelope, bag, out)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2
    path = Path(argv[1])
    try:
        results = verify(path)
    except (OSError, ValueError, tarfile.TarError) as exc:
        print(f"cannot read {path}: {exc}")
        return 2
    print(f"package: {path}")
    results.print()
    return 0 if results.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
