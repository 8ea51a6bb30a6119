"""Checkpoints: signed copies of the audit chains' heads, written once to the data lake.

A database superuser can rewrite rows, delete a chain with its head, or cut a chain's tail and move its
head back. The keyed hashes stop them forging new hashes without the key; the checkpoints stop them
quietly removing or truncating what was already there: every 15 minutes (INTEGRITY_CHECKPOINT_SECONDS)
and before a traveler is archived, the heads that moved since the previous checkpoint are written, as a
document sealed with the integrity key, to a write-once store outside the database (the data lake; S3
Object Lock where the bucket has it). Once a week (INTEGRITY_FULL_CHECKPOINT_SECONDS) a full one lists
every chain. The verifier reads the lake — never this database's copy — from the newest full checkpoint
on and checks that every chain it names is still there, at least as long, with the same hash at the
checkpointed event.

Document (canonical JSON, gzip), `integrity/checkpoints/<number>-<kind>-<seal prefix>.json.gz`:

    {"schema": "traveler.integrity-checkpoint", "schema_version": 1, "number": 42, "kind": "delta",
     "created_at": "...Z", "previous": {"number": 41, "seal": "..."}, "base": 40,
     "heads": [["traveler:7", 31, "<hash of event #31>"], ...], "chains_total": 1234,
     "digest": "<sha256 of every head, full checkpoints only>", "key_id": "2026a", "seal": "<HMAC>"}

The store is the data lake's, registered by integrations.archive (this module knows no adapter).
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from . import keys
from .canonical import canonical_bytes
from .models import IntegrityCheckpoint

log = logging.getLogger(__name__)

SCHEMA = "traveler.integrity-checkpoint"
SCHEMA_VERSION = 1
FOLDER = "integrity/checkpoints"
LOCK_ID = 0x7472617665  # pg_advisory_xact_lock: one checkpoint writer at a time


class CheckpointStore(Protocol):
    """Where checkpoints live: written once, listed and read back."""

    def write_once(self, name: str, data: bytes) -> tuple[str, str]:  # -> (uri, object lock mode)
        ...

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...


class CheckpointStoreMissing(RuntimeError):
    pass


_store_factory: Callable[[], CheckpointStore] | None = None


def register_store(factory: Callable[[], CheckpointStore]) -> None:
    global _store_factory
    _store_factory = factory


def store() -> CheckpointStore:
    if _store_factory is None:
        raise CheckpointStoreMissing("no checkpoint store is registered (the data lake app is not installed)")
    return _store_factory()


# --- Writing -------------------------------------------------------------------------------------------------


def _heads(cursor: CursorWrapper, *, full: bool, also: Iterable[str]) -> list[tuple[str, int, str]]:
    if full:
        cursor.execute(
            "SELECT chain, last_seq, last_hash FROM compliance_auditchainhead WHERE last_seq > 0 ORDER BY chain"
        )
    else:
        cursor.execute(
            "SELECT h.chain, h.last_seq, h.last_hash FROM compliance_auditchainhead h "
            "LEFT JOIN compliance_checkpointedhead c ON c.chain = h.chain "
            "WHERE h.last_seq > 0 AND (c.seq IS DISTINCT FROM h.last_seq OR h.chain = ANY(%s)) ORDER BY h.chain",
            [list(also)],
        )
    return [(chain, int(seq), digest) for chain, seq, digest in cursor.fetchall()]


def heads_digest(heads: Iterable[tuple[str, int, str]]) -> str:
    """SHA-256 over every (chain, seq, hash), in chain order, one line each."""
    digest = hashlib.sha256()
    for chain, seq, h in sorted(heads):
        digest.update(f"{chain}\t{seq}\t{h}\n".encode())
    return digest.hexdigest()


def document_seal_content(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "seal"}


def encode(doc: dict) -> bytes:
    return gzip.compress(canonical_bytes(doc), mtime=0)


def decode(data: bytes) -> dict:
    return json.loads(gzip.decompress(data))


def _full_due(last_full: IntegrityCheckpoint | None, now: dt.datetime) -> bool:
    if last_full is None:
        return True
    return (now - last_full.created_at).total_seconds() >= settings.INTEGRITY_FULL_CHECKPOINT_SECONDS


def checkpoint_write(
    *, full: bool = False, chains: Iterable[str] = (), scheduled: bool = True
) -> IntegrityCheckpoint | None:
    """Write the next checkpoint: full when asked or (on the schedule) due, else the heads that moved since
    the last one and `chains`, even unmoved (e.g. a traveler being archived, whose package carries this
    small document). None when nothing moved and nothing was asked."""
    chains = list(chains)
    target = store()
    key = keys.current()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_ID])
            now = timezone.now()
            last = IntegrityCheckpoint.objects.order_by("-number").first()
            last_full = (
                IntegrityCheckpoint.objects.filter(kind=IntegrityCheckpoint.Kind.FULL).order_by("-number").first()
            )
            full = full or (scheduled and _full_due(last_full, now))
            heads = _heads(cursor, full=full, also=chains)
            if not heads and not full:
                return None
            cursor.execute("SELECT count(*) FROM compliance_auditchainhead WHERE last_seq > 0")
            total = cursor.fetchone()[0]
        number = (last.number + 1) if last else 1
        doc = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "number": number,
            "kind": "full" if full else "delta",
            "created_at": now,
            "previous": {"number": last.number, "seal": last.seal} if last else None,
            "base": number if full else (last_full.number if last_full else None),
            "heads": [list(h) for h in heads],
            "chains_total": total,
            "digest": heads_digest(heads) if full else None,
            "key_id": key.id,
        }
        doc["seal"] = key.mac(canonical_bytes(document_seal_content(doc)))
        name = f"{number:012d}-{doc['kind']}-{doc['seal'][:16]}.json.gz"
        uri, lock = target.write_once(name, encode(doc))
        checkpoint = IntegrityCheckpoint.objects.create(
            number=number,
            kind=doc["kind"],
            created_at=now,
            chains=len(heads),
            chains_total=total,
            digest=doc["digest"] or heads_digest(heads),
            key_id=key.id,
            seal=doc["seal"],
            uri=uri,
            object_lock=lock,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO compliance_checkpointedhead (chain, seq, checkpoint) "
                "SELECT c, s, %s FROM unnest(%s::text[], %s::bigint[]) AS u(c, s) "
                "ON CONFLICT (chain) DO UPDATE SET seq = EXCLUDED.seq, checkpoint = EXCLUDED.checkpoint",
                [number, [h[0] for h in heads], [h[1] for h in heads]],
            )
    log.info("integrity checkpoint %s written", number, extra={"kind": doc["kind"], "chains": len(heads), "uri": uri})
    return checkpoint


def checkpoint_document(checkpoint: IntegrityCheckpoint) -> dict:
    """A written checkpoint's document, read back from the store (what archive packages carry)."""
    return decode(store().read(checkpoint.uri.rsplit("/", 1)[-1]))


