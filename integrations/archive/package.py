"""One closed traveler as a BagIt package (RFC 8493), built aside in a temporary folder and packed as
one tar (docs/archive.md describes the layout and the JSON schema):

    <traveler>/bagit.txt, bag-info.txt, manifest-sha256.txt, manifest-sha512.txt, tagmanifest-*.txt
    <traveler>/data/traveler.json                       the envelope below, canonical JSON
    <traveler>/data/traveler.pdf                        record_pdf of the same record
    <traveler>/data/attachments/<sha256>-<filename>     every photo and file, as uploaded

The envelope (`schema` "traveler.archive", `schema_version` "2") holds the as-built record
(travelers.records), every signature with the envelope it signed — the content as it stood when signed,
method, qualification, comment, key id — (so a verifier recomputes each keyed content hash), the
traveler's audit chain with every field and hash and its head, its work order's chain, the events about
its signers during its life (refused signings, lockouts), the integrity checkpoint that covered it with
the key id, and the raw inbound messages its work order came from.

The package is reproducible: the record is "as of" the closing time, the PDF is made in reportlab's
invariant mode, and the tar has fixed owners, modes and times, so the same traveler packed twice the
same day gives the same bytes (bag-info's Bagging-Date is the day it was packed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

import bagit
from django.conf import settings
from django.db.models import Q
from reportlab import rl_config

from integrations.models import WorkOrderProvenance
from mes.compliance import keys
from mes.compliance.canonical import canonical_bytes, jsonable
from mes.compliance.models import AuditChainHead, AuditEvent, Signature
from mes.compliance.signing import ENVELOPE_VERSION, signed_content
from travelers.content import History
from travelers.integrity import signed_content_of
from travelers.models import Attachment
from travelers.printing import record_pdf
from travelers.records import build_record

from . import reads
from .errors import PackageProblem

log = logging.getLogger(__name__)

SCHEMA = "traveler.archive"
SCHEMA_VERSION = "2"
CHECKSUMS = ["sha256", "sha512"]
BAGIT_TXT = "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"


@dataclass(frozen=True)
class Retention:
    code: str
    name: str
    years: int | None
    retain_until: dt.date | None

    def as_json(self) -> dict:
        return {
            "class": self.code,
            "name": self.name,
            "years": self.years,
            "life_of_product": self.years is None,
            "retain_until": self.retain_until.isoformat() if self.retain_until else None,
        }


@dataclass(frozen=True)
class Built:
    path: Path  # the tar
    sha256: str
    size: int


# --- The envelope --------------------------------------------------------------------------------------


def _content(sig: Signature, history: History | None):
    """What `sig` signed: rebuilt from the traveler's loaded history (as the verifier does) when it is one
    of the traveler's own records, else by the content function registered for its record type."""
    if history is not None:
        try:
            return signed_content_of(history, sig)
        except (KeyError, ValueError):  # not a record of this traveler's history
            pass
    return signed_content(sig)


def _signature(sig: Signature, history: History | None = None) -> dict:
    """What a verifier needs to recompute the signature's keyed hash: the envelope fields of
    mes.compliance.signing.signed_envelope, the content as it stood when signed, and the stored hash.
    A signature whose content cannot be rebuilt (no content function) is kept, marked, not dropped."""
    try:
        content, error = _content(sig, history), ""
    except LookupError as exc:
        content, error = None, str(exc)
        log.error("archive: signature %s has no content function: %s", sig.pk, exc)
    entry = {
        "id": sig.pk,
        "record_type": sig.record_type,
        "record_id": sig.record_id,
        "signer_id": sig.signer_id,
        "printed_name": sig.printed_name,
        "meaning": sig.meaning,
        "signed_at": sig.signed_at,
        "method": sig.method,
        "qualification_id": sig.qualification_id,
        "qualification": sig.qualification_text,
        "comment": sig.comment,
        "key_id": sig.key_id,
        "envelope": ENVELOPE_VERSION,
        "content": content,
        "content_hash": sig.content_hash,
    }
    if error:
        entry["content_error"] = error
    return entry


