"""Endpoints of values: record one at a started step, record a step's values at once, correct one
(signed). The server converts and judges every value."""

from __future__ import annotations

from ninja import Router, Status

from mes.api import signing_session_key
from travelers import services
from travelers.api.actors import actor_of, station_of
from travelers.api.outputs import measurement_result, recorded_batch_out, recorded_out
from travelers.api.schemas import (
    ERRORS,
    CorrectIn,
    MeasurementBatchIn,
    MeasurementBatchOut,
    MeasurementIn,
    MeasurementResultOut,
)
from travelers.selectors.lookups import measurement_by_id, step_ref

router = Router()


@router.post(
    "/travelers/{number}/steps/{sequence}/measurements",
    response={201: MeasurementResultOut, **ERRORS},
    operation_id="travelers_api_measurement_record",
)
def measurement_record(request, number: str, sequence: int, payload: MeasurementIn):
    """Record a value at a started step. The server converts and judges it; an out-of-spec value on a
    `hold` characteristic holds the traveler and opens an NCR (both in the response)."""
    step = step_ref(number, sequence)
    m = services.measurement_record(
        step=step,
        characteristic=payload.characteristic,
        value=payload.value,
        unit=payload.unit,
        source=payload.source,
        device=payload.device,
        attachment_id=payload.attachment_id,
        expected_version=payload.expected_version,
        actor=actor_of(request),
        station=station_of(number, payload.work_center),
    )
    return Status(201, recorded_out(m))


@router.post(
    "/travelers/{number}/steps/{sequence}/measurements/batch",
    response={201: MeasurementBatchOut, **ERRORS},
    operation_id="travelers_api_measurement_record_batch",
)
def measurement_record_batch(request, number: str, sequence: int, payload: MeasurementBatchIn):
    """Record a step's values at once (the tablet saves the step's form): one transaction, each value
    judged, audited and announced as if recorded alone. All or nothing: a bad value refuses the batch
    with an error naming it (`values[2].unit`), and nothing is saved. Out-of-spec values on `hold`
    characteristics hold the traveler and open their NCRs (in the response)."""
    step = step_ref(number, sequence)
    measurements = services.measurement_record_batch(
        step=step,
        values=[
            services.ValueEntry(
                characteristic=v.characteristic,
                value=v.value,
                unit=v.unit,
                source=v.source,
                attachment_id=v.attachment_id,
            )
            for v in payload.values
        ],
        expected_version=payload.expected_version,
        actor=actor_of(request),
        station=station_of(number, payload.work_center),
    )
    return Status(201, recorded_batch_out(measurements))


@router.post(
    "/measurements/{id}/correct",
    response={201: MeasurementResultOut, **ERRORS},
    operation_id="travelers_api_measurement_correct",
)
def measurement_correct(request, id: int, payload: CorrectIn):  # noqa: A002 - the path parameter's name
    """Correct a value: a new, signed value supersedes it, with a reason; the original stays visible."""
    original = measurement_by_id(id)
    m = services.measurement_correct(
        measurement=original,
        value=payload.value,
        unit=payload.unit,
        reason=payload.reason,
        attachment_id=payload.attachment_id,
        secret=payload.secret,
        username=payload.username,
        session_key=signing_session_key(request),
        cosigner_username=payload.cosigner_username,
        cosigner_secret=payload.cosigner_secret,
        actor=actor_of(request),
    )
    return Status(201, measurement_result(m.pk))