def covering(chain: str) -> IntegrityCheckpoint | None:
    """The delta checkpoint that listed `chain` at its current head, if the last one to list it did."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.checkpoint FROM compliance_auditchainhead h JOIN compliance_checkpointedhead c "
            "ON c.chain = h.chain AND c.seq = h.last_seq WHERE h.chain = %s",
            [chain],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return IntegrityCheckpoint.objects.filter(number=row[0], kind=IntegrityCheckpoint.Kind.DELTA).first()


def checkpoint_covering(chains: list[str]) -> IntegrityCheckpoint:
    """A checkpoint listing the first of `chains` at its current head: the delta that already did (so the
    same record archived twice carries the same checkpoint), else a new delta listing all of them."""
    found = covering(chains[0]) or checkpoint_write(chains=chains, scheduled=False)
    if found is None:  # checkpoint_write answers None only when no chain was asked for
        raise ValueError("checkpoint_covering needs at least one chain")
    return found


# --- Reading back, for the verifier ----------------------------------------------------------------------------


@dataclass
class CheckpointState:
    """What the lake's checkpoints say, from the newest full one on: per chain, the checkpointed heads."""

    statements: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    documents: int = 0
    newest_number: int | None = None
    newest_at: dt.datetime | None = None
    problems: list[str] = field(default_factory=list)

    def add(self, chain: str, seq: int, digest: str) -> None:
        self.statements.setdefault(chain, []).append((seq, digest))


def _number_of(name: str) -> int | None:
    head = name.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _created_at(doc: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(doc["created_at"].replace("Z", "+00:00"))


def load_state(target: CheckpointStore | None = None, *, until: dt.datetime | None = None) -> CheckpointState:
    """Read and check the checkpoints from the newest full one on (made no later than `until`, when given:
    a restored backup is compared with what was checkpointed before it was made): each sealed with a key
    of the ring, numbered without gaps, each pointing at the one before."""
    target = target or store()
    state = CheckpointState()
    numbered = sorted((number, name) for name in target.names() if (number := _number_of(name)) is not None)
    if not numbered:
        return state
    docs: dict[int, list[dict]] = {}
    start = numbered[0][0]
    for number, name in reversed([pair for pair in numbered if "-full-" in pair[1]]):
        if until is None or _created_at(decode(target.read(name))) <= until:
            start = number
            break
    for number, name in numbered:
        if number < start:
            continue
        try:
            doc = decode(target.read(name))
        except (OSError, ValueError, EOFError) as exc:
            state.problems.append(f"checkpoint {name} is unreadable: {exc}")
            continue
        if until is not None and isinstance(doc.get("created_at"), str) and _created_at(doc) > until:
            break
        if doc.get("schema") != SCHEMA or doc.get("number") != number:
            state.problems.append(f"checkpoint {name} is not a checkpoint document (or not number {number})")
            continue
        try:
            sealed = keys.check(document_seal_content(doc), doc.get("key_id", ""), doc.get("seal", ""))
        except keys.IntegrityKeyMissing as exc:
            state.problems.append(f"checkpoint {name} cannot be checked: {exc}")
            continue
        if not sealed:
            state.problems.append(f"checkpoint {name} does not match its seal: it was altered")
            continue
        if doc["kind"] == "full" and heads_digest(tuple(h) for h in doc["heads"]) != doc["digest"]:
            state.problems.append(f"checkpoint {name} lists heads that do not match its digest")
            continue
        docs.setdefault(number, []).append(doc)
    numbers = sorted(docs)
    for before, after in zip(numbers, numbers[1:], strict=False):
        if after != before + 1:
            state.problems.append(f"checkpoints {before + 1}..{after - 1} are missing from the store")
    for number in numbers[1:]:
        previous = {d["seal"] for d in docs.get(number - 1, [])}
        for doc in docs[number]:
            if doc["previous"] is None or doc["previous"]["seal"] not in previous:
                state.problems.append(f"checkpoint {number} does not follow checkpoint {number - 1}")
    for number in numbers:
        for doc in docs[number]:
            state.documents += 1
            for chain, seq, digest in doc["heads"]:
                state.add(chain, int(seq), digest)
    if numbers:
        state.newest_number = numbers[-1]
        state.newest_at = _created_at(docs[numbers[-1]][0])
    return state
