"""Writing the audit trail: `audit_record` is called by every service, inside its transaction.

Events are grouped in chains (one per traveler, "masterdata", "user:<id>"…) so that tablets working
on different travelers never wait on each other. Within a chain the head row is locked, the event gets
the next number and the previous event's hash, its own hash is keyed with the integrity key (HMAC-
SHA256; mes.compliance.keys), and the head moves one step on — the database refuses any other move.

A chain is registered (its head inserted empty) the first time it is written, so a chain that later
disappears is noticed by the verifier and by the checkpoints in the data lake."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from mes.observability import current_request_id

from . import keys
from .canonical import canonical_bytes, canonical_hash, jsonable
from .models import AuditEvent

GENESIS = "0" * 64
HEAD_LOCK = "SELECT last_seq, last_hash FROM compliance_auditchainhead WHERE chain = %s FOR UPDATE"
HEAD_MOVE = "UPDATE compliance_auditchainhead SET last_seq = %s, last_hash = %s WHERE chain = %s"


def printed_name_of(user: User | None) -> str:
    if user is None:
        return "system"
    profile = getattr(user, "profile", None)
    return (profile.printed_name if profile else "") or user.get_full_name() or user.get_username()


def event_hash_content(event: AuditEvent) -> dict:
    """Exactly what an event's hash covers, in canonical form (also used by the verifiers)."""
    return {
        "chain": event.chain,
        "seq": event.seq,
        "occurred_at": event.occurred_at,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "reason": event.reason,
        "request_id": event.request_id,
        "seal": event.seal,
        "key_id": event.key_id,
        "prev_hash": event.prev_hash,
    }


def event_hash(event: AuditEvent, key: keys.Key) -> str:
    return key.mac(canonical_bytes(event_hash_content(event)))


def record_seal(content: Any) -> str:
    """The seal of a record's content: plain SHA-256, protected by the keyed hash of the event holding it."""
    return canonical_hash(content)


def audit_head_lock(cursor: CursorWrapper, chain: str) -> tuple[int, str]:
    """Lock `chain`'s head and read it: (last_seq, last_hash). Registers the chain on its first event."""
    cursor.execute(HEAD_LOCK, [chain])
    row = cursor.fetchone()
    if row is None:  # the chain's first event: register it (empty), then lock it as any other
        cursor.execute(
            "INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) VALUES (%s, 0, %s) "
            "ON CONFLICT (chain) DO NOTHING",
            [chain, GENESIS],
        )
        cursor.execute(HEAD_LOCK, [chain])
        row = cursor.fetchone()
    return row


def audit_record(
    *,
    chain: str,
    action: str,
    object_type: str,
    object_id: object,
    actor: User | None = None,
    changes: dict | None = None,
    reason: str = "",
    seal: str = "",
    occurred_at: dt.datetime | None = None,
    actor_name: str | None = None,
    request_id: str | None = None,
) -> AuditEvent:
    """Append one event to `chain`. Must run inside the transaction that makes the change. `seal` is
    record_seal() of the changed record's content, for the records reconciliation checks. `occurred_at`,
    `actor_name` and `request_id` default to now, the actor's printed name and the current request;
    sealing what the database captured earlier (mes.compliance.config_seal) gives them."""
    entry = {"action": action, "object_type": object_type, "object_id": object_id, "changes": changes}
    entry.update(reason=reason, seal=seal, occurred_at=occurred_at)
    return audit_record_many(chain=chain, actor=actor, entries=[entry], actor_name=actor_name, request_id=request_id)[0]