def _event(e: AuditEvent) -> dict:
    return {
        "id": e.pk,
        "chain": e.chain,
        "seq": e.seq,
        "occurred_at": e.occurred_at,
        "actor_id": e.actor_id,
        "actor_name": e.actor_name,
        "action": e.action,
        "object_type": e.object_type,
        "object_id": e.object_id,
        "changes": e.changes,
        "reason": e.reason,
        "request_id": e.request_id,
        "seal": e.seal,
        "key_id": e.key_id,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


def _chain(chain: str, events, *, from_genesis: bool = True, head: AuditChainHead | None = None) -> dict:
    """An audit chain as the package carries it: its events (from event #1 when `from_genesis`), and, for a
    whole chain, its head, whose last event it must be."""
    return {
        "chain": chain,
        "from_genesis": from_genesis,
        "head": {"seq": head.last_seq, "hash": head.last_hash} if head else None,
        "events": [_event(e) for e in events],
    }


def _related_chains(traveler, signer_ids: list[int]) -> list[dict]:
    """The work order's chain up to the traveler's closing, and each signer's events during its life
    (from its release), in one read."""
    until, since = traveler.closed_at, traveler.released_at
    order = f"workorder:{traveler.work_order_id}"
    users = [f"user:{pk}" for pk in signer_ids]
    during = Q(chain__in=users, occurred_at__lte=until)
    if since is not None:
        during &= Q(occurred_at__gte=since)
    events: dict[str, list[AuditEvent]] = {name: [] for name in [order, *users]}
    for e in AuditEvent.objects.filter(Q(chain=order, occurred_at__lte=until) | during).order_by("chain", "seq"):
        events[e.chain].append(e)
    return [_chain(order, events[order])] + [_chain(name, events[name], from_genesis=since is None) for name in users]


def _inbound(p: WorkOrderProvenance) -> dict:
    m = p.message
    return {
        "id": m.pk,
        "adapter": m.adapter.name,
        "adapter_kind": m.adapter.kind,
        "source_system": m.adapter.source_system,
        "source": m.source,
        "external_id": m.external_id,
        "version": m.version,
        "message_type": m.message_type,
        "idempotency_key": m.idempotency_key,
        "received_at": m.received_at,
        "status": m.status,
        "payload_sha256": m.payload_sha256,
        "payload": m.payload,
    }


def attachment_name(attachment: dict) -> str:
    """Where an attachment lives in the bag, relative to data/."""
    filename = attachment["filename"].replace("/", "_").replace("\\", "_") or "file"
    return f"attachments/{attachment['sha256']}-{filename}"


def _signatures(ids: list[int], held: dict[int, Signature]) -> list[Signature]:
    """The signatures `ids` in signing order, from those the loaded record holds (any other read by id)."""
    missing = [pk for pk in ids if pk not in held]
    if missing:
        held = held | {s.pk: s for s in Signature.objects.filter(pk__in=missing)}
    return sorted((held[pk] for pk in ids if pk in held), key=lambda s: (s.signed_at, s.pk))


def archive_envelope(traveler, *, retention: Retention, checkpoint: dict | None = None) -> dict:
    """traveler.json of a closed traveler, as plain JSON types (canonical JSON when written).
    `checkpoint` is the integrity checkpoint document that covered its chains when it was archived."""
    loaded = reads.loaded_traveler(traveler.pk)
    record = build_record(loaded.traveler, loaded.on_traveler, now=traveler.closed_at)
    signatures = _signatures([s["id"] for s in record["signatures"]], loaded.signatures())
    signer_ids = sorted({s.signer_id for s in signatures})
    aliases = {s.sequence: s.operation_alias for s in loaded.traveler.steps.all()}
    history = History([traveler.pk])  # every signed content from one load (~10 queries), not ~10 per signature
    envelope = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "software_version": settings.SOFTWARE_VERSION,
        "traveler_number": traveler.number,
        "retention": retention.as_json(),
        "context": {
            "customer": traveler.item.part.customer,
            "operation_aliases": {str(seq): alias for seq, alias in sorted(aliases.items()) if alias},
        },
        "record": record,
        "signatures": [_signature(s, history) for s in signatures],
        "audit": _chain(f"traveler:{traveler.pk}", loaded.events, head=loaded.head),
        "related_audit": _related_chains(traveler, signer_ids),
        "integrity": {
            "hash": "HMAC-SHA256 of the canonical JSON, keyed with the integrity key named by key_id",
            "key_id": keys.current().id,
            "key_fingerprint": keys.fingerprint(keys.current()),
            "checkpoint": checkpoint,
        },
        "inbound_messages": [_inbound(p) for p in loaded.provenance],
        "attachments": [
            {
                "id": a["id"],
                "step": a["step"],
                "filename": a["filename"],
                "content_type": a["content_type"],
                "size": a["size"],
                "sha256": a["sha256"],
                "path": f"data/{attachment_name(a)}",
            }
            for a in record["attachments"]
        ],
    }
    return jsonable(envelope)


