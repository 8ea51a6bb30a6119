"""Endpoints of work at a step: start it, sign it (performed, inspected), skip it, install and remove
components, and upload photos and files."""

from __future__ import annotations

from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from mes.api import signing_session_key
from travelers import services
from travelers.api.actors import actor_of, station_of
from travelers.api.outputs import attachment_out, consumption_out, signed_step_out, step_state_out
from travelers.api.schemas import (
    ERRORS,
    AttachmentOut,
    ComponentIn,
    ConsumptionOut,
    ReasonSignedIn,
    SignedStepOut,
    SignIn,
    StartIn,
    StepStateOut,
)
from travelers.selectors.lookups import RecordNotFound, consumption_by_id, ncr_by_number, step_by_sequence
from travelers.selectors.outcomes import attachment_state, consumption_state, step_state
from travelers.services.attachments import max_bytes

router = Router()


# --- Steps ------------------------------------------------------------------------------------------------


@router.post(
    "/travelers/{number}/steps/{sequence}/start",
    response={200: StepStateOut, **ERRORS},
    operation_id="travelers_api_step_start",
)
def step_start(request, number: str, sequence: int, payload: StartIn | None = None):
    """Start a step. Refused (409) out of order, on a held or closed traveler, or on a stale version."""
    step = step_by_sequence(number, sequence)
    payload = payload or StartIn()
    step = services.step_start(
        step=step,
        actor=actor_of(request),
        expected_version=payload.expected_version,
        station=station_of(number, payload.work_center),
    )
    return step_state_out(step_state(step.pk))


@router.post(
    "/travelers/{number}/steps/{sequence}/sign",
    response={200: SignedStepOut, **ERRORS},
    operation_id="travelers_api_step_sign",
)
def step_sign(request, number: str, sequence: int, payload: SignIn):
    """Sign a step: `performed` by the operator (every required value recorded), `inspected` by an
    inspector other than whoever performed it. A wrong secret is counted; repeated ones lock signing."""
    step = step_by_sequence(number, sequence)
    actor = actor_of(request)
    if payload.meaning == "performed":
        step = services.step_perform(
            step=step,
            actor=actor,
            secret=payload.secret,
            username=payload.username,
            session_key=signing_session_key(request),
            expected_version=payload.expected_version,
        )
        which = "performed_signature"
    else:
        step = services.step_inspect(
            step=step,
            actor=actor,
            secret=payload.secret,
            username=payload.username,
            session_key=signing_session_key(request),
            expected_version=payload.expected_version,
        )
        which = "inspected_signature"
    return signed_step_out(step.pk, which)


@router.post(
    "/travelers/{number}/steps/{sequence}/skip",
    response={200: SignedStepOut, **ERRORS},
    operation_id="travelers_api_step_skip",
)
def step_skip(request, number: str, sequence: int, payload: ReasonSignedIn):
    """A supervisor skips a step, saying why, signed."""
    step = step_by_sequence(number, sequence)
    step = services.step_skip(
        step=step,
        actor=actor_of(request),
        secret=payload.secret,
        reason=payload.reason,
        username=payload.username,
        session_key=signing_session_key(request),
    )
    return signed_step_out(step.pk, "skip_signature")


# --- Components -------------------------------------------------------------------------------------------


@router.post(
    "/travelers/{number}/steps/{sequence}/components",
    response={201: ConsumptionOut, **ERRORS},
    operation_id="travelers_api_component_consume",
)
def component_consume(request, number: str, sequence: int, payload: ComponentIn):
    """Install a component unit (by serial) or draw from a lot, at a started step."""
    step = step_by_sequence(number, sequence)
    consumption = services.component_consume(
        step=step,
        identifier=payload.identifier,
        part_number=payload.part_number,
        quantity=payload.quantity,
        expected_version=payload.expected_version,
        actor=actor_of(request),
    )
    return Status(201, consumption_out(consumption_state(consumption.pk), traveler_number=number))


@router.post(
    "/consumptions/{id}/remove", response={200: ConsumptionOut, **ERRORS}, operation_id="travelers_api_component_remove"
)
def component_remove(request, id: int, payload: ReasonSignedIn):  # noqa: A002
    """Take a component out again (e.g. in rework), signed; the history of what was installed stays."""
    consumption = consumption_by_id(id)
    consumption = services.component_remove(
        consumption=consumption,
        reason=payload.reason,
        secret=payload.secret,
        username=payload.username,
        session_key=signing_session_key(request),
        actor=actor_of(request),
    )
    c = consumption_state(consumption.pk)
    return consumption_out(c, traveler_number=c.traveler.number)


# --- Attachments ------------------------------------------------------------------------------------------


@router.post(
    "/travelers/{number}/steps/{sequence}/attachments",
    response={201: AttachmentOut, **ERRORS},
    operation_id="travelers_api_attachment_add",
)
def attachment_add(request, number: str, sequence: int, file: File[UploadedFile], ncr: Form[str | None] = None):
    """Upload a photo or file at a step (multipart, field `file`; optional `ncr` number to attach it
    to a nonconformance). JPEG, PNG, WebP, PDF, text and CSV only; the size limit applies."""
    step = step_by_sequence(number, sequence)
    ncr_row = None
    if ncr:
        try:
            ncr_row = ncr_by_number(ncr)
        except RecordNotFound as exc:
            raise RecordNotFound(exc.message, field="ncr") from None
    # Read one byte beyond the limit at most: the service refuses what is too large.
    content = file.read(max_bytes() + 1)
    attachment = services.attachment_add(
        step=step,
        filename=file.name or "upload",
        content=content,
        content_type=file.content_type or "",
        ncr=ncr_row,
        actor=actor_of(request),
    )
    a = attachment_state(attachment.pk)
    return Status(201, attachment_out(a, step_sequence=a.step.sequence))
