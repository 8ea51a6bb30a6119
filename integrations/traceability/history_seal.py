"""Sealing a generated history (manage.py generate_history) the way the services would have: each
signature's keyed hash over its content as of its signing, and each traveler's and work order's audit
chain — the events the services write, in their order, keyed, with the seals of the records they touch.

The generator writes rows set-based in PostgreSQL (fast, but it cannot compute HMACs); this pass reads
them back in blocks of travelers through the same History the verifier uses, computes hashes with the
same functions, and writes events with COPY, so `manage.py verify_audit` accepts the generated history.
Shards (`--seal-shard i/n`) split the travelers so several processes seal at once.
"""

# ruff: noqa: S608 - statements are assembled from constant fragments and generated numbers only.

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import defaultdict

from django.db import connection, transaction

from mes.compliance import keys
from mes.compliance.audit import GENESIS, event_hash, record_seal
from mes.compliance.canonical import canonical_bytes, jsonable
from mes.compliance.models import AuditEvent
from mes.compliance.signing import signed_envelope
from travelers.content import History, measurement_content, ncr_state, steps_state
from travelers.content import consumption_state as consumption_seal
from travelers.integrity import signatures_of, signed_content_of, traveler_of

EVENT_COLUMNS = (
    "chain, seq, occurred_at, actor_id, actor_name, action, object_type, object_id, changes, reason, request_id, "
    "seal, key_id, prev_hash, hash"
)


class Chain:
    """One chain's events, collected with their times, then numbered, linked and keyed in time order."""

    def __init__(self, name: str, names: dict[int, str]):
        self.name, self.names, self.items = name, names, []

    def add(self, at, action, object_type, object_id, *, actor=None, changes=None, reason="", seal="", order=0):
        self.items.append(
            (at, order, len(self.items), action, object_type, str(object_id), actor, changes, reason, seal)
        )

    def rows(self, key: keys.Key) -> tuple[list[tuple], tuple[int, str]]:
        prev, rows = GENESIS, []
        for seq, (at, _o, _i, action, otype, oid, actor, changes, reason, seal) in enumerate(sorted(self.items), 1):
            event = AuditEvent(
                chain=self.name,
                seq=seq,
                occurred_at=at,
                actor_id=actor,
                actor_name=self.names.get(actor, "system") if actor else "system",
                action=action,
                object_type=otype,
                object_id=oid,
                changes=jsonable(changes or {}),
                reason=reason,
                request_id="",
                seal=seal,
                key_id=key.id,
                prev_hash=prev,
            )
            event.hash = event_hash(event, key)
            rows.append(
                (
                    event.chain,
                    seq,
                    at,
                    event.actor_id,
                    event.actor_name,
                    action,
                    otype,
                    oid,
                    json.dumps(event.changes),
                    reason,
                    "",
                    seal,
                    key.id,
                    prev,
                    event.hash,
                )
            )
            prev = event.hash
        return rows, (len(rows), prev)


def _traveler_chain(history: History, tid: int, signatures, names) -> Chain:
    t = history.travelers[tid]
    chain = Chain(f"traveler:{tid}", names)
    steps = history.steps_of(tid)
    chain.add(t.released_at, "traveler.released", "travelers.traveler", tid, actor=t.released_by_id, order=0)
    chain.add(
        t.released_at,
        "steps.added",
        "travelers.traveler",
        tid,
        actor=t.released_by_id,
        order=1,
        changes={"origin": [None, "routing"], "steps": [None, sorted(s.sequence for s in steps)],
                 "step_ids": [None, sorted(s.pk for s in steps)]},
        seal=record_seal(steps_state(steps, history.characteristics_of)),
    )  # fmt: skip
    for s in steps:
        if s.started_at:
            chain.add(s.started_at, "step.started", "travelers.travelerstep", s.pk, actor=s.started_by_id)
    step_ids = {s.pk for s in steps}
    sha = {a.pk: a.sha256 for a in history.attachments}
    for m in history.measurements:
        if m.step_id in step_ids:
            action = "measurement.corrected" if m.supersedes_id else "measurement.recorded"
            seal = record_seal(measurement_content(m, attachment_sha256=sha.get(m.attachment_id)))
            chain.add(m.recorded_at, action, "travelers.measurement", m.pk, actor=m.recorded_by_id, seal=seal, order=2)
    for c in history.consumptions:
        if c.traveler_id == tid:
            chain.add(
                c.consumed_at, "component.consumed", "travelers.consumption", c.pk, actor=c.consumed_by_id,
                seal=record_seal(consumption_seal(c)),
            )  # fmt: skip
    for n in history.ncrs:
        if n.traveler_id == tid:
            raised = copy.copy(n)
            raised.status, raised.disposition, raised.disposition_notes = "open", "", ""
            raised.dispositioned_at, raised.disposition_signature_id = None, None
            chain.add(n.raised_at, "ncr.raised", "travelers.nonconformance", n.pk, actor=n.raised_by_id,
                      seal=record_seal(ncr_state(raised)))  # fmt: skip
            if n.dispositioned_at:
                chain.add(n.dispositioned_at, "ncr.dispositioned", "travelers.nonconformance", n.pk, order=3,
                          seal=record_seal(ncr_state(n)))  # fmt: skip
    for sig in signatures:  # each signature's event, just before the change it signed
        chain.add(
            sig.signed_at, "signature.signed", "compliance.signature", sig.pk, actor=sig.signer_id, order=1,
            changes={"record": [None, f"{sig.record_type}:{sig.record_id}"], "meaning": [None, sig.meaning],
                     "content_hash": [None, sig.content_hash]},
            seal=sig.content_hash,
        )  # fmt: skip
        if sig.record_type == "travelers.step":
            chain.add(sig.signed_at, f"step.{sig.meaning}", "travelers.travelerstep", sig.record_id,
                      actor=sig.signer_id, order=2)  # fmt: skip
    if t.closed_at:
        chain.add(t.closed_at, "traveler.completed", "travelers.traveler", tid, order=0)
        chain.add(t.closed_at, "traveler.closed", "travelers.traveler", tid, order=4)
    return chain