# --- bag-info.txt --------------------------------------------------------------------------------------


def bag_info(envelope: dict) -> dict:
    record, retention = envelope["record"], envelope["retention"]
    t, item = record["traveler"], record["item"]
    info = {
        "Source-Organization": getattr(settings, "ARCHIVE_ORGANIZATION", "") or "Traveler",
        "External-Identifier": t["number"],
        "External-Description": (
            f"As-built traveler record of {item['part_number']} rev {item['revision']} "
            f"{'S/N' if item['tracking'] == 'serial' else 'lot'} {item['identifier']}"
        ),
        "Bag-Software-Agent": f"Traveler {envelope['software_version']} (bagit {bagit.VERSION})",
        "Traveler-Number": t["number"],
        "Traveler-Status": t["status"],
        "Traveler-Part-Number": item["part_number"],
        "Traveler-Part-Revision": item["revision"],
        "Traveler-Tracking": item["tracking"],
        "Traveler-Work-Order": record["work_order"]["number"],
        "Traveler-Site": record["site"]["code"],
        "Traveler-Released-At": t["released_at"] or "",
        "Traveler-Closed-At": t["closed_at"] or "",
        "Retention-Class": retention["class"],
        "Retain-Until": retention["retain_until"] or "life-of-product",
        "Archive-Schema": envelope["schema"],
        "Archive-Schema-Version": envelope["schema_version"],
        "Producing-Software": "Traveler",
        "Producing-Software-Version": envelope["software_version"],
    }
    info["Traveler-Serial-Number" if item["tracking"] == "serial" else "Traveler-Lot-Number"] = item["identifier"]
    if item["tracking"] != "serial":
        info["Traveler-Lot-Quantity"] = item["quantity"] or ""
    return {k: str(v).replace("\r", " ").replace("\n", " ") for k, v in info.items()}


# --- Building ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _invariant_pdf():
    """reportlab's invariant mode: no creation time nor random id in the PDF, so it is reproducible."""
    before = rl_config.invariant
    rl_config.invariant = 1
    try:
        yield
    finally:
        rl_config.invariant = before


def copy_attachments(traveler, envelope: dict, data_dir: Path) -> None:
    """Copy every attachment file, as uploaded, checking it still has the SHA-256 recorded at upload."""
    wanted = {a["id"]: a for a in envelope["attachments"]}
    files = {a.pk: a for a in Attachment.objects.filter(pk__in=list(wanted))}
    for pk, meta in wanted.items():
        row = files.get(pk)
        if row is None:
            raise PackageProblem(f"attachment {pk} of {traveler.number} is gone from the database")
        target = data_dir / meta["path"].removeprefix("data/")
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        try:
            with row.file.open("rb") as src, open(target, "wb") as dst:
                while chunk := src.read(1024 * 1024):
                    digest.update(chunk)
                    dst.write(chunk)
        except FileNotFoundError:
            raise PackageProblem(f"the file of attachment {meta['filename']!r} ({row.file.name}) is missing") from None
        if digest.hexdigest() != meta["sha256"]:
            raise PackageProblem(
                f"the file of attachment {meta['filename']!r} no longer matches the SHA-256 recorded at upload"
            )


