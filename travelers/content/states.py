"""Whole current states, for the seals of audit events (mes.compliance.audit.record_seal): a hold, an NCR,
a consumption, a traveler's steps; and which values count as of a time."""

from __future__ import annotations

from collections.abc import Iterable

from travelers.models import (
    Consumption,
    Hold,
    Measurement,
    Nonconformance,
    TravelerStep,
)

from .parts import step_snapshot


def hold_state(h: Hold) -> dict:
    return {
        "id": h.pk,
        "traveler": h.traveler_id,
        "kind": h.kind,
        "reason": h.reason,
        "ncr": h.ncr_id,
        "placed_at": h.placed_at,
        "placed_by": h.placed_by_id,
        "released_at": h.released_at,
        "released_by": h.released_by_id,
        "release_reason": h.release_reason,
        "release_signature": h.release_signature_id,
    }


def ncr_state(n: Nonconformance) -> dict:
    return {
        "id": n.pk,
        "number": n.number,
        "traveler": n.traveler_id,
        "step": n.step_id,
        "measurement": n.measurement_id,
        "description": n.description,
        "automatic": n.automatic,
        "raised_at": n.raised_at,
        "raised_by": n.raised_by_id,
        "status": n.status,
        "disposition": n.disposition,
        "disposition_notes": n.disposition_notes,
        "dispositioned_at": n.dispositioned_at,
        "disposition_signature": n.disposition_signature_id,
        "mrb_signature": n.mrb_signature_id,
    }


def consumption_state(c: Consumption) -> dict:
    return {
        "id": c.pk,
        "traveler": c.traveler_id,
        "step": c.step_id,
        "component": c.component_id,
        "quantity": c.quantity,
        "consumed_at": c.consumed_at,
        "consumed_by": c.consumed_by_id,
        "active": c.active,
        "removed_at": c.removed_at,
        "removed_by": c.removed_by_id,
        "removal_reason": c.removal_reason,
        "removal_signature": c.removal_signature_id,
    }


def steps_state(steps: Iterable[TravelerStep], characteristics_of) -> list[dict]:
    """The snapshots of steps added together (at release, by a rework, by a re-plan), in sequence order."""
    return [step_snapshot(s, characteristics_of(s)) for s in sorted(steps, key=lambda s: s.sequence)]


def current_measurements(measurements, as_of=None) -> list[Measurement]:
    """The values standing just before `as_of` (all, if None): recorded before it, not superseded before it."""
    pool = [m for m in measurements if as_of is None or m.recorded_at < as_of]
    superseded = {m.supersedes_id for m in pool if m.supersedes_id}
    return [m for m in pool if m.pk not in superseded]


def existed_before(moment, as_of) -> bool:
    """Whether a record stamped `moment` existed just before `as_of` (what a signature at `as_of` covers)."""
    return moment is not None and moment < as_of
