"""Building the API's outputs (travelers.api.schemas) from the rows the selectors load. The builders of
whole records fire no query: everything they show is selected or prefetched. The responses of writes
(`signed_step_out`, `recorded_out`, `recorded_batch_out`, `measurement_result`) read what the write left
behind through a selector (the two `recorded_` ones only when an out-of-spec value may have held the
traveler)."""

from __future__ import annotations

import datetime as dt

from mes.compliance.audit import printed_name_of
from travelers.api.schemas import (
    AttachmentOut,
    CharacteristicOut,
    ComponentRef,
    ConsumptionOut,
    HoldOut,
    MeasurementBatchOut,
    MeasurementOut,
    MeasurementResultOut,
    NcrOut,
    OperationRef,
    PartRef,
    SignatureOut,
    SignedStepOut,
    SpecOut,
    StepOut,
    StepStateOut,
    TravelerOut,
    TravelerStateOut,
    UserRef,
    WorkOrderRef,
)
from travelers.models import Measurement
from travelers.selectors.outcomes import measurement_outcome, ncr_numbers_of, step_state, traveler_state

# --- Building outputs from selected rows (no queries: everything is selected or prefetched) ----------------


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


def _user(user) -> UserRef | None:
    if user is None:
        return None
    return UserRef.model_construct(username=user.get_username(), printed_name=printed_name_of(user))


def signature_out(sig) -> SignatureOut | None:
    if sig is None:
        return None
    return SignatureOut(
        id=sig.pk,
        printed_name=sig.printed_name,
        meaning=sig.meaning,
        meaning_display=sig.meaning_label,
        signed_at=_utc(sig.signed_at),
        manifestation=sig.manifestation,
        method=sig.method,
        qualification=sig.qualification_text or None,
        comment=sig.comment,
    )


def _step_signatures(step) -> list[SignatureOut]:
    sigs = (step.performed_signature, step.inspected_signature, step.skip_signature)
    return [signature_out(s) for s in sigs if s is not None]


def _characteristic(c) -> CharacteristicOut:
    return CharacteristicOut(
        code=c.code,
        name=c.name,
        kind=c.kind,
        unit=c.unit,
        nominal=c.nominal,
        lower_limit=c.lower_limit,
        upper_limit=c.upper_limit,
        decimals=c.decimals,
        choices=[str(x) for x in c.choices or []],
        required=c.required,
        on_out_of_spec=c.on_out_of_spec,
        spec_revision=c.spec_revision,
    )


def _measurement(m, *, step_sequence: int, superseded_by: int | None) -> MeasurementOut:
    # Built without validation (model_construct), as every output of a recorded value is: its fields are the
    # row's own, of the schema's types, and ninja's validation of each nested field cost more than the
    # rest of the response (tests/travelers/test_api_outputs_built.py checks they validate as they are).
    return MeasurementOut.model_construct(
        id=m.pk,
        step=step_sequence,
        characteristic=m.characteristic.code,
        entered_value=m.entered_value,
        entered_unit=m.entered_unit,
        value=m.value_numeric,
        value_text=m.value_text,
        value_bool=m.value_bool,
        unit=m.spec_unit,
        judgment=m.judgment,
        deviation=m.deviation,
        spec=SpecOut.model_construct(
            unit=m.spec_unit, lower=m.spec_lower, upper=m.spec_upper, nominal=m.spec_nominal, revision=m.spec_revision
        ),
        source=m.source,
        device=m.device,
        attachment_id=m.attachment_id,
        recorded_at=_utc(m.recorded_at),
        recorded_by=_user(m.recorded_by),
        current=superseded_by is None,
        supersedes=m.supersedes_id,
        superseded_by=superseded_by,
        correction_reason=m.correction_reason,
        correction_signature=signature_out(m.correction_signature),
    )


def attachment_out(a, *, step_sequence: int) -> AttachmentOut:
    return AttachmentOut(
        id=a.pk,
        step=step_sequence,
        ncr=a.ncr.number if a.ncr_id else None,
        filename=a.filename,
        content_type=a.content_type,
        size=a.size,
        sha256=a.sha256,
        uploaded_at=_utc(a.uploaded_at),
        uploaded_by=_user(a.uploaded_by),
    )


def _step(step) -> StepOut:
    measurements = list(step.measurements.all())
    superseded_by = {m.supersedes_id: m.pk for m in measurements if m.supersedes_id}
    return StepOut(
        sequence=step.sequence,
        title=step.title,
        instructions=step.instructions,
        operation=OperationRef(code=step.operation.code, name=step.operation.name),
        work_center=step.work_center.code if step.work_center_id else None,
        origin=step.origin,
        ncr=step.ncr.number if step.ncr_id else None,
        signoff=step.signoff,
        requires_inspection=step.requires_inspection,
        may_run_out_of_order=step.may_run_out_of_order,
        status=step.status,
        version=step.version,
        started_at=_utc(step.started_at),
        started_by=_user(step.started_by),
        completed_at=_utc(step.completed_at),
        skip_reason=step.skip_reason,
        components=[{"part_number": c.get("part_number"), "quantity": c.get("quantity")} for c in step.components],
        characteristics=[_characteristic(c) for c in step.characteristics.all()],
        measurements=[
            _measurement(m, step_sequence=step.sequence, superseded_by=superseded_by.get(m.pk)) for m in measurements
        ],
        signatures=_step_signatures(step),
        attachments=[attachment_out(a, step_sequence=step.sequence) for a in step.attachments.all()],
    )


