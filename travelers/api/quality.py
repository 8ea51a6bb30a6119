"""Endpoints of quality: holds (placed, released signed), nonconformances (raised, dispositioned
signed) and the final sign-off of a traveler."""

from __future__ import annotations

from ninja import Router, Status

from mes.api import signing_session_key
from travelers import services
from travelers.api.actors import actor_of
from travelers.api.outputs import hold_out, ncr_out, signature_out, traveler_state_out
from travelers.api.schemas import (
    ERRORS,
    DispositionIn,
    HoldIn,
    HoldOut,
    NcrIn,
    NcrOut,
    ReasonSignedIn,
    SignoffIn,
    SignoffOut,
)
from travelers.selectors.lookups import RecordNotFound, hold_by_id, ncr_by_number, step_by_sequence, traveler_by_number
from travelers.selectors.outcomes import hold_state, ncr_state, signoff_state

router = Router()


# --- Holds ----------------------------------------------------------------------------------------------


@router.post("/travelers/{number}/hold", response={201: HoldOut, **ERRORS}, operation_id="travelers_api_hold_place")
def hold_place(request, number: str, payload: HoldIn):
    """Put a traveler on hold, saying why."""
    traveler = traveler_by_number(number)
    hold = services.hold_place(traveler=traveler, reason=payload.reason, actor=actor_of(request))
    return Status(201, hold_out(hold_state(hold.pk), traveler_number=traveler.number))


@router.post("/holds/{id}/release", response={200: HoldOut, **ERRORS}, operation_id="travelers_api_hold_release")
def hold_release(request, id: int, payload: ReasonSignedIn):  # noqa: A002
    """Release a manual hold, signed, with a reason (an NCR's hold ends with its disposition)."""
    hold = hold_by_id(id)
    hold = services.hold_release(
        hold=hold,
        actor=actor_of(request),
        secret=payload.secret,
        reason=payload.reason,
        username=payload.username,
        session_key=signing_session_key(request),
    )
    hold = hold_state(hold.pk)
    return hold_out(hold, traveler_number=hold.traveler.number)


# --- Nonconformances ------------------------------------------------------------------------------------


def _ncr_response(ncr_id: int) -> NcrOut:
    ncr = ncr_state(ncr_id)
    return ncr_out(ncr, traveler_number=ncr.traveler.number, rework_steps=[s.sequence for s in ncr.rework_steps.all()])


@router.post("/travelers/{number}/ncrs", response={201: NcrOut, **ERRORS}, operation_id="travelers_api_ncr_raise")
def ncr_raise(request, number: str, payload: NcrIn):
    """Raise a nonconformance by hand (optionally at a step); it holds the traveler."""
    traveler = traveler_by_number(number)
    step = None
    if payload.step_sequence is not None:
        try:
            step = step_by_sequence(number, payload.step_sequence)
        except RecordNotFound as exc:
            raise RecordNotFound(exc.message, field="step_sequence") from None
    ncr = services.ncr_raise(traveler=traveler, description=payload.description, step=step, actor=actor_of(request))
    return Status(201, _ncr_response(ncr.pk))


@router.post(
    "/ncrs/{number}/disposition", response={200: NcrOut, **ERRORS}, operation_id="travelers_api_ncr_disposition"
)
def ncr_disposition(request, number: str, payload: DispositionIn):
    """Quality signs the disposition; rework and repair add steps, scrap and return-to-vendor end the
    traveler. The NCR's hold is released."""
    ncr = ncr_by_number(number)
    ncr = services.ncr_disposition(
        ncr=ncr,
        disposition=payload.disposition,
        notes=payload.notes,
        rework_steps=[s.model_dump() for s in payload.rework_steps],
        secret=payload.secret,
        username=payload.username,
        session_key=signing_session_key(request),
        mrb_username=payload.mrb_username,
        mrb_secret=payload.mrb_secret,
        actor=actor_of(request),
    )
    return _ncr_response(ncr.pk)


# --- Final sign-off ---------------------------------------------------------------------------------------


@router.post(
    "/travelers/{number}/signoff", response={200: SignoffOut, **ERRORS}, operation_id="travelers_api_traveler_signoff"
)
def traveler_signoff(request, number: str, payload: SignoffIn):
    """Quality's final sign-off: approve closes the traveler (read-only from then on); reject, with a
    reason, opens a nonconformance that holds it."""
    traveler = traveler_by_number(number)
    traveler = services.traveler_signoff(
        traveler=traveler,
        approve=payload.decision == "approve",
        reason=payload.reason,
        secret=payload.secret,
        username=payload.username,
        session_key=signing_session_key(request),
        actor=actor_of(request),
    )
    traveler, signature, ncr = signoff_state(traveler.pk)
    return SignoffOut(traveler=traveler_state_out(traveler), signature=signature_out(signature), ncr=ncr)
