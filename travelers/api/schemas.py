"""The API's schemas: the outputs it answers (and the one error body), and the inputs it accepts. Inputs
refuse unknown fields, so a typo cannot pass silently. Times are UTC; decimals are strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field

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
