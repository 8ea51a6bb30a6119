"""Reads of travelers: each selector does its own select_related/prefetch_related, so whatever renders
the result (JSON, a page, a template) never fires a query per step, value or signature."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import F, Prefetch

from mes.compliance.models import Signature
from mes.masterdata.models import WorkCenter
from travelers.models import (
    Attachment,
    Consumption,
    Hold,
    Measurement,
    Nonconformance,
    Traveler,
    TravelerCharacteristic,
    TravelerStep,
    WorkOrder,
)
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, NcrStatus, StepStatus


class RecordNotFound(ObjectDoesNotExist):
    """What was asked for does not exist; a plain message and the field (path parameter) naming it."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


# --- Single records, for the services to act on ---------------------------------------------------------


def traveler_by_number(number: str) -> Traveler:
    try:
        return Traveler.objects.select_related("site").get(number=number)
    except Traveler.DoesNotExist:
        raise RecordNotFound(f"there is no traveler {number}", field="number") from None


def step_by_sequence(number: str, sequence: int) -> TravelerStep:
    step = TravelerStep.objects.select_related("traveler").filter(traveler__number=number, sequence=sequence).first()
    if step is None:
        traveler_by_number(number)  # names the traveler when that is what is missing
        raise RecordNotFound(f"traveler {number} has no step {sequence}", field="sequence")
    return step


def measurement_by_id(measurement_id: int) -> Measurement:
    try:
        return Measurement.objects.select_related("step__traveler").get(pk=measurement_id)
    except Measurement.DoesNotExist:
        raise RecordNotFound(f"there is no measurement {measurement_id}", field="id") from None


def hold_by_id(hold_id: int) -> Hold:
    try:
        return Hold.objects.select_related("traveler").get(pk=hold_id)
    except Hold.DoesNotExist:
        raise RecordNotFound(f"there is no hold {hold_id}", field="id") from None


def ncr_by_number(number: str) -> Nonconformance:
    try:
        return Nonconformance.objects.select_related("traveler").get(number=number)
    except Nonconformance.DoesNotExist:
        raise RecordNotFound(f"there is no nonconformance {number}", field="number") from None


def consumption_by_id(consumption_id: int) -> Consumption:
    try:
        return Consumption.objects.select_related("traveler").get(pk=consumption_id)
    except Consumption.DoesNotExist:
        raise RecordNotFound(f"there is no component consumption {consumption_id}", field="id") from None


def work_order_by_number(number: str) -> WorkOrder:
    try:
        return WorkOrder.objects.select_related("site", "part_revision__part").get(number=number)
    except WorkOrder.DoesNotExist:
        raise RecordNotFound(f"there is no work order {number}", field="number") from None


# --- What a write left behind, for its response -----------------------------------------------------------


def step_state(step_id: int) -> TravelerStep:
    """A step as it stands now, with its traveler and signatures (after a start, sign or skip)."""
    return TravelerStep.objects.select_related(
        "traveler", "performed_signature", "inspected_signature", "skip_signature"
    ).get(pk=step_id)


def measurement_outcome(measurement_id: int) -> tuple[Measurement, str | None]:
    """A recorded value with its step and traveler as they stand now, and the number of the NCR the
    value opened (None when it opened none)."""
    m = Measurement.objects.select_related(
        "step__traveler", "characteristic", "recorded_by__profile", "correction_signature"
    ).get(pk=measurement_id)
    ncr = Nonconformance.objects.filter(measurement_id=measurement_id).values_list("number", flat=True).first()
    return m, ncr


def signoff_state(traveler_id: int) -> tuple[Traveler, Signature | None, str | None]:
    """After a final sign-off: the traveler, the newest approval or rejection signature on it, and
    the open NCR a rejection raised (None otherwise)."""
    traveler = Traveler.objects.get(pk=traveler_id)
    signature = (
        Signature.objects.filter(
            record_type="travelers.traveler",
            record_id=str(traveler_id),
            meaning__in=[Signature.Meaning.APPROVED, Signature.Meaning.REJECTED],
        )
        .order_by("-signed_at", "-id")
        .first()
    )
    ncr = None
    if signature is not None and signature.meaning == Signature.Meaning.REJECTED:
        ncr = (
            traveler.ncrs.filter(status=NcrStatus.OPEN, step__isnull=True, raised_by=signature.signer_id)
            .order_by("-raised_at", "-id")
            .values_list("number", flat=True)
            .first()
        )
    return traveler, signature, ncr


def hold_state(hold_id: int) -> Hold:
    return Hold.objects.select_related(
        "traveler", "ncr", "placed_by__profile", "released_by__profile", "release_signature"
    ).get(pk=hold_id)


