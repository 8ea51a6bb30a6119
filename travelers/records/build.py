"""Building the as-built record of one traveler as plain JSON types (travelers.records says what it
holds and its conventions): plain values — UTC times, users, signatures with their manifestation — and
each part of the record, from a traveler loaded at a fixed number of queries
(reports.traveler_for_record)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from mes.compliance.audit import printed_name_of
from mes.numbers import decimal_text_or_none
from travelers import reports
from travelers.models import Measurement, Traveler, TravelerStep
from travelers.qr import traveler_qr_payload
from travelers.states import NcrStatus, StepStatus

RECORD_FORMAT = "traveler-record/1"

# --- Plain values ------------------------------------------------------------------------------------------


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def person(user) -> dict | None:
    if user is None:
        return None
    return {"username": user.get_username(), "printed_name": printed_name_of(user)}


def signature_data(sig, *, on: str) -> dict | None:
    """A signature as every screen and printout shows it (21 CFR 11.50) and a verifier checks it (11.70)."""
    if sig is None:
        return None
    return {
        "id": sig.pk,
        "printed_name": sig.printed_name,
        "signer_id": sig.signer_id,
        "meaning": sig.meaning,
        "meaning_display": sig.meaning_label,
        "signed_at": iso(sig.signed_at),
        "manifestation": sig.manifestation,
        "method": sig.method,
        "qualification": sig.qualification_text or None,
        "comment": sig.comment,
        "record_type": sig.record_type,
        "record_id": sig.record_id,
        "content_hash": sig.content_hash,
        "on": on,
    }


# --- The record ----------------------------------------------------------------------------------------------


def _step_label(step: TravelerStep) -> str:
    return f"Step {step.sequence} · {step.title}"


def _characteristic(c) -> dict:
    return {
        "id": c.pk,
        "code": c.code,
        "name": c.name,
        "kind": c.kind,
        "unit": c.unit,
        "nominal": decimal_text_or_none(c.nominal),
        "lower_limit": decimal_text_or_none(c.lower_limit),
        "upper_limit": decimal_text_or_none(c.upper_limit),
        "decimals": c.decimals,
        "choices": [str(x) for x in c.choices or []],
        "required": c.required,
        "on_out_of_spec": c.on_out_of_spec,
        "spec_revision": c.spec_revision,
        "master_characteristic_id": c.source_id,
    }


def _measurement(m, *, step, superseded_by: int | None, attachment_sha: dict, ncr_of: dict) -> dict:
    char = m.characteristic
    return {
        "id": m.pk,
        "step": step.sequence,
        "characteristic": char.code,
        "characteristic_name": char.name,
        "kind": char.kind,
        "decimals": char.decimals,
        "entered_value": m.entered_value,
        "entered_unit": m.entered_unit,
        "value": decimal_text_or_none(m.value_numeric),
        "value_text": m.value_text,
        "value_bool": m.value_bool,
        "unit": m.spec_unit,
        "judgment": m.judgment,
        "judgment_display": m.get_judgment_display(),
        "deviation": decimal_text_or_none(m.deviation),
        "spec": {
            "lower": decimal_text_or_none(m.spec_lower),
            "upper": decimal_text_or_none(m.spec_upper),
            "nominal": decimal_text_or_none(m.spec_nominal),
            "unit": m.spec_unit,
            "revision": m.spec_revision,
        },
        "source": m.source,
        "device": m.device,
        "attachment_id": m.attachment_id,
        "attachment_sha256": attachment_sha.get(m.attachment_id),
        "recorded_at": iso(m.recorded_at),
        "recorded_by": person(m.recorded_by),
        "current": superseded_by is None,
        "supersedes": m.supersedes_id,
        "superseded_by": superseded_by,
        "correction_reason": m.correction_reason,
        "correction_signature": signature_data(
            m.correction_signature, on=f"{_step_label(step)} · correction of {char.code}"
        ),
        "cosignature": signature_data(m.cosignature, on=f"{_step_label(step)} · correction of {char.code}"),
        "ncr": ncr_of.get(m.pk),
    }


def _attachment(a, *, step) -> dict:
    return {
        "id": a.pk,
        "step": step.sequence,
        "ncr": a.ncr.number if a.ncr_id else None,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "path": a.file.name,
        "uploaded_at": iso(a.uploaded_at),
        "uploaded_by": person(a.uploaded_by),
    }


def _step(step, *, ncr_of: dict) -> dict:
    label = _step_label(step)
    measurements = list(step.measurements.all())
    superseded_by = {m.supersedes_id: m.pk for m in measurements if m.supersedes_id}
    attachments = list(step.attachments.all())
    attachment_sha = {a.pk: a.sha256 for a in attachments}
    signatures = [
        signature_data(step.performed_signature, on=label),
        signature_data(step.inspected_signature, on=label),
        signature_data(step.skip_signature, on=label),
    ]
    return {
        "id": step.pk,
        "sequence": step.sequence,
        "title": step.title,
        "instructions": step.instructions,
        "operation": {"code": step.operation.code, "name": step.operation.name},
        "work_center": {"code": step.work_center.code, "name": step.work_center.name} if step.work_center_id else None,
        "origin": step.origin,
        "origin_display": step.get_origin_display(),
        "ncr": step.ncr.number if step.ncr_id else None,
        "signoff": step.signoff,
        "requires_inspection": step.requires_inspection,
        "may_run_out_of_order": step.may_run_out_of_order,
        "status": step.status,
        "status_display": step.get_status_display(),
        "started_at": iso(step.started_at),
        "started_by": person(step.started_by),
        "completed_at": iso(step.completed_at),
        "skip_reason": step.skip_reason,
        "components": [
            {"part_number": c.get("part_number"), "quantity": c.get("quantity")} for c in step.components or []
        ],
        "characteristics": [_characteristic(c) for c in step.characteristics.all()],
        "measurements": [
            _measurement(
                m, step=step, superseded_by=superseded_by.get(m.pk), attachment_sha=attachment_sha, ncr_of=ncr_of
            )
            for m in measurements
        ],
        "signatures": [s for s in signatures if s is not None],
        "attachments": [_attachment(a, step=step) for a in attachments],
    }


def _ncr(n, *, rework: dict) -> dict:
    return {
        "number": n.number,
        "status": n.status,
        "status_display": n.get_status_display(),
        "open": n.status == NcrStatus.OPEN,
        "step": n.step.sequence if n.step_id else None,
        "measurement": n.measurement_id,
        "description": n.description,
        "automatic": n.automatic,
        "raised_at": iso(n.raised_at),
        "raised_by": person(n.raised_by),
        "disposition": n.disposition,
        "disposition_display": n.get_disposition_display() if n.disposition else "",
        "disposition_notes": n.disposition_notes,
        "dispositioned_at": iso(n.dispositioned_at),
        "disposition_signature": signature_data(n.disposition_signature, on=f"{n.number} · disposition"),
        "mrb_signature": signature_data(n.mrb_signature, on=f"{n.number} · disposition (material review board)"),
        "rework_steps": rework.get(n.pk, []),
    }


def _hold(h) -> dict:
    return {
        "id": h.pk,
        "kind": h.kind,
        "kind_display": h.get_kind_display(),
        "open": h.released_at is None,
        "reason": h.reason,
        "ncr": h.ncr.number if h.ncr_id else None,
        "placed_at": iso(h.placed_at),
        "placed_by": person(h.placed_by),
        "released_at": iso(h.released_at),
        "released_by": person(h.released_by),
        "release_reason": h.release_reason,
        "release_signature": signature_data(h.release_signature, on="Hold released"),
    }


def _consumption(c) -> dict:
    component = c.component
    return {
        "id": c.pk,
        "step": c.step.sequence,
        "part_number": component.part.number,
        "part_name": component.part.name,
        "tracking": component.tracking,
        "identifier": component.identifier,
        "quantity": decimal_text_or_none(c.quantity),
        "active": c.active,
        "consumed_at": iso(c.consumed_at),
        "consumed_by": person(c.consumed_by),
        "removed_at": iso(c.removed_at),
        "removed_by": person(c.removed_by),
        "removal_reason": c.removal_reason,
        "removal_signature": signature_data(
            c.removal_signature,
            on=f"Step {c.step.sequence} · removal of {component.part.number} {component.identifier}",
        ),
    }


def _all_signatures(record: dict, on_traveler: list, number: str) -> list[dict]:
    """Every signature on the record once, in signing order; each says what it was made on."""
    found: dict[int, dict] = {}

    def add(sig: dict | None) -> None:
        if sig is not None and sig["id"] not in found:
            found[sig["id"]] = sig

    for sig in on_traveler:  # approval, rejection, re-plan: first, so they keep their own label
        add(signature_data(sig, on=f"Traveler {number}"))
    for step in record["steps"]:
        for sig in step["signatures"]:
            add(sig)
        for m in step["measurements"]:
            add(m["correction_signature"])
            add(m["cosignature"])
    for n in record["ncrs"]:
        add(n["disposition_signature"])
        add(n["mrb_signature"])
    for c in record["genealogy"]["consumed"]:
        add(c["removal_signature"])
    for h in record["holds"]:
        add(h["release_signature"])
    return sorted(found.values(), key=lambda s: (s["signed_at"], s["id"]))


def build_record(traveler: Traveler, on_traveler: list, *, now: dt.datetime | None = None) -> dict:
    """The record from a traveler loaded by reports.traveler_for_record (no further query)."""
    t = traveler
    steps = list(t.steps.all())
    ncrs = list(t.ncrs.all())
    ncr_of = {n.measurement_id: n.number for n in ncrs if n.measurement_id}
    rework: dict[int, list[int]] = {}
    for s in steps:
        if s.ncr_id:
            rework.setdefault(s.ncr_id, []).append(s.sequence)
    item = t.item
    record = {
        "format": RECORD_FORMAT,
        "generated_at": iso(now or timezone.now()),
        "traveler": {
            "number": t.number,
            "status": t.status,
            "status_display": t.get_status_display(),
            "on_hold": t.on_hold,
            "version": t.version,
            "released_at": iso(t.released_at),
            "released_by": person(t.released_by),
            "completed_at": iso(t.completed_at),
            "closed_at": iso(t.closed_at),
            "final_signature": signature_data(t.final_signature, on=f"Traveler {t.number}"),
            "qr_payload": traveler_qr_payload(t),
        },
        "site": {"code": t.site.code, "name": t.site.name, "time_zone": t.site.time_zone},
        "work_order": {
            "number": t.work_order.number,
            "quantity": decimal_text_or_none(t.work_order.quantity),
            "quantity_unit": t.work_order.quantity_unit,
            "due_date": t.work_order.due_date.isoformat() if t.work_order.due_date else None,
            "status": t.work_order.status,
            "source_system": t.work_order.source_system,
            "external_id": t.work_order.external_id,
        },
        "item": {
            "part_number": item.part.number,
            "part_name": item.part.name,
            "revision": item.part_revision.revision,
            "drawing_number": item.part_revision.drawing_number,
            "tracking": item.tracking,
            "tracking_display": item.get_tracking_display(),
            "identifier": item.identifier,
            "quantity": decimal_text_or_none(item.quantity),
            "status": item.status,
        },
        "routing": {
            "id": t.routing.pk,
            "part_revision": f"{item.part.number} rev {item.part_revision.revision}",
            "revision": t.routing.revision,
            "status": t.routing.status,
            "description": t.routing.description,
            "released_at": iso(t.routing.released_at),
            "note": "The steps below are the snapshot of this routing taken at release, plus any rework or "
            "re-plan steps (see each step's origin).",
        },
        "steps": [_step(s, ncr_of=ncr_of) for s in steps],
        "ncrs": [_ncr(n, rework=rework) for n in ncrs],
        "holds": [_hold(h) for h in t.holds.all()],
        "genealogy": {"consumed": [_consumption(c) for c in t.consumptions.all()]},
    }
    record["attachments"] = [a for step in record["steps"] for a in step["attachments"]]
    record["signatures"] = _all_signatures(record, on_traveler, t.number)
    values = [m for step in record["steps"] for m in step["measurements"]]
    record["summary"] = {
        "steps": len(record["steps"]),
        "steps_done": sum(1 for s in steps if s.status in (StepStatus.COMPLETED, StepStatus.SKIPPED)),
        "values": sum(1 for m in values if m["current"]),
        "out_of_spec": sum(1 for m in values if m["judgment"] == Measurement.Judgment.OUT_OF_SPEC),
        "corrections": sum(1 for m in values if m["supersedes"]),
        "ncrs": len(ncrs),
        "open_ncrs": sum(1 for n in ncrs if n.status == NcrStatus.OPEN),
        "open_holds": sum(1 for h in record["holds"] if h["open"]),
        "signatures": len(record["signatures"]),
    }
    return record


def traveler_record(traveler: Traveler, *, now: dt.datetime | None = None) -> dict:
    """The whole as-built record of `traveler` (see the module's docstring)."""
    loaded, on_traveler = reports.traveler_for_record(traveler.number)
    return build_record(loaded, on_traveler, now=now)
