"""One traveler record's signed content, as it stood when signed: a value, a characteristic with its
limits, a step as snapshotted, an attachment, a hold, a consumption, an NCR with its rework, a correction
(travelers.content says what "as it stood" means)."""

from __future__ import annotations

from collections.abc import Iterable

from travelers.models import (
    Attachment,
    Consumption,
    Hold,
    Measurement,
    Nonconformance,
    TravelerCharacteristic,
    TravelerStep,
)


def measurement_content(m: Measurement, *, attachment_sha256: str | None = None) -> dict:
    if attachment_sha256 is None and m.attachment_id:
        attachment_sha256 = m.attachment.sha256
    return {
        "id": m.pk,
        "characteristic": m.characteristic.code,
        "entered_value": m.entered_value,
        "entered_unit": m.entered_unit,
        "value_numeric": m.value_numeric,
        "value_text": m.value_text,
        "value_bool": m.value_bool,
        "attachment_sha256": attachment_sha256,
        "judgment": m.judgment,
        "spec": {"unit": m.spec_unit, "lower": m.spec_lower, "upper": m.spec_upper, "revision": m.spec_revision},
        "source": m.source,
        "device": m.device,
        "recorded_by": m.recorded_by_id,
        "recorded_at": m.recorded_at,
        "supersedes": m.supersedes_id,
        "correction_reason": m.correction_reason,
    }


def characteristic_content(c: TravelerCharacteristic) -> dict:
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "unit": c.unit,
        "nominal": c.nominal,
        "lower": c.lower_limit,
        "upper": c.upper_limit,
        "decimals": c.decimals,
        "choices": c.choices,
        "required": c.required,
        "on_out_of_spec": c.on_out_of_spec,
        "spec_revision": c.spec_revision,
    }


def step_snapshot(step: TravelerStep, characteristics: Iterable[TravelerCharacteristic]) -> dict:
    """What a step copied when it joined the traveler; never changes (database guard). Its work center
    is left out: it may be dispatched elsewhere while pending (a signed step states where it was done)."""
    return {
        "id": step.pk,
        "sequence": step.sequence,
        "origin": step.origin,
        "operation": step.operation.code,
        "title": step.title,
        "instructions": step.instructions,
        "signoff": step.signoff,
        "may_run_out_of_order": step.may_run_out_of_order,
        "components": step.components,
        "ncr": step.ncr_id,
        "created_at": step.created_at,
        "characteristics": [characteristic_content(c) for c in characteristics],
    }


def attachment_content(a: Attachment) -> dict:
    return {
        "id": a.pk,
        "step": a.step_id,
        "ncr": a.ncr_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "uploaded_at": a.uploaded_at,
        "uploaded_by": a.uploaded_by_id,
    }


def hold_content(hold: Hold, traveler_number: str) -> dict:
    """A hold as its release signs it."""
    return {
        "traveler": traveler_number,
        "hold": hold.pk,
        "kind": hold.kind,
        "reason": hold.reason,
        "release_reason": hold.release_reason,
    }


def consumption_content(c: Consumption, traveler_number: str) -> dict:
    """A consumption as its removal signs it."""
    return {
        "traveler": traveler_number,
        "consumption": c.pk,
        "component": str(c.component),
        "quantity": c.quantity,
        "removal_reason": c.removal_reason,
    }


def ncr_content(ncr: Nonconformance, traveler_number: str, step_sequence, rework: list[TravelerStep]) -> dict:
    """An NCR as its disposition signs it (with the rework steps the disposition adds)."""
    return {
        "number": ncr.number,
        "traveler": traveler_number,
        "step": step_sequence,
        "measurement": ncr.measurement_id,
        "description": ncr.description,
        "disposition": ncr.disposition,
        "disposition_notes": ncr.disposition_notes,
        "rework_steps": [[s.sequence, s.operation.code, s.title] for s in sorted(rework, key=lambda s: s.sequence)],
    }


def correction_content(traveler, step, m: Measurement) -> dict:
    return {"traveler": traveler.number, "step": step.sequence, "value": measurement_content(m)}
