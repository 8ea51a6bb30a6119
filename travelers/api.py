"""The JSON API of travelers, for tablets and integrations: typed inputs and outputs, documented by
OpenAPI. Every write calls a service (travelers.services); every read a selector (travelers.selectors).
Errors are raised as domain errors and turned into 4xx JSON by the exception handlers of mes.api.

Times are UTC (ISO 8601, "Z"); decimals are strings, so no value loses a digit on the way."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from mes.api import signing_session_key
from mes.compliance.audit import printed_name_of
from travelers import selectors, services
from travelers.errors import UnknownWorkCenter
from travelers.services.attachments import max_bytes

router = Router(tags=["travelers"])


# --- Output schemas ---------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str = Field(description="The error's name in snake_case, e.g. step_out_of_order.")
    message: str = Field(description="A plain sentence saying what is wrong and, where it can, what to do.")
    field: str | None = Field(description="The input field (or path parameter) the error concerns.")
    details: list[dict] | None = Field(None, description="Every validation problem, for a 422 on bad input.")


class ErrorOut(Schema):
    error: ErrorDetail


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class UserRef(Schema):
    username: str
    printed_name: str


class SignatureOut(Schema):
    """An electronic signature as 21 CFR 11.50 requires it shown: printed name, meaning, UTC time."""

    id: int
    printed_name: str
    meaning: str
    meaning_display: str
    signed_at: dt.datetime = Field(description="Server time of signing, UTC.")
    manifestation: str = Field(description="Printed name — meaning — date and time UTC, as shown on screens.")
    method: str = Field(description="password or pin")
    qualification: str | None
    comment: str


class PartRef(Schema):
    number: str
    revision: str
    name: str


class CurrentStepOut(Schema):
    sequence: int
    title: str
    status: str
    version: int


class QueueEntryOut(Schema):
    number: str
    serial_or_lot: str
    tracking: str
    part: PartRef
    work_order: str
    due_date: dt.date | None
    status: str
    on_hold: bool
    version: int
    current_step: CurrentStepOut


class WorkCenterRef(Schema):
    site: str
    code: str
    name: str


class QueueOut(Schema):
    work_center: WorkCenterRef
    travelers: list[QueueEntryOut]


class CharacteristicOut(Schema):
    code: str
    name: str
    kind: str = Field(description="numeric, pass_fail, choice, text or attachment")
    unit: str
    nominal: Decimal | None
    lower_limit: Decimal | None
    upper_limit: Decimal | None
    decimals: int
    choices: list[str]
    required: bool
    on_out_of_spec: str = Field(description="hold (hold + NCR) or warn")
    spec_revision: str


class SpecOut(Schema):
    unit: str
    lower: Decimal | None
    upper: Decimal | None
    nominal: Decimal | None
    revision: str


class MeasurementOut(Schema):
    id: int
    step: int = Field(description="The step's sequence.")
    characteristic: str
    entered_value: str = Field(description="Exactly what was entered.")
    entered_unit: str
    value: Decimal | None = Field(description="Converted to the characteristic's unit (numeric values).")
    value_text: str
    value_bool: bool | None
    unit: str = Field(description="The characteristic's unit, which `value` is in.")
    judgment: str = Field(description="in_spec, out_of_spec or recorded")
    deviation: Decimal | None = Field(description="Distance outside the nearest limit (+ above, − below); 0 in spec.")
    spec: SpecOut
    source: str
    device: str
    attachment_id: int | None
    recorded_at: dt.datetime
    recorded_by: UserRef
    current: bool = Field(description="False once a correction superseded it.")
    supersedes: int | None
    superseded_by: int | None
    correction_reason: str
    correction_signature: SignatureOut | None


class AttachmentOut(Schema):
    id: int
    step: int
    ncr: str | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: UserRef


class OperationRef(Schema):
    code: str
    name: str


class StepOut(Schema):
    sequence: int
    title: str
    instructions: str
    operation: OperationRef
    work_center: str | None
    origin: str
    ncr: str | None = Field(description="The NCR whose rework added this step.")
    signoff: str
    requires_inspection: bool
    may_run_out_of_order: bool
    status: str
    version: int
    started_at: dt.datetime | None
    started_by: UserRef | None
    completed_at: dt.datetime | None
    skip_reason: str
    components: list[dict] = Field(description="Components the step consumes: part_number, quantity.")
    characteristics: list[CharacteristicOut]
    measurements: list[MeasurementOut] = Field(description="Every value, current and superseded.")
    signatures: list[SignatureOut]
    attachments: list[AttachmentOut]


class HoldOut(Schema):
    id: int
    traveler: str
    kind: str
    reason: str
    ncr: str | None
    placed_at: dt.datetime
    placed_by: UserRef | None
    released_at: dt.datetime | None
    released_by: UserRef | None
    release_reason: str
    release_signature: SignatureOut | None


class NcrOut(Schema):
    number: str
    traveler: str
    status: str
    step: int | None
    measurement_id: int | None
    description: str
    automatic: bool
    raised_at: dt.datetime
    raised_by: UserRef
    disposition: str
    disposition_notes: str
    dispositioned_at: dt.datetime | None
    disposition_signature: SignatureOut | None
    rework_steps: list[int]


class ComponentRef(Schema):
    part_number: str
    identifier: str
    tracking: str


class ConsumptionOut(Schema):
    id: int
    traveler: str
    step: int
    component: ComponentRef
    quantity: Decimal
    active: bool
    consumed_at: dt.datetime
    consumed_by: UserRef
    removed_at: dt.datetime | None
    removed_by: UserRef | None
    removal_reason: str
    removal_signature: SignatureOut | None


class WorkOrderRef(Schema):
    number: str
    due_date: dt.date | None


class TravelerOut(Schema):
    number: str
    site: str
    serial_or_lot: str
    tracking: str
    quantity: Decimal
    part: PartRef
    work_order: WorkOrderRef
    routing_revision: int
    status: str
    on_hold: bool
    version: int
    released_at: dt.datetime
    released_by: UserRef | None
    completed_at: dt.datetime | None
    closed_at: dt.datetime | None
    final_signature: SignatureOut | None
    steps: list[StepOut]
    holds: list[HoldOut]
    ncrs: list[NcrOut]
    consumptions: list[ConsumptionOut]


class TravelerStateOut(Schema):
    number: str
    status: str
    on_hold: bool
    version: int


class StepStateOut(Schema):
    traveler: TravelerStateOut
    sequence: int
    title: str
    status: str
    version: int
    signatures: list[SignatureOut]


class SignedStepOut(StepStateOut):
    signature: SignatureOut = Field(description="The signature just made.")


class MeasurementResultOut(Schema):
    measurement: MeasurementOut
    traveler: TravelerStateOut
    step_version: int
    put_on_hold: bool = Field(description="True when this value held the traveler (and opened `ncr`).")
    ncr: str | None = Field(description="The nonconformance this value opened, if any.")


class MeasurementBatchOut(Schema):
    measurements: list[MeasurementOut] = Field(description="The values recorded, in the order sent.")
    traveler: TravelerStateOut
    step_version: int
    put_on_hold: bool = Field(description="True when a value held the traveler (and opened an NCR).")
    ncrs: list[str] = Field(description="The nonconformances the values opened, if any.")


class SignoffOut(Schema):
    traveler: TravelerStateOut
    signature: SignatureOut
    ncr: str | None = Field(description="On a rejection, the nonconformance that now holds the traveler.")


# --- Input schemas (unknown fields are refused, so a typo cannot pass silently) ---------------------------


class In(Schema):
    model_config = ConfigDict(extra="forbid")


class Signing(In):
    secret: str = Field(description="Your password or signing PIN.")
    username: str | None = Field(None, description="Your user id, typed at the first signing of a session.")


STATION = Field(
    None,
    description="The work center you act from: SITE/CODE, or CODE at the traveler's site (WIC/LATHE-01). Given, "
    "a step routed to another work center is refused (409 wrong_work_center) unless a supervisor allowed it "
    "there on a tablet; absent, where you stand is not checked.",
)


class StartIn(In):
    expected_version: int | None = Field(None, description="The step version you saw; 409 if it changed.")
    work_center: str | None = STATION


class MeasurementIn(In):
    characteristic: str = Field(description="The characteristic's code, e.g. BORE_DIA.")
    value: str = Field(description='The value as entered, e.g. "12.701", "pass".')
    unit: str = Field("", description="The unit it was entered in; the characteristic's unit when empty.")
    source: Literal["manual", "device", "imported"] = "manual"
    device: str = Field("", description="Gauge id or OPC UA node id, for source=device.")
    attachment_id: int | None = Field(None, description="For an attachment characteristic: an uploaded file.")
    expected_version: int | None = None
    work_center: str | None = STATION


class BatchValueIn(In):
    characteristic: str = Field(description="The characteristic's code, e.g. BORE_DIA.")
    value: str = Field(description='The value as entered, e.g. "12.701", "pass".')
    unit: str = Field("", description="The unit it was entered in; the characteristic's unit when empty.")
    source: Literal["manual", "imported"] = "manual"
    attachment_id: int | None = Field(None, description="For an attachment characteristic: an uploaded file.")


class MeasurementBatchIn(In):
    values: list[BatchValueIn] = Field(description="The step's values, recorded in this order, all or none.")
    expected_version: int | None = Field(None, description="The step version you saw; 409 if it changed.")
    work_center: str | None = STATION


class CorrectIn(Signing):
    value: str
    unit: str = ""
    reason: str
    attachment_id: int | None = None
    cosigner_username: str | None = Field(
        None,
        description="An inspector's user id: needed (two-person rule) for a value out of spec or after a disposition.",
    )
    cosigner_secret: str | None = Field(None, description="That inspector's password or signing PIN.")


class SignIn(Signing):
    meaning: Literal["performed", "inspected"]
    expected_version: int | None = None


class ReasonSignedIn(Signing):
    reason: str


class HoldIn(In):
    reason: str


class NcrIn(In):
    description: str
    step_sequence: int | None = None


class ReworkStepIn(In):
    operation: str = Field(description="Operation code.")
    title: str
    instructions: str = ""
    work_center: str | None = Field(None, description="Work center code at the traveler's site.")


class DispositionIn(Signing):
    disposition: Literal["use_as_is", "rework", "repair", "scrap", "rtv"]
    notes: str
    rework_steps: list[ReworkStepIn] = Field(default_factory=list, description="For rework or repair.")
    mrb_username: str | None = Field(
        None, description="An engineer's user id: needed (material review board) for use as is and repair."
    )
    mrb_secret: str | None = Field(None, description="That engineer's password or signing PIN.")


class ComponentIn(In):
    identifier: str = Field(description="Serial or lot number scanned.")
    part_number: str | None = None
    quantity: Decimal = Field(Decimal(1), description="From a lot; a serialized component is always 1.")
    expected_version: int | None = None


class SignoffIn(Signing):
    decision: Literal["approve", "reject"]
    reason: str = ""


class ReleaseIn(In):
    identifier: str = Field(description="The serial number or lot number of the new unit or lot.")
    quantity: Decimal | None = Field(None, description="For a lot.")


# --- Building outputs from selected rows (no queries: everything is selected or prefetched) ----------------


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(dt.UTC) if value is not None else None


def _user(user) -> UserRef | None:
    if user is None:
        return None
    return UserRef(username=user.get_username(), printed_name=printed_name_of(user))


def _signature(sig) -> SignatureOut | None:
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
    return [_signature(s) for s in sigs if s is not None]


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
    return MeasurementOut(
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
        spec=SpecOut(
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
        correction_signature=_signature(m.correction_signature),
    )


def _attachment(a, *, step_sequence: int) -> AttachmentOut:
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
        attachments=[_attachment(a, step_sequence=step.sequence) for a in step.attachments.all()],
    )


def _hold(h, *, traveler_number: str) -> HoldOut:
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
        release_signature=_signature(h.release_signature),
    )


def _ncr(n, *, traveler_number: str, rework_steps: list[int]) -> NcrOut:
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
        disposition_signature=_signature(n.disposition_signature),
        rework_steps=rework_steps,
    )


def _consumption(c, *, traveler_number: str) -> ConsumptionOut:
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
        removal_signature=_signature(c.removal_signature),
    )


def _part(item) -> PartRef:
    return PartRef(number=item.part.number, revision=item.part_revision.revision, name=item.part.name)


def _traveler_state(t) -> TravelerStateOut:
    return TravelerStateOut(number=t.number, status=t.status, on_hold=t.on_hold, version=t.version)


def _traveler(t) -> TravelerOut:
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
        part=_part(t.item),
        work_order=WorkOrderRef(number=t.work_order.number, due_date=t.work_order.due_date),
        routing_revision=t.routing.revision,
        status=t.status,
        on_hold=t.on_hold,
        version=t.version,
        released_at=_utc(t.released_at),
        released_by=_user(t.released_by),
        completed_at=_utc(t.completed_at),
        closed_at=_utc(t.closed_at),
        final_signature=_signature(t.final_signature),
        steps=[_step(s) for s in steps],
        holds=[_hold(h, traveler_number=t.number) for h in t.holds.all()],
        ncrs=[_ncr(n, traveler_number=t.number, rework_steps=rework.get(n.pk, [])) for n in t.ncrs.all()],
        consumptions=[_consumption(c, traveler_number=t.number) for c in t.consumptions.all()],
    )


def _step_state(step) -> StepStateOut:
    return StepStateOut(
        traveler=_traveler_state(step.traveler),
        sequence=step.sequence,
        title=step.title,
        status=step.status,
        version=step.version,
        signatures=_step_signatures(step),
    )


def _signed_step(step_id: int, which: str) -> SignedStepOut:
    """The step after a signing service, with the signature it just made (`which` names the field)."""
    step = selectors.step_state(step_id)
    return SignedStepOut(**_step_state(step).model_dump(), signature=_signature(getattr(step, which)))


def _recorded(m) -> MeasurementResultOut:
    """The outcome of recording `m`, from the rows the service left (the step's traveler as it locked
    and changed it); read again only for an out-of-spec value, which may have held the traveler."""
    if m.judgment == "out_of_spec":
        return _measurement_result(m.pk)
    return MeasurementResultOut(
        measurement=_measurement(m, step_sequence=m.step.sequence, superseded_by=None),
        traveler=_traveler_state(m.step.traveler),
        step_version=m.step.version,
        put_on_hold=False,
        ncr=None,
    )


def _recorded_batch(measurements: list) -> MeasurementBatchOut:
    step = measurements[0].step
    traveler, ncrs = step.traveler, {}
    if any(m.judgment == "out_of_spec" for m in measurements):  # a hold may have changed the traveler
        traveler, ncrs = selectors.traveler_state(traveler.pk), selectors.ncr_numbers_of([m.pk for m in measurements])
    return MeasurementBatchOut(
        measurements=[_measurement(m, step_sequence=step.sequence, superseded_by=None) for m in measurements],
        traveler=_traveler_state(traveler),
        step_version=step.version,
        put_on_hold=bool(ncrs),
        ncrs=[ncrs[m.pk] for m in measurements if m.pk in ncrs],
    )


def _measurement_result(measurement_id: int) -> MeasurementResultOut:
    m, ncr = selectors.measurement_outcome(measurement_id)
    return MeasurementResultOut(
        measurement=_measurement(m, step_sequence=m.step.sequence, superseded_by=None),
        traveler=_traveler_state(m.step.traveler),
        step_version=m.step.version,
        put_on_hold=ncr is not None,
        ncr=ncr,
    )


# --- Helpers ----------------------------------------------------------------------------------------------


def _actor(request):
    """Who acts: the user of the bearer token or of the session (set by the API's authentication)."""
    return request.auth


def _station(number: str, named: str | None):
    """The work center a client says it acts from (None when it says none); 422 when there is none such."""
    named = (named or "").strip()
    if not named:
        return None
    site, _, code = named.rpartition("/")
    found = selectors.station_work_center(site or selectors.traveler_by_number(number).site.code, code)
    if found is None:
        raise UnknownWorkCenter(f"there is no active work center {named}", field="work_center")
    return found


def _require_view(request) -> None:
    user = _actor(request)
    if not user.has_perm("travelers.view_traveler"):
        raise PermissionDenied(
            gettext("%(username)s is not allowed to view travelers") % {"username": user.get_username()}
        )


# --- Reads ------------------------------------------------------------------------------------------------


@router.get("/work-centers/{site}/{code}/travelers", response={200: QueueOut, **ERRORS})
def work_center_travelers(request, site: str, code: str):
    """Travelers waiting at or in work at a work center, by due date: each with its step there
    (one in progress or awaiting inspection, else a pending step that may start now)."""
    _require_view(request)
    work_center, queue = selectors.work_center_queue(site, code)
    return QueueOut(
        work_center=WorkCenterRef(site=work_center.site.code, code=work_center.code, name=work_center.name),
        travelers=[
            QueueEntryOut(
                number=t.number,
                serial_or_lot=t.item.identifier,
                tracking=t.item.tracking,
                part=_part(t.item),
                work_order=t.work_order.number,
                due_date=t.work_order.due_date,
                status=t.status,
                on_hold=t.on_hold,
                version=t.version,
                current_step=CurrentStepOut(sequence=s.sequence, title=s.title, status=s.status, version=s.version),
            )
            for t, s in queue
        ],
    )


@router.get("/travelers/{number}", response={200: TravelerOut, **ERRORS})
def traveler_get(request, number: str):
    """A whole traveler: steps with their specs, every value (current and superseded), signatures,
    attachments, holds, NCRs, consumed components and version numbers."""
    _require_view(request)
    return _traveler(selectors.traveler_detail(number))


# --- Steps ------------------------------------------------------------------------------------------------


@router.post("/travelers/{number}/steps/{sequence}/start", response={200: StepStateOut, **ERRORS})
def step_start(request, number: str, sequence: int, payload: StartIn | None = None):
    """Start a step. Refused (409) out of order, on a held or closed traveler, or on a stale version."""
    step = selectors.step_by_sequence(number, sequence)
    payload = payload or StartIn()
    step = services.step_start(
        step=step,
        actor=_actor(request),
        expected_version=payload.expected_version,
        station=_station(number, payload.work_center),
    )
    return _step_state(selectors.step_state(step.pk))


@router.post("/travelers/{number}/steps/{sequence}/measurements", response={201: MeasurementResultOut, **ERRORS})
def measurement_record(request, number: str, sequence: int, payload: MeasurementIn):
    """Record a value at a started step. The server converts and judges it; an out-of-spec value on a
    `hold` characteristic holds the traveler and opens an NCR (both in the response)."""
    step = selectors.step_ref(number, sequence)
    m = services.measurement_record(
        step=step,
        characteristic=payload.characteristic,
        value=payload.value,
        unit=payload.unit,
        source=payload.source,
        device=payload.device,
        attachment_id=payload.attachment_id,
        expected_version=payload.expected_version,
        actor=_actor(request),
        station=_station(number, payload.work_center),
    )
    return Status(201, _recorded(m))


@router.post("/travelers/{number}/steps/{sequence}/measurements/batch", response={201: MeasurementBatchOut, **ERRORS})
def measurement_record_batch(request, number: str, sequence: int, payload: MeasurementBatchIn):
    """Record a step's values at once (the tablet saves the step's form): one transaction, each value
    judged, audited and announced as if recorded alone. All or nothing: a bad value refuses the batch
    with an error naming it (`values[2].unit`), and nothing is saved. Out-of-spec values on `hold`
    characteristics hold the traveler and open their NCRs (in the response)."""
    step = selectors.step_ref(number, sequence)
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
        actor=_actor(request),
        station=_station(number, payload.work_center),
    )
    return Status(201, _recorded_batch(measurements))


