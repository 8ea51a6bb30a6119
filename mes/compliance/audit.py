"""Writing the audit trail: `audit_record` is called by every service, inside its transaction.

Events are grouped in chains (one per traveler, "masterdata", "user:<id>"…) so that tablets working
on different travelers never wait on each other; within a chain the head row is locked, the event
gets the next number and the hash of the previous event, and the head moves on."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from mes.observability import current_request_id

from .canonical import canonical_hash, jsonable
from .models import AuditEvent

GENESIS = "0" * 64


def printed_name_of(user) -> str:
    if user is None:
        return "system"
    profile = getattr(user, "profile", None)
    return (profile.printed_name if profile else "") or user.get_full_name() or user.get_username()


def event_hash_content(event: AuditEvent) -> dict:
    """Exactly what an event's hash covers, in canonical form (also used by the verifier)."""
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
        "prev_hash": event.prev_hash,
    }


def audit_record(
    *,
    chain: str,
    action: str,
    object_type: str,
    object_id,
    actor=None,
    changes: dict | None = None,
    reason: str = "",
) -> AuditEvent:
    """Append one event to `chain`. Must run inside the transaction that makes the change."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change it records")
    with connection.cursor() as cursor:
        # Take the chain's next number and lock its head in one statement; the head keeps the previous
        # event's hash until this event's is known. A chain's first event inserts the head.
        cursor.execute(
            "UPDATE compliance_auditchainhead SET last_seq = last_seq + 1 WHERE chain = %s "
            "RETURNING last_seq - 1, last_hash",
            [chain],
        )
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                "INSERT INTO compliance_auditchainhead AS h (chain, last_seq, last_hash) VALUES (%s, 1, %s) "
                "ON CONFLICT (chain) DO UPDATE SET last_seq = h.last_seq + 1 RETURNING h.last_seq - 1, h.last_hash",
                [chain, GENESIS],
            )
            row = cursor.fetchone()
        last_seq, last_hash = row
        event = AuditEvent(
            chain=chain,
            seq=last_seq + 1,
            occurred_at=timezone.now(),
            actor=actor,
            actor_name=printed_name_of(actor),
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            changes=jsonable(changes or {}),
            reason=reason or "",
            request_id=current_request_id() or "",
            prev_hash=last_hash or GENESIS,
        )
        event.hash = canonical_hash(event_hash_content(event))
        event.save(force_insert=True)
        cursor.execute("UPDATE compliance_auditchainhead SET last_hash = %s WHERE chain = %s", [event.hash, chain])
    return event


def diff(before: dict, after: dict) -> dict:
    """field -> [old, new] for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in sorted(set(before) | set(after)) if before.get(k) != after.get(k)}