def ncr_state(ncr_id: int) -> Nonconformance:
    return (
        Nonconformance.objects.select_related("traveler", "step", "raised_by__profile", "disposition_signature")
        .prefetch_related(Prefetch("rework_steps", queryset=TravelerStep.objects.order_by("sequence")))
        .get(pk=ncr_id)
    )


def consumption_state(consumption_id: int) -> Consumption:
    return Consumption.objects.select_related(
        "traveler",
        "step",
        "component__part",
        "consumed_by__profile",
        "removed_by__profile",
        "removal_signature",
    ).get(pk=consumption_id)


def attachment_state(attachment_id: int) -> Attachment:
    return Attachment.objects.select_related("step__traveler", "ncr", "uploaded_by__profile").get(pk=attachment_id)


# --- A whole traveler -----------------------------------------------------------------------------------


def traveler_detail(number: str) -> Traveler:
    """A traveler with everything a screen or a copy shows, in a fixed number of queries whatever the
    number of steps: steps, their specs, every value (current and superseded), signatures,
    attachments, holds, NCRs and consumed components.

    Prefetched lists: `traveler.steps.all()`, and on each step `characteristics.all()`,
    `measurements.all()`, `attachments.all()`; `traveler.holds.all()`, `traveler.ncrs.all()`,
    `traveler.consumptions.all()`."""
    steps = TravelerStep.objects.select_related(
        "operation",
        "work_center",
        "performed_signature",
        "inspected_signature",
        "skip_signature",
        "started_by__profile",
        "ncr",
    ).prefetch_related(
        Prefetch("characteristics", queryset=TravelerCharacteristic.objects.order_by("sequence", "id")),
        Prefetch(
            "measurements",
            queryset=Measurement.objects.select_related(
                "characteristic", "recorded_by__profile", "correction_signature"
            ).order_by("characteristic__sequence", "characteristic_id", "recorded_at", "id"),
        ),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by__profile", "ncr")),
    )
    queryset = Traveler.objects.select_related(
        "site",
        "work_order",
        "item__part",
        "item__part_revision",
        "routing",
        "final_signature",
        "released_by__profile",
    ).prefetch_related(
        Prefetch("steps", queryset=steps.order_by("sequence")),
        Prefetch(
            "holds",
            queryset=Hold.objects.select_related(
                "ncr", "placed_by__profile", "released_by__profile", "release_signature"
            ).order_by("placed_at", "id"),
        ),
        Prefetch(
            "ncrs",
            queryset=Nonconformance.objects.select_related(
                "step", "raised_by__profile", "disposition_signature"
            ).order_by("number"),
        ),
        Prefetch(
            "consumptions",
            queryset=Consumption.objects.select_related(
                "step", "component__part", "consumed_by__profile", "removed_by__profile", "removal_signature"
            ).order_by("consumed_at", "id"),
        ),
    )
    try:
        return queryset.get(number=number)
    except Traveler.DoesNotExist:
        raise RecordNotFound(f"there is no traveler {number}", field="number") from None


# --- A work center's queue ------------------------------------------------------------------------------


def _current_step_at(traveler: Traveler, work_center_id: int) -> TravelerStep | None:
    """The step of `traveler` that is at this work center now: one in progress (or awaiting its
    inspection) here, else a pending step here that may start now (nothing it waits for is open)."""
    open_steps = traveler.open_steps  # not done, by sequence
    here = [s for s in open_steps if s.work_center_id == work_center_id]
    for step in here:
        if step.status != StepStatus.PENDING:
            return step
    for step in here:
        if step.may_run_out_of_order or not any(
            o.sequence < step.sequence and not o.may_run_out_of_order for o in open_steps
        ):
            return step
    return None


def work_center_queue(site_code: str, work_center_code: str) -> tuple[WorkCenter, list[tuple[Traveler, TravelerStep]]]:
    """Open travelers waiting at or in work at a work center, each with its step there; by due date.
    Held travelers are included (they are physically there), flagged by `on_hold`."""
    work_center = WorkCenter.objects.select_related("site").filter(site__code=site_code, code=work_center_code).first()
    if work_center is None:
        raise RecordNotFound(f"there is no work center {work_center_code} at site {site_code}", field="code")
    here = TravelerStep.objects.filter(work_center=work_center).exclude(status__in=DONE_STEP_STATES)
    travelers = (
        Traveler.objects.filter(status__in=OPEN_TRAVELER_STATES, pk__in=here.values("traveler_id"))
        .select_related("work_order", "item__part", "item__part_revision")
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=TravelerStep.objects.exclude(status__in=DONE_STEP_STATES).order_by("sequence"),
                to_attr="open_steps",
            )
        )
        .order_by(F("work_order__due_date").asc(nulls_last=True), "number")
    )
    queue = []
    for traveler in travelers:
        step = _current_step_at(traveler, work_center.pk)
        if step is not None:
            queue.append((traveler, step))
    return work_center, queue