@router.post("/measurements/{id}/correct", response={201: MeasurementResultOut, **ERRORS})
def measurement_correct(request, id: int, payload: CorrectIn):  # noqa: A002 - the path parameter's name
    """Correct a value: a new, signed value supersedes it, with a reason; the original stays visible."""
    original = selectors.measurement_by_id(id)
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
        actor=_actor(request),
    )
    return Status(201, _measurement_result(m.pk))


@router.post("/travelers/{number}/steps/{sequence}/sign", response={200: SignedStepOut, **ERRORS})
def step_sign(request, number: str, sequence: int, payload: SignIn):
    """Sign a step: `performed` by the operator (every required value recorded), `inspected` by an
    inspector other than whoever performed it. A wrong secret is counted; repeated ones lock signing."""
    step = selectors.step_by_sequence(number, sequence)
    actor = _actor(request)
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
    return _signed_step(step.pk, which)


@router.post("/travelers/{number}/steps/{sequence}/skip", response={200: SignedStepOut, **ERRORS})
def step_skip(request, number: str, sequence: int, payload: ReasonSignedIn):
    """A supervisor skips a step, saying why, signed."""
    step = selectors.step_by_sequence(number, sequence)
    step = services.step_skip(
        step=step,
        actor=_actor(request),
        secret=payload.secret,
        reason=payload.reason,
        username=payload.username,
        session_key=signing_session_key(request),
    )
    return _signed_step(step.pk, "skip_signature")