def make_bag(envelope: dict, pdf: bytes, bag_dir: Path, *, add_payload=None) -> bagit.Bag:
    """Write the payload into `bag_dir`, then make it a BagIt 1.0 bag (sha256 and sha512 manifests).

    bagit changes the process's working directory while it works, and the PDF is made with reportlab's
    global invariant flag: build packages in worker processes or commands, not in a threaded web server."""
    bag_dir.mkdir(parents=True)
    (bag_dir / "traveler.json").write_bytes(canonical_bytes(envelope))
    (bag_dir / "traveler.pdf").write_bytes(pdf)
    if add_payload is not None:
        add_payload(bag_dir)  # files go beside traveler.json; make_bag moves them all into data/
    bag = bagit.make_bag(str(bag_dir), bag_info(envelope), processes=1, checksums=CHECKSUMS)
    # bagit.py writes "BagIt-Version: 0.97"; RFC 8493 bags say 1.0 (same layout). Re-save the tag manifests.
    (bag_dir / "bagit.txt").write_text(BAGIT_TXT, encoding="utf-8")
    bag = bagit.Bag(str(bag_dir))
    bag.save()
    return bag


def pack(bag_dir: Path, tar_path: Path, *, mtime: int) -> Built:
    """The bag as one uncompressed POSIX tar, one base folder, entries sorted, owners and times fixed."""
    base = bag_dir.name
    entries = []
    for folder, dirs, files in os.walk(bag_dir):
        dirs.sort()
        rel = Path(folder).relative_to(bag_dir)
        entries.append((rel, True))
        entries.extend((rel / f, False) for f in sorted(files))
    entries.sort(key=lambda e: e[0].as_posix())
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for rel, is_dir in entries:
            name = base if str(rel) == "." else f"{base}/{rel.as_posix()}"
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            if is_dir:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                path = bag_dir / rel
                info.size, info.mode = path.stat().st_size, 0o644
                with open(path, "rb") as f:
                    tar.addfile(info, f)
    digest = hashlib.sha256()
    with open(tar_path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
    return Built(tar_path, digest.hexdigest(), tar_path.stat().st_size)


def build_package(traveler, envelope: dict, workdir: Path, *, with_pdf: bool = True) -> Built:
    """Build the package of `traveler` in `workdir` (a temporary folder) and return the tar."""
    if with_pdf:
        with _invariant_pdf():
            pdf = record_pdf(envelope["record"])
    else:  # benchmarks only: measures the cost of the PDF
        pdf = b""
    bag_dir = workdir / envelope["traveler_number"]
    make_bag(envelope, pdf, bag_dir, add_payload=lambda d: copy_attachments(traveler, envelope, d))
    closed = dt.datetime.fromisoformat(envelope["record"]["traveler"]["closed_at"])
    built = pack(bag_dir, workdir / f"{envelope['traveler_number']}.tar", mtime=int(closed.timestamp()))
    shutil.rmtree(bag_dir, ignore_errors=True)
    return built


# --- Reading back --------------------------------------------------------------------------------------


def safe_extract(fileobj, target: Path) -> Path:
    """Unpack a package into `target` (regular files and folders only, inside target); return the bag."""
    with tarfile.open(fileobj=fileobj, mode="r:") as tar:
        members = tar.getmembers()
        roots = {m.name.split("/", 1)[0] for m in members}
        if len(roots) != 1:
            raise PackageProblem("a package unpacks to exactly one folder")
        for m in members:
            if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in Path(m.name).parts:
                raise PackageProblem(f"unsafe entry in package: {m.name}")
        tar.extractall(target, members=members, filter="data")
    return target / roots.pop()


def read_member(fileobj, name: str) -> bytes:
    """One file of a package (e.g. "data/traveler.json") without unpacking the rest."""
    with tarfile.open(fileobj=fileobj, mode="r:") as tar:
        for member in tar:
            if member.isfile() and member.name.split("/", 1)[-1] == name:
                extracted = tar.extractfile(member)
                return extracted.read() if extracted else b""
    raise PackageProblem(f"the package has no {name}")