def hold_out(h, *, traveler_number: str) -> HoldOut:
    return HoldOut(
        id=h.pk,
        traveler=traveler_number,
        kind=h.kind,
        reason=h.reason,
        ncr=h.ncr.number if h.ncr_id else None,
        placed_at=_utc(h.placed_at),
        placed_by=_user(h.placed_by),
        released_at=_utc(h.released_at),
        released_by=_user(h.released_by),
        release_reason=h.release_reason,
        release_signature=signature_out(h.release_signature),
    )


def ncr_out(n, *, traveler_number: str, rework_steps: list[int]) -> NcrOut:
    return NcrOut(
        number=n.number,
        traveler=traveler_number,
        status=n.status,
        step=n.step.sequence if n.step_id else None,
        measurement_id=n.measurement_id,
        description=n.description,
        automatic=n.automatic,
        raised_at=_utc(n.raised_at),
        raised_by=_user(n.raised_by),
        disposition=n.disposition,
        disposition_notes=n.disposition_notes,
        dispositioned_at=_utc(n.dispositioned_at),
        disposition_signature=signature_out(n.disposition_signature),
        rework_steps=rework_steps,
    )


def consumption_out(c, *, traveler_number: str) -> ConsumptionOut:
    return ConsumptionOut(
        id=c.pk,
        traveler=traveler_number,
        step=c.step.sequence,
        component=ComponentRef(
            part_number=c.component.part.number, identifier=c.component.identifier, tracking=c.component.tracking
        ),
        quantity=c.quantity,
        active=c.active,
        consumed_at=_utc(c.consumed_at),
        consumed_by=_user(c.consumed_by),
        removed_at=_utc(c.removed_at),
        removed_by=_user(c.removed_by),
        removal_reason=c.removal_reason,
        removal_signature=signature_out(c.removal_signature),
    )


def part_ref(item) -> PartRef:
    return PartRef(number=item.part.number, revision=item.part_revision.revision, name=item.part.name)


def traveler_state_out(t) -> TravelerStateOut:
    return TravelerStateOut.model_construct(number=t.number, status=t.status, on_hold=t.on_hold, version=t.version)


def traveler_out(t) -> TravelerOut:
    steps = list(t.steps.all())
    rework: dict[int, list[int]] = {}
    for s in steps:
        if s.ncr_id:
            rework.setdefault(s.ncr_id, []).append(s.sequence)
    return TravelerOut(
        number=t.number,
        site=t.site.code,
        serial_or_lot=t.item.identifier,
        tracking=t.item.tracking,
        quantity=t.item.quantity,
        part=part_ref(t.item),
        work_order=WorkOrderRef(number=t.work_order.number, due_date=t.work_order.due_date),
        routing_revision=t.routing.revision,
        status=t.status,
        on_hold=t.on_hold,
        version=t.version,
        released_at=_utc(t.released_at),
        released_by=_user(t.released_by),
        completed_at=_utc(t.completed_at),
        closed_at=_utc(t.closed_at),
        final_signature=signature_out(t.final_signature),
        steps=[_step(s) for s in steps],
        holds=[hold_out(h, traveler_number=t.number) for h in t.holds.all()],
        ncrs=[ncr_out(n, traveler_number=t.number, rework_steps=rework.get(n.pk, [])) for n in t.ncrs.all()],
        consumptions=[consumption_out(c, traveler_number=t.number) for c in t.consumptions.all()],
    )


def step_state_out(step) -> StepStateOut:
    return StepStateOut(
        traveler=traveler_state_out(step.traveler),
        sequence=step.sequence,
        title=step.title,
        status=step.status,
        version=step.version,
        signatures=_step_signatures(step),
    )


# --- The responses of writes: what the write left behind, read again through a selector ---------------------


def signed_step_out(step_id: int, which: str) -> SignedStepOut:
    """The step after a signing service, with the signature it just made (`which` names the field)."""
    step = step_state(step_id)
    return SignedStepOut(**step_state_out(step).model_dump(), signature=signature_out(getattr(step, which)))


def recorded_out(m) -> MeasurementResultOut:
    """The outcome of recording `m`, from the rows the service left (the step's traveler as it locked
    and changed it); read again only for an out-of-spec value, which may have held the traveler."""
    if m.judgment == Measurement.Judgment.OUT_OF_SPEC:
        return measurement_result(m.pk)
    return MeasurementResultOut.model_construct(
        measurement=_measurement(m, step_sequence=m.step.sequence, superseded_by=None),
        traveler=traveler_state_out(m.step.traveler),
        step_version=m.step.version,
        put_on_hold=False,
        ncr=None,
    )


def recorded_batch_out(measurements: list) -> MeasurementBatchOut:
    step = measurements[0].step
    traveler, ncrs = step.traveler, {}
    # a hold may have changed the traveler
    if any(m.judgment == Measurement.Judgment.OUT_OF_SPEC for m in measurements):
        traveler, ncrs = traveler_state(traveler.pk), ncr_numbers_of([m.pk for m in measurements])
    return MeasurementBatchOut.model_construct(
        measurements=[_measurement(m, step_sequence=step.sequence, superseded_by=None) for m in measurements],
        traveler=traveler_state_out(traveler),
        step_version=step.version,
        put_on_hold=bool(ncrs),
        ncrs=[ncrs[m.pk] for m in measurements if m.pk in ncrs],
    )


def measurement_result(measurement_id: int) -> MeasurementResultOut:
    m, ncr = measurement_outcome(measurement_id)
    return MeasurementResultOut.model_construct(
        measurement=_measurement(m, step_sequence=m.step.sequence, superseded_by=None),
        traveler=traveler_state_out(m.step.traveler),
        step_version=m.step.version,
        put_on_hold=ncr is not None,
        ncr=ncr,
    )