# --- Holds ----------------------------------------------------------------------------------------------


@router.post("/travelers/{number}/hold", response={201: HoldOut, **ERRORS})
def hold_place(request, number: str, payload: HoldIn):
    """Put a traveler on hold, saying why."""
    traveler = selectors.traveler_by_number(number)
    hold = services.hold_place(traveler=traveler, reason=payload.reason, actor=_actor(request))
    return Status(201, _hold(selectors.hold_state(hold.pk), traveler_number=traveler.number))


@router.post("/holds/{id}/release", response={200: HoldOut, **ERRORS})
def hold_release(request, id: int, payload: ReasonSignedIn):  # noqa: A002
    """Release a manual hold, signed, with a reason (an NCR's hold ends with its disposition)."""
    hold = selectors.hold_by_id(id)
    hold = services.hold_release(
        hold=hold,
        actor=_actor(request),
        secret=payload.secret,
        reason=payload.reason,
        username=payload.username,
        session_key=signing_session_key(request),
    )
    hold = selectors.hold_state(hold.pk)
    return _hold(hold, traveler_number=hold.traveler.number)


# --- Nonconformances ------------------------------------------------------------------------------------


def _ncr_out(ncr_id: int) -> NcrOut:
    ncr = selectors.ncr_state(ncr_id)
    return _ncr(ncr, traveler_number=ncr.traveler.number, rework_steps=[s.sequence for s in ncr.rework_steps.all()])