def _copy(cursor, table: str, columns: str, rows) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as out:
        for row in rows:
            out.write_row(row)


def seal_travelers(traveler_ids: list[int], names: dict[int, str], *, block: int = 1000) -> tuple[int, int]:
    """Seal these travelers' signatures and write their chains; returns (signatures, events)."""
    key = keys.current()
    total_sigs = total_events = 0
    for start in range(0, len(traveler_ids), block):
        ids = traveler_ids[start : start + block]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")  # signatures are UPDATEd once, here
            history = History(ids)
            by_traveler = defaultdict(list)
            for sig in signatures_of(history):
                by_traveler[traveler_of(history, sig)].append(sig)
            updates, events, heads = [], [], []
            for tid in ids:
                sigs = sorted(by_traveler[tid], key=lambda s: (s.signed_at, s.pk))
                for sig in sigs:  # in signing order: a traveler's content holds its steps' signature hashes
                    sig.key_id = key.id
                    sig.content_hash = key.mac(
                        canonical_bytes(signed_envelope(signature=sig, content=signed_content_of(history, sig)))
                    )
                    loaded = history.signatures.get(sig.pk)
                    if loaded is not None:
                        loaded.key_id, loaded.content_hash = sig.key_id, sig.content_hash
                    updates.append((sig.pk, sig.content_hash, sig.key_id))
                rows, (seq, last) = _traveler_chain(history, tid, sigs, names).rows(key)
                events.extend(rows)
                heads.append((f"traveler:{tid}", seq, last))
            cursor.execute("CREATE TEMP TABLE seal_sig (id bigint, content_hash text, key_id text) ON COMMIT DROP")
            _copy(cursor, "seal_sig", "id, content_hash, key_id", updates)
            cursor.execute(
                "UPDATE compliance_signature s SET content_hash = u.content_hash, key_id = u.key_id "
                "FROM seal_sig u WHERE s.id = u.id"
            )
            _copy(cursor, "compliance_auditevent", EVENT_COLUMNS, events)
            _copy(cursor, "compliance_auditchainhead", "chain, last_seq, last_hash", heads)
            total_sigs += len(updates)
            total_events += len(events)
    return total_sigs, total_events


def seal_work_orders(names: dict[int, str]) -> int:
    """Each work order's chain: created, and completed when it is."""
    key = keys.current()
    written = 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "SELECT w.id, w.number, w.created_at, w.status, max(t.closed_at) FROM travelers_workorder w "
            "LEFT JOIN travelers_traveler t ON t.work_order_id = w.id GROUP BY w.id ORDER BY w.id"
        )
        events, heads = [], []
        for wo_id, number, created, status, last_closed in cursor.fetchall():
            chain = Chain(f"workorder:{wo_id}", names)
            chain.add(created, "workorder.created", "travelers.workorder", wo_id, changes={"number": [None, number]})
            if status == "completed" and last_closed:
                chain.add(last_closed + dt.timedelta(seconds=1), "workorder.completed", "travelers.workorder", wo_id,
                          changes={"status": ["in_progress", "completed"]})  # fmt: skip
            rows, (seq, last) = chain.rows(key)
            events.extend(rows)
            heads.append((chain.name, seq, last))
        _copy(cursor, "compliance_auditevent", EVENT_COLUMNS, events)
        _copy(cursor, "compliance_auditchainhead", "chain, last_seq, last_hash", heads)
        written = len(events)
    return written
