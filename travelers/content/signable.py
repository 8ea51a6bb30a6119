"""The content functions registered with mes.compliance.signing (content(record_id, as_of)), so the
signature verifier rebuilds what each kind of traveler record signed."""

from __future__ import annotations

from mes.compliance.signing import register_signable
from travelers.models import (
    Consumption,
    Hold,
    Measurement,
    Nonconformance,
    TravelerStep,
)

from .history import History
from .parts import consumption_content, correction_content, hold_content, ncr_content


def step_content(step_id, as_of, *, skip_reason: str | None = None, traveler_id: int | None = None) -> dict:
    """What a signature of the step covers; `traveler_id`, its traveler's, saves a query when known."""
    if traveler_id is None:
        traveler_id = TravelerStep.objects.only("traveler_id").get(pk=step_id).traveler_id
    history = History([traveler_id], step_ids=[int(step_id)])
    return history.step_content(history.steps[int(step_id)], as_of, skip_reason=skip_reason)


def traveler_content(traveler_id, as_of) -> dict:
    return History([int(traveler_id)]).traveler_content(int(traveler_id), as_of)


def measurement_record_content(measurement_id, as_of) -> dict:
    m = Measurement.objects.select_related("characteristic", "attachment", "step__traveler").get(pk=measurement_id)
    return correction_content(m.step.traveler, m.step, m)


def _ncr_signed(ncr_id, as_of) -> dict:
    ncr = Nonconformance.objects.select_related("traveler", "step").get(pk=ncr_id)
    rework = list(ncr.rework_steps.select_related("operation"))
    return ncr_content(ncr, ncr.traveler.number, ncr.step.sequence if ncr.step_id else None, rework)


def _hold_signed(hold_id, as_of) -> dict:
    hold = Hold.objects.select_related("traveler").get(pk=hold_id)
    return hold_content(hold, hold.traveler.number)


def _consumption_signed(consumption_id, as_of) -> dict:
    c = Consumption.objects.select_related("traveler", "component__part").get(pk=consumption_id)
    return consumption_content(c, c.traveler.number)


def register() -> None:
    register_signable("travelers.step", step_content)
    register_signable("travelers.traveler", traveler_content)
    register_signable("travelers.measurement", measurement_record_content)
    register_signable("travelers.ncr", _ncr_signed)
    register_signable("travelers.hold", _hold_signed)
    register_signable("travelers.consumption", _consumption_signed)