@router.post("/travelers/{number}/ncrs", response={201: NcrOut, **ERRORS})
def ncr_raise(request, number: str, payload: NcrIn):
    """Raise a nonconformance by hand (optionally at a step); it holds the traveler."""
    traveler = selectors.traveler_by_number(number)
    step = None
    if payload.step_sequence is not None:
        try:
            step = selectors.step_by_sequence(number, payload.step_sequence)
        except selectors.RecordNotFound as exc:
            raise selectors.RecordNotFound(exc.message, field="step_sequence") from None
    ncr = services.ncr_raise(traveler=traveler, description=payload.description, step=step, actor=_actor(request))
    return Status(201, _ncr_out(ncr.pk))


@router.post("/ncrs/{number}/disposition", response={200: NcrOut, **ERRORS})
def ncr_disposition(request, number: str, payload: DispositionIn):
    """Quality signs the disposition; rework and repair add steps, scrap and return-to-vendor end the
    traveler. The NCR's hold is released."""
    ncr = selectors.ncr_by_number(number)
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
        actor=_actor(request),
    )
    return _ncr_out(ncr.pk)


# --- Components -------------------------------------------------------------------------------------------


@router.post("/travelers/{number}/steps/{sequence}/components", response={201: ConsumptionOut, **ERRORS})
def component_consume(request, number: str, sequence: int, payload: ComponentIn):
    """Install a component unit (by serial) or draw from a lot, at a started step."""
    step = selectors.step_by_sequence(number, sequence)
    consumption = services.component_consume(
        step=step,
        identifier=payload.identifier,
        part_number=payload.part_number,
        quantity=payload.quantity,
        expected_version=payload.expected_version,
        actor=_actor(request),
    )
    return Status(201, _consumption(selectors.consumption_state(consumption.pk), traveler_number=number))