def audit_record_many(
    *,
    chain: str,
    actor: User | None,
    entries: list[dict],
    actor_name: str | None = None,
    request_id: str | None = None,
) -> list[AuditEvent]:
    """Append several events by one actor to `chain`, in order, as audit_record would one by one: the
    head is locked and moved once, the events are numbered and linked each to the one before and
    inserted in one statement. Each entry holds action, object_type, object_id and optionally changes,
    reason, seal and occurred_at. Must run inside the transaction that makes the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    if not entries:
        return []
    with connection.cursor() as cursor:
        head = audit_head_lock(cursor, chain)
        events = audit_events(
            chain=chain, head=head, actor=actor, entries=entries, actor_name=actor_name, request_id=request_id
        )
        if len(events) == 1:
            events[0].save(force_insert=True)
        else:
            AuditEvent.objects.bulk_create(events)
        cursor.execute(*head_moves(events))
    return events


def audit_record_chains(
    *,
    entries: dict[str, list[dict]],
    actor: User | None,
    actor_name: str | None = None,
    request_id: str | None = None,
) -> list[AuditEvent]:
    """Append events to several chains at once — entries maps each chain to its events (as
    audit_record_many takes them) — as audit_record_many would chain by chain: every head is registered
    if new and locked (in the order of the chains' names, so two writers never wait on each other in a
    circle), each chain's events are numbered, linked and keyed after its own head, all events are
    inserted in one statement and every head moves one event at a time (one UPDATE per event, all sent
    in one round trip). What an import of many work orders, each its own chain, uses. Must run inside
    the transaction that makes the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    chains = sorted(chain for chain, chain_entries in entries.items() if chain_entries)
    if not chains:
        return []
    events: list[AuditEvent] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) "
            "SELECT chain, 0, %s FROM unnest(%s::varchar[]) AS chain ORDER BY chain ON CONFLICT (chain) DO NOTHING",
            [GENESIS, chains],
        )
        cursor.execute(
            "SELECT chain, last_seq, last_hash FROM compliance_auditchainhead WHERE chain = ANY(%s) "
            "ORDER BY chain FOR UPDATE",
            [chains],
        )
        heads = {chain: (last_seq, last_hash) for chain, last_seq, last_hash in cursor.fetchall()}
        moves: list[tuple[str, list]] = []
        for chain in chains:
            chain_events = audit_events(
                chain=chain,
                head=heads[chain],
                actor=actor,
                entries=entries[chain],
                actor_name=actor_name,
                request_id=request_id,
            )
            events.extend(chain_events)
            moves.append(head_moves(chain_events))
        AuditEvent.objects.bulk_create(events)
        cursor.execute("; ".join(sql for sql, _ in moves), [v for _, values in moves for v in values])
    return events


def audit_events(
    *,
    chain: str,
    head: tuple[int, str],
    actor: User | None,
    entries: list[dict],
    actor_name: str | None = None,
    request_id: str | None = None,
) -> list[AuditEvent]:
    """The events audit_record_many appends, numbered and linked after `head` — (last_seq, last_hash) as
    read under the head's lock (HEAD_LOCK, audit_head_lock), which the caller holds until it commits —
    and hashed; nothing is written. The caller inserts them, then moves the head (head_moves), in that
    order and in the same transaction: a caller that sends its writes together in one round trip
    (travelers.services.measurements) keeps the chain's guarantees exactly as audit_record_many does."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    key = keys.current()
    name = printed_name_of(actor) if actor_name is None else actor_name
    request_id = (current_request_id() if request_id is None else request_id) or ""
    last_seq, last_hash = head
    events = []
    for entry in entries:
        event = AuditEvent(
            chain=chain,
            seq=last_seq + 1,
            occurred_at=entry.get("occurred_at") or timezone.now(),
            actor=actor,
            actor_name=name,
            action=entry["action"],
            object_type=entry["object_type"],
            object_id=str(entry["object_id"]),
            changes=jsonable(entry.get("changes") or {}),
            reason=entry.get("reason") or "",
            request_id=request_id,
            seal=entry.get("seal") or "",
            key_id=key.id,
            prev_hash=last_hash or GENESIS,
        )
        event.hash = event_hash(event, key)
        last_seq, last_hash = event.seq, event.hash
        events.append(event)
    return events


def head_moves(events: list[AuditEvent]) -> tuple[str, list]:
    """The statement moving the head over `events` (inserted first), as the database guard allows it: one
    event at a time, one UPDATE per event, sent together in one round trip."""
    chain = events[0].chain
    return "; ".join([HEAD_MOVE] * len(events)), [v for e in events for v in (e.seq, e.hash, chain)]


def head_move_statements(events: list[AuditEvent]) -> list[tuple[str, list]]:
    """head_moves as separate statements, one per event, each with its own parameters: for a round trip
    of prepared statements (mes.prepared.run_prepared), where a statement is one UPDATE."""
    return [(HEAD_MOVE, [event.seq, event.hash, event.chain]) for event in events]
