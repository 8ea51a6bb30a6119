#!/usr/bin/env python3
"""Check a Traveler archive package without Traveler: Python 3.11+ and the `bagit` library only.

    pip install "bagit>=1.8,<2"
    python verify_package.py PACKAGE.tar [--key-file integrity.keys | --key ID:BASE64]
    python verify_package.py T-000123/            # an unpacked package (a BagIt bag)
    python verify_package.py traveler.json        # the record alone (no fixity, no files)

The key is the installation's integrity key (docs/operations.md, "Key custody"): the same file as
INTEGRITY_KEY_FILE ("<key id> <base64 secret>" a line) or one key inline. Without it, the structure is
checked (fixity, links, heads, what each signature covers) but not the keyed hashes, and the result says so.

It reports OK, BROKEN or NOT CHECKED for:
  - the bag: BagIt fixity of every file (payload and tag manifests), as `bagit` validates it;
  - every electronic signature: the HMAC-SHA256 of the canonical JSON of its envelope — {envelope,
    record_type, record_id, record, signer_id, printed_name, meaning, signed_at, method, qualification_id,
    qualification, comment, key_id} — under the key `key_id`, compared with the stored hash; and each value
    the signature covers must read the same in the record;
  - the audit chains (the traveler's, its work order's, and the events about its signers while it was
    open): each event's keyed hash over its fields, each pointing at the one before (a whole chain starts
    at 64 zeros, numbered 1, 2, 3… without a gap), and a whole chain's head at its last event — so
    removing the last events shows even after re-bagging;
  - the integrity checkpoint that covered the traveler: its seal (HMAC of the document without "seal"),
    and that the head it states for the traveler's chain is an event of the package with that hash;
  - every attachment: its SHA-256 as recorded at upload.
Exit status: 0 when everything checked is OK, 1 when anything is BROKEN, 2 when it cannot be read.

Canonical JSON: UTF-8, keys sorted, no whitespace (separators "," and ":"), non-ASCII kept as is. In
traveler.json every decimal, time and date is already a string, so json.dumps with those options
reproduces the bytes that were hashed. See docs/archive.md.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import hmac
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
    "seal",
    "key_id",
    "prev_hash",
)
SIGNATURE_ENVELOPE = (
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
NOT_CHECKED = None  # a result that is neither OK nor BROKEN


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_keys(args) -> dict[str, bytes]:
    lines = []
    if args.key_file:
        lines += Path(args.key_file).read_text().splitlines()
    for item in args.key or []:
        lines.append(item.replace(":", " ", 1))
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key_id, _, secret = line.partition(" ")
        try:
            found[key_id] = base64.b64decode(secret.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"the secret of key {key_id!r} is not base64") from None
    return found


class Results:
    def __init__(self, keys: dict[str, bytes]) -> None:
        self.keys = keys
        self.lines: list[tuple[str, bool | None, str]] = []

    def add(self, what: str, ok: bool | None, why: str = "") -> None:
        self.lines.append((what, ok, why))

    @property
    def ok(self) -> bool:
        return all(ok is not False for _, ok, _ in self.lines)

    def keyed(self, content, key_id: str, digest: str) -> tuple[bool | None, str]:
        """(True/False/NOT_CHECKED, why) for a keyed hash."""
        if not key_id:
            return False, "carries no key id: it was never keyed"
        key = self.keys.get(key_id)
        if key is None:
            return NOT_CHECKED, f"keyed with {key_id!r}, not given (--key-file)"
        if hmac.compare_digest(hmac.new(key, canonical(content), hashlib.sha256).hexdigest(), digest):
            return True, ""
        return False, "does not match its keyed hash"

    def print(self) -> None:
        labels = {True: "OK     ", False: "BROKEN ", NOT_CHECKED: "NOT CHECKED"}
        for what, ok, why in self.lines:
            print(f"{labels[ok]} {what}" + (f" — {why}" if why else ""))
        broken = sum(1 for _, ok, _ in self.lines if ok is False)
        unchecked = sum(1 for _, ok, _ in self.lines if ok is NOT_CHECKED)
        result = "BROKEN" if broken else ("OK, keyed hashes not checked (give the key)" if unchecked else "OK")
        print(f"RESULT: {result} ({len(self.lines)} checks, {broken} broken, {unchecked} not checked)")


def check_signatures(envelope: dict, out: Results) -> None:
    values = {m["id"]: m for step in envelope["record"]["steps"] for m in step["measurements"]}
    shown = {s["id"]: s for s in envelope["record"]["signatures"]}
    for sig in envelope["signatures"]:
        what = f"signature {sig['id']}: {sig['printed_name']} — {sig['meaning']} — {sig['signed_at']}"
        if sig.get("content") is None:
            out.add(what, False, f"no signed content in the package: {sig.get('content_error', '')}")
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
        if why:
            out.add(what, False, why)
            continue
        signed = {k: sig.get(k) for k in SIGNATURE_ENVELOPE} | {"record": sig["content"]}
        ok, why = out.keyed(signed, sig.get("key_id", ""), sig["content_hash"])
        out.add(what, ok, f"the signed content {why}" if why else "")
    unsigned = sorted(set(shown) - {s["id"] for s in envelope["signatures"]})
    if unsigned:
        out.add("signatures", False, f"no signed content for signature(s) {unsigned}")


def check_chain(chain: dict, out: Results) -> None:
    """Links, numbering and the head of one chain; its keyed hashes when the key is given."""
    events, complete = chain["events"], chain.get("from_genesis", True)
    previous = GENESIS if complete else (events[0]["prev_hash"] if events else GENESIS)
    expected = 1 if complete else (events[0]["seq"] if events else 1)
    why, unchecked = "", False
    for event in events:
        if event["seq"] != expected:
            why = f"event #{expected} is missing"
        elif event["prev_hash"] != previous:
            why = f"event #{event['seq']} does not point at the event before it"
        else:
            ok, reason = out.keyed({k: event[k] for k in AUDIT_HASHED}, event.get("key_id", ""), event["hash"])
            if ok is False:
                why = f"event #{event['seq']} ({event['action']}) {reason}"
            unchecked = unchecked or ok is NOT_CHECKED
        if why:
            break
        previous, expected = event["hash"], expected + 1
    head = chain.get("head")
    if not why and head is not None:
        last = (events[-1]["seq"], events[-1]["hash"]) if events else (0, GENESIS)
        if (head["seq"], head["hash"]) != last:
            why = f"its head is event #{head['seq']}, the package's events end at #{last[0]}: events were removed"
    what = f"audit trail {chain['chain']} ({len(events)} events{'' if complete else ', a part'})"
    if why:
        out.add(what, False, why)
    else:
        out.add(
            what,
            NOT_CHECKED if unchecked else True,
            "links and head checked; keyed hashes need the key" if unchecked else "",
        )


def check_checkpoint(envelope: dict, out: Results) -> None:
    checkpoint = (envelope.get("integrity") or {}).get("checkpoint")
    if checkpoint is None:
        out.add("integrity checkpoint", False, "the package carries none")
        return
    what = f"integrity checkpoint {checkpoint['number']} ({checkpoint['created_at']})"
    chain = envelope["audit"]["chain"]
    events = {e["seq"]: e["hash"] for e in envelope["audit"]["events"]}
    stated = [(seq, digest) for name, seq, digest in checkpoint["heads"] if name == chain]
    if not stated:
        out.add(what, False, f"it does not cover {chain}")
        return
    if any(events.get(seq) != digest for seq, digest in stated):
        out.add(what, False, f"it says {chain} reached an event the package lacks or holds differently")
        return
    ok, why = out.keyed(
        {k: v for k, v in checkpoint.items() if k != "seal"}, checkpoint.get("key_id", ""), checkpoint.get("seal", "")
    )
    out.add(what, ok, f"its seal {why}" if why else "")


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
    if envelope.get("schema_version") != "2":
        out.add("traveler.json", False, f"schema version {envelope.get('schema_version')!r}: this checks version 2")
        return None
    out.add(f"traveler.json: {envelope.get('traveler_number')}, schema version 2", True)
    return envelope


def unpack(tar_path: Path, into: Path) -> Path:
    with tarfile.open(tar_path, "r:") as tar:
        members = tar.getmembers()
        roots = {m.name.split("/", 1)[0] for m in members}
        if len(roots) != 1 or any(not (m.isfile() or m.isdir()) for m in members):
            raise ValueError("a package unpacks to one folder of plain files")
        tar.extractall(into, members=members, filter="data")
    return into / roots.pop()


def verify(path: Path, keys: dict[str, bytes]) -> Results:
    out = Results(keys)
    with tempfile.TemporaryDirectory(prefix="verify-package-") as tmp:
        if path.is_file() and path.suffix == ".json":
            envelope, bag = load_envelope(path, out), None
        else:
            bag = unpack(path, Path(tmp)) if path.is_file() else path
            envelope = check_bag(bag, out)
        if envelope is not None:
            check_signatures(envelope, out)
            for chain in [envelope["audit"], *envelope.get("related_audit", [])]:
                check_chain(chain, out)
            check_checkpoint(envelope, out)
            if bag is not None:
                check_attachments(envelope, bag, out)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Check a Traveler archive package.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("package", type=Path)
    parser.add_argument("--key-file", help='the integrity key file ("<key id> <base64 secret>" a line)')
    parser.add_argument("--key", action="append", help="one key as ID:BASE64 (repeatable)")
    args = parser.parse_args(argv[1:])
    try:
        keys = read_keys(args)
        results = verify(args.package, keys)
    except (OSError, ValueError, tarfile.TarError) as exc:
        print(f"cannot read {args.package}: {exc}")
        return 2
    print(f"package: {args.package}")
    results.print()
    return 0 if results.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