@router.post("/consumptions/{id}/remove", response={200: ConsumptionOut, **ERRORS})
def component_remove(request, id: int, payload: ReasonSignedIn):  # noqa: A002
    """Take a component out again (e.g. in rework), signed; the history of what was installed stays."""
    consumption = selectors.consumption_by_id(id)
    consumption = services.component_remove(
        consumption=consumption,
        reason=payload.reason,
        secret=payload.secret,
        username=payload.username,
        session_key=signing_session_key(request),
        actor=_actor(request),
    )
    c = selectors.consumption_state(consumption.pk)
    return _consumption(c, traveler_number=c.traveler.number)


# --- Final sign-off ---------------------------------------------------------------------------------------


@router.post("/travelers/{number}/signoff", response={200: SignoffOut, **ERRORS})
def traveler_signoff(request, number: str, payload: SignoffIn):
    """Quality's final sign-off: approve closes the traveler (read-only from then on); reject, with a
    reason, opens a nonconformance that holds it."""
    traveler = selectors.traveler_by_number(number)
    traveler = services.traveler_signoff(
        traveler=traveler,
        approve=payload.decision == "approve",
        reason=payload.reason,
        secret=payload.secret,
        username=payload.username,
        session_key=signing_session_key(request),
        actor=_actor(request),
    )
    traveler, signature, ncr = selectors.signoff_state(traveler.pk)
    return SignoffOut(traveler=_traveler_state(traveler), signature=_signature(signature), ncr=ncr)


