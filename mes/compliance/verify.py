"""Verifying the audit trail: every chain numbered 1..n without gaps, each event's hash recomputed
from its content, each event pointing at its predecessor's hash, and the chain head at the last."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .audit import GENESIS, event_hash_content
from .canonical import canonical_hash
from .models import AuditChainHead, AuditEvent


@dataclass(frozen=True)
class AuditProblem:
    chain: str
    seq: int | None
    event_id: int | None
    message: str

    def __str__(self) -> str:
        where = f"event {self.event_id} ({self.chain} #{self.seq})" if self.event_id else f"chain {self.chain}"
        return f"{where}: {self.message}"


def audit_problems(chains: list[str] | None = None) -> Iterator[AuditProblem]:
    """Every problem found, chain by chain, in order; a clean trail yields nothing."""
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    events = AuditEvent.objects.order_by("chain", "seq")
    if chains:
        events = events.filter(chain__in=chains)
        heads = {c: h for c, h in heads.items() if c in chains}
    current_chain = None
    expected_seq, prev_hash, last = 1, GENESIS, None
    seen_chains: set[str] = set()

    def close(chain, last_event):
        head = heads.get(chain)
        if head is None:
            yield AuditProblem(chain, None, None, "has events but no chain head")
        elif last_event is not None and (head.last_seq, head.last_hash) != (last_event.seq, last_event.hash):
            yield AuditProblem(
                chain,
                head.last_seq,
                None,
                f"head says the last event is #{head.last_seq}, the table ends at #{last_event.seq}: "
                "events were removed",
            )

    for event in events.iterator(chunk_size=2000):
        if event.chain != current_chain:
            if current_chain is not None:
                yield from close(current_chain, last)
            current_chain, expected_seq, prev_hash, last = event.chain, 1, GENESIS, None
            seen_chains.add(event.chain)
        if event.seq != expected_seq:
            yield AuditProblem(
                event.chain, event.seq, event.pk, f"expected #{expected_seq} here: events were removed or reordered"
            )
        elif event.prev_hash != prev_hash:
            yield AuditProblem(event.chain, event.seq, event.pk, "does not point at its predecessor's hash")
        elif canonical_hash(event_hash_content(event)) != event.hash:
            yield AuditProblem(event.chain, event.seq, event.pk, "content does not match its hash: it was altered")
        expected_seq, prev_hash, last = event.seq + 1, event.hash, event
    if current_chain is not None:
        yield from close(current_chain, last)
    for chain, head in heads.items():
        if chain not in seen_chains and head.last_seq > 0:
            yield AuditProblem(chain, head.last_seq, None, "head exists but every event of the chain is gone")
