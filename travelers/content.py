"""The canonical content of each signed record, rebuilt as it stood at a given time.

Signatures hash this content (mes.compliance.signing); the verifier calls the same functions, so a
value altered after signing makes the signature read as broken. Measurements and signatures are
immutable, so "as of" a signing time is always recomputable. The archive's standalone checker
(docs/) rebuilds the same dictionaries from traveler.json."""

from __future__ import annotations

from mes.compliance.signing import register_signable

from .models import Consumption, Hold, Measurement, Nonconformance, Traveler, TravelerStep


def measurement_content(m: Measurement) -> dict:
    return {
        "id": m.pk,
        "characteristic": m.characteristic.code,
        "entered_value": m.entered_value,
        "entered_unit": m.entered_unit,
        "value_numeric": m.value_numeric,
        "value_text": m.value_text,
        "value_bool": m.value_bool,
        "attachment_sha256": m.attachment.sha256 if m.attachment_id else None,
        "judgment": m.judgment,
        "spec": {"unit": m.spec_unit, "lower": m.spec_lower, "upper": m.spec_upper, "revision": m.spec_revision},
        "source": m.source,
        "device": m.device,
        "recorded_by": m.recorded_by_id,
        "recorded_at": m.recorded_at,
        "supersedes": m.supersedes_id,
        "correction_reason": m.correction_reason,
    }


def current_measurements(measurements, as_of=None) -> list[Measurement]:
    """The values standing at `as_of` (all, if None): recorded by then and not superseded by then."""
    pool = [m for m in measurements if as_of is None or m.recorded_at <= as_of]
    superseded = {m.supersedes_id for m in pool if m.supersedes_id}
    return [m for m in pool if m.pk not in superseded]


def _step_measurements(step_ids, as_of):
    rows = (
        Measurement.objects.filter(step_id__in=step_ids, recorded_at__lte=as_of)
        .select_related("characteristic", "attachment")
        .order_by("step_id", "characteristic__sequence", "characteristic_id", "recorded_at", "id")
    )
    return current_measurements(list(rows), as_of)


def _components(traveler_id, step_ids, as_of) -> list[dict]:
    rows = Consumption.objects.filter(traveler_id=traveler_id, step_id__in=step_ids, consumed_at__lte=as_of)
    return [
        {"id": c.pk, "step": c.step_id, "component": c.component_id, "quantity": c.quantity}
        for c in rows.order_by("id")
        if c.removed_at is None or c.removed_at > as_of
    ]


def step_content(step_id, as_of) -> dict:
    step = TravelerStep.objects.select_related("traveler", "operation", "work_center").get(pk=step_id)
    return {
        "traveler": step.traveler.number,
        "step": {
            "id": step.pk,
            "sequence": step.sequence,
            "title": step.title,
            "operation": step.operation.code,
            "work_center": step.work_center.code if step.work_center_id else None,
            "skip_reason": step.skip_reason,
        },
        "values": [measurement_content(m) for m in _step_measurements([step.pk], as_of)],
        "components": _components(step.traveler_id, [step.pk], as_of),
    }


def traveler_content(traveler_id, as_of) -> dict:
    traveler = Traveler.objects.select_related("item__part", "item__part_revision", "routing", "work_order").get(
        pk=traveler_id
    )
    steps = list(
        traveler.steps.select_related("operation", "performed_signature", "inspected_signature", "skip_signature")
    )
    ncrs = traveler.ncrs.filter(raised_at__lte=as_of).select_related("disposition_signature").order_by("number")
    return {
        "traveler": traveler.number,
        "item": {
            "part": traveler.item.part.number,
            "revision": traveler.item.part_revision.revision,
            "identifier": traveler.item.identifier,
            "quantity": traveler.item.quantity,
        },
        "work_order": traveler.work_order.number,
        "routing_revision": traveler.routing.revision,
        "steps": [
            {
                "id": s.pk,
                "sequence": s.sequence,
                "operation": s.operation.code,
                "origin": s.origin,
                "signatures": [
                    sig.content_hash
                    for sig in (s.performed_signature, s.inspected_signature, s.skip_signature)
                    if sig and sig.signed_at <= as_of
                ],
            }
            for s in steps
        ],
        "values": [measurement_content(m) for m in _step_measurements([s.pk for s in steps], as_of)],
        "components": _components(traveler.pk, [s.pk for s in steps], as_of),
        "ncrs": [
            {
                "number": n.number,
                "disposition": n.disposition if n.dispositioned_at and n.dispositioned_at <= as_of else "",
                "signature": n.disposition_signature.content_hash
                if n.disposition_signature_id and n.disposition_signature.signed_at <= as_of
                else None,
            }
            for n in ncrs
        ],
    }


def correction_content(traveler, step, m: Measurement) -> dict:
    return {"traveler": traveler.number, "step": step.sequence, "value": measurement_content(m)}


def measurement_record_content(measurement_id, as_of) -> dict:
    m = Measurement.objects.select_related("characteristic", "attachment", "step__traveler").get(pk=measurement_id)
    return correction_content(m.step.traveler, m.step, m)


def ncr_content(ncr_id, as_of) -> dict:
    ncr = Nonconformance.objects.select_related("traveler", "step").get(pk=ncr_id)
    rework = list(ncr.rework_steps.order_by("sequence").values_list("sequence", "operation__code", "title"))
    return {
        "number": ncr.number,
        "traveler": ncr.traveler.number,
        "step": ncr.step.sequence if ncr.step_id else None,
        "measurement": ncr.measurement_id,
        "description": ncr.description,
        "disposition": ncr.disposition,
        "disposition_notes": ncr.disposition_notes,
        "rework_steps": [list(r) for r in rework],
    }


def hold_content(hold_id, as_of) -> dict:
    hold = Hold.objects.select_related("traveler").get(pk=hold_id)
    return {
        "traveler": hold.traveler.number,
        "hold": hold.pk,
        "kind": hold.kind,
        "reason": hold.reason,
        "release_reason": hold.release_reason,
    }


def consumption_content(consumption_id, as_of) -> dict:
    c = Consumption.objects.select_related("traveler", "component__part").get(pk=consumption_id)
    return {
        "traveler": c.traveler.number,
        "consumption": c.pk,
        "component": str(c.component),
        "quantity": c.quantity,
        "removal_reason": c.removal_reason,
    }


def register() -> None:
    register_signable("travelers.step", step_content)
    register_signable("travelers.traveler", traveler_content)
    register_signable("travelers.measurement", measurement_record_content)
    register_signable("travelers.ncr", ncr_content)
    register_signable("travelers.hold", hold_content)
    register_signable("travelers.consumption", consumption_content)