# --- Attachments ------------------------------------------------------------------------------------------


@router.post("/travelers/{number}/steps/{sequence}/attachments", response={201: AttachmentOut, **ERRORS})
def attachment_add(request, number: str, sequence: int, file: File[UploadedFile], ncr: Form[str | None] = None):
    """Upload a photo or file at a step (multipart, field `file`; optional `ncr` number to attach it
    to a nonconformance). JPEG, PNG, WebP, PDF, text and CSV only; the size limit applies."""
    step = selectors.step_by_sequence(number, sequence)
    ncr_row = None
    if ncr:
        try:
            ncr_row = selectors.ncr_by_number(ncr)
        except selectors.RecordNotFound as exc:
            raise selectors.RecordNotFound(exc.message, field="ncr") from None
    # Read one byte beyond the limit at most: the service refuses what is too large.
    content = file.read(max_bytes() + 1)
    attachment = services.attachment_add(
        step=step,
        filename=file.name or "upload",
        content=content,
        content_type=file.content_type or "",
        ncr=ncr_row,
        actor=_actor(request),
    )
    a = selectors.attachment_state(attachment.pk)
    return Status(201, _attachment(a, step_sequence=a.step.sequence))


# --- Release ------------------------------------------------------------------------------------------------


@router.post("/work-orders/{number}/travelers", response={201: TravelerOut, **ERRORS})
def traveler_release(request, number: str, payload: ReleaseIn):
    """Release a traveler for a new unit (serial) or lot of a work order, on the released routing."""
    work_order = selectors.work_order_by_number(number)
    traveler = services.traveler_release(
        work_order=work_order, identifier=payload.identifier, quantity=payload.quantity, actor=_actor(request)
    )
    return Status(201, _traveler(selectors.traveler_detail(traveler.number)))
