"""Reads of travelers: each selector does its own select_related/prefetch_related, so whatever renders
the result (JSON, a page, a template) never fires a query per step, value or signature."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import DecimalField, F, Prefetch, Q, Sum, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils.translation import gettext

from mes.compliance.models import Profile, Signature, SigningCredential
from mes.masterdata.models import Routing, RoutingStep, StepAttachment, WorkCenter
from mes.masterdata.states import RoutingStatus
from travelers.models import (
    Attachment,
    Consumption,
    Hold,
    Item,
    Measurement,
    Nonconformance,
    Traveler,
    TravelerCharacteristic,
    TravelerStep,
    WorkCenterOverride,
    WorkOrder,
)
from travelers.qr import traveler_number_from_qr
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, NcrStatus, StepStatus, TravelerStatus


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
        raise RecordNotFound(gettext("there is no traveler %(number)s") % {"number": number}, field="number") from None


def step_by_sequence(number: str, sequence: int) -> TravelerStep:
    step = TravelerStep.objects.select_related("traveler").filter(traveler__number=number, sequence=sequence).first()
    if step is None:
        traveler_by_number(number)  # names the traveler when that is what is missing
        raise RecordNotFound(
            gettext("traveler %(number)s has no step %(sequence)s") % {"number": number, "sequence": sequence},
            field="sequence",
        )
    return step


def step_ref(number: str, sequence: int) -> TravelerStep:
    """A step's id and its traveler's, nothing more: for a service that locks and reads the step itself."""
    step = TravelerStep.objects.only("id", "traveler_id").filter(traveler__number=number, sequence=sequence).first()
    if step is None:
        traveler_by_number(number)  # names the traveler when that is what is missing
        raise RecordNotFound(
            gettext("traveler %(number)s has no step %(sequence)s") % {"number": number, "sequence": sequence},
            field="sequence",
        )
    return step


def measurement_by_id(measurement_id: int) -> Measurement:
    try:
        return Measurement.objects.select_related("step__traveler").get(pk=measurement_id)
    except Measurement.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no measurement %(measurement_id)s") % {"measurement_id": measurement_id}, field="id"
        ) from None


def hold_by_id(hold_id: int) -> Hold:
    try:
        return Hold.objects.select_related("traveler").get(pk=hold_id)
    except Hold.DoesNotExist:
        raise RecordNotFound(gettext("there is no hold %(hold_id)s") % {"hold_id": hold_id}, field="id") from None


def ncr_by_number(number: str) -> Nonconformance:
    try:
        return Nonconformance.objects.select_related("traveler").get(number=number)
    except Nonconformance.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no nonconformance %(number)s") % {"number": number}, field="number"
        ) from None


def consumption_by_id(consumption_id: int) -> Consumption:
    try:
        return Consumption.objects.select_related("traveler").get(pk=consumption_id)
    except Consumption.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no component consumption %(consumption_id)s") % {"consumption_id": consumption_id},
            field="id",
        ) from None


def work_order_by_number(number: str) -> WorkOrder:
    try:
        return WorkOrder.objects.select_related("site", "part_revision__part").get(number=number)
    except WorkOrder.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no work order %(number)s") % {"number": number}, field="number"
        ) from None


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
        "step__traveler", "characteristic", "recorded_by__profile", "correction_signature", "cosignature"
    ).get(pk=measurement_id)
    ncr = Nonconformance.objects.filter(measurement_id=measurement_id).values_list("number", flat=True).first()
    return m, ncr


def ncr_numbers_of(measurement_ids: list[int]) -> dict[int, str]:
    """measurement id -> the number of the NCR the value opened, for those that opened one."""
    rows = Nonconformance.objects.filter(measurement_id__in=measurement_ids).values_list("measurement_id", "number")
    return dict(rows)


def traveler_state(traveler_id: int) -> Traveler:
    """A traveler's number, status, hold and version as they stand now."""
    return Traveler.objects.only("number", "status", "on_hold", "version").get(pk=traveler_id)


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
        Nonconformance.objects.select_related(
            "traveler", "step", "raised_by__profile", "disposition_signature", "mrb_signature"
        )
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
                "characteristic", "recorded_by__profile", "correction_signature", "cosignature"
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
                "step", "raised_by__profile", "disposition_signature", "mrb_signature"
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
        raise RecordNotFound(gettext("there is no traveler %(number)s") % {"number": number}, field="number") from None


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
        raise RecordNotFound(
            gettext("there is no work center %(work_center_code)s at site %(site_code)s")
            % {"work_center_code": work_center_code, "site_code": site_code},
            field="code",
        )
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


# --- The shop-floor station (tablets) ---------------------------------------------------------------------


def profile_by_badge(badge: str):
    """The profile (with its user) whose employee number is on `badge`, or None. The exact number first,
    then ignoring case when that names one person only (a scanner may be set to change case)."""
    badge = (badge or "").strip()
    if not badge:
        return None
    profiles = Profile.objects.select_related("user")
    profile = profiles.filter(employee_number=badge).first()
    if profile is None:
        found = list(profiles.filter(employee_number__iexact=badge)[:2])
        profile = found[0] if len(found) == 1 else None
    return profile


def signing_pin_hash(user) -> str:
    """The hash of the user's personal signing PIN ("" when they have none)."""
    return SigningCredential.objects.filter(user=user).values_list("pin_hash", flat=True).first() or ""


def station_work_centers() -> list[WorkCenter]:
    """The active work centers a tablet may stand at, by site."""
    return list(WorkCenter.objects.filter(active=True).select_related("site").order_by("site__code", "code"))


def station_work_center(site_code: str, code: str) -> WorkCenter | None:
    return WorkCenter.objects.select_related("site").filter(site__code=site_code, code=code, active=True).first()


def traveler_scan_matches(code: str, *, work_center: WorkCenter | None = None) -> list[Traveler]:
    """The travelers a scanned code names: a traveler QR payload or number, a serial or lot number, or a
    work-order number (exactly as typed, else ignoring case). When several match, the open ones win,
    then those with an open step at `work_center`; what is left is returned for the operator to pick."""
    code = (code or "").strip()
    if not code:
        return []
    travelers = Traveler.objects.select_related("item__part", "item__part_revision", "work_order").order_by("number")
    number = traveler_number_from_qr(code)
    if number is not None:
        return list(travelers.filter(number__iexact=number)[:1])

    def matching(exact: bool) -> list[Traveler]:
        op = "exact" if exact else "iexact"
        items = Item.objects.filter(**{f"identifier__{op}": code}).values("pk")
        orders = WorkOrder.objects.filter(**{f"number__{op}": code}).values("pk")
        query = Q(**{f"number__{op}": code}) | Q(item_id__in=items) | Q(work_order_id__in=orders)
        return list(travelers.filter(query)[:100])

    found = matching(exact=True) or matching(exact=False)
    if len(found) > 1:
        open_ones = [t for t in found if t.status in OPEN_TRAVELER_STATES]
        found = open_ones or found
    if len(found) > 1 and work_center is not None:
        here = set(
            TravelerStep.objects.filter(traveler_id__in=[t.pk for t in found], work_center=work_center)
            .exclude(status__in=DONE_STEP_STATES)
            .values_list("traveler_id", flat=True)
        )
        found = [t for t in found if t.pk in here] or found
    return found


def current_step(steps: list[TravelerStep]) -> TravelerStep | None:
    """The step a traveler is at: one in work, else the first that may start now, else the first not
    done, else the last. `steps` in sequence order (pure: no query)."""
    for step in steps:
        if step.status in (StepStatus.IN_PROGRESS, StepStatus.AWAITING_INSPECTION):
            return step
    for step in steps:
        if step.status == StepStatus.PENDING and (
            step.may_run_out_of_order
            or not any(
                o.sequence < step.sequence and not o.may_run_out_of_order and o.status not in DONE_STEP_STATES
                for o in steps
            )
        ):
            return step
    for step in steps:
        if step.status not in DONE_STEP_STATES:
            return step
    return steps[-1] if steps else None


def traveler_screen(number: str, sequence: int | None = None) -> tuple[Traveler, list[TravelerStep], TravelerStep]:
    """What a tablet shows of a traveler: the traveler, its route (every step, light) and one step in
    full — the one asked for, else `current_step` — in a fixed number of queries whatever the length
    of the route or the number of values recorded along it.

    On the shown step: `characteristics.all()`, `measurements.all()` (current and superseded),
    `attachments.all()` (photos), `consumptions.all()`, `work_center_overrides.all()` (where a supervisor
    allowed it to be worked besides its own work center), its signatures and NCR, and `drawings` (the
    attachments of the routing step it was copied from). On the traveler: `open_holds`, `ncrs.all()`.

    Each query joins few tables: the route is read every time a tablet shows a step, and PostgreSQL
    spends longer planning one eight-table join (~5 ms) than running all of these."""
    try:
        traveler = Traveler.objects.select_related("site", "work_order", "item__part", "item__part_revision").get(
            number=number
        )
    except Traveler.DoesNotExist:
        raise RecordNotFound(gettext("there is no traveler %(number)s") % {"number": number}, field="number") from None
    steps = list(
        TravelerStep.objects.filter(traveler=traveler).select_related("operation", "work_center").order_by("sequence")
    )
    if sequence is None:
        step = current_step(steps)
    else:
        step = next((s for s in steps if s.sequence == sequence), None)
        if step is None:
            raise RecordNotFound(
                gettext("traveler %(number)s has no step %(sequence)s") % {"number": number, "sequence": sequence},
                field="sequence",
            )
    prefetch_related_objects(
        [traveler],
        Prefetch(
            "holds",
            queryset=Hold.objects.filter(released_at__isnull=True).order_by("placed_at", "id"),
            to_attr="open_holds",
        ),
        Prefetch("ncrs", queryset=Nonconformance.objects.order_by("number")),
    )
    if step is None:
        return traveler, steps, step
    prefetch_related_objects(
        [step],
        Prefetch("characteristics", queryset=TravelerCharacteristic.objects.order_by("sequence", "id")),
        Prefetch(
            "measurements",
            queryset=Measurement.objects.select_related(
                "characteristic", "recorded_by__profile", "correction_signature", "cosignature"
            ).order_by("characteristic__sequence", "characteristic_id", "recorded_at", "id"),
        ),
        Prefetch("attachments", queryset=Attachment.objects.select_related("uploaded_by__profile")),
        Prefetch(
            "consumptions",
            queryset=Consumption.objects.select_related("component__part", "consumed_by__profile").order_by(
                "consumed_at", "id"
            ),
        ),
        Prefetch(
            "work_center_overrides",
            queryset=WorkCenterOverride.objects.select_related("granted_by__profile").order_by("granted_at", "id"),
        ),
    )
    fields = ("performed_signature", "inspected_signature", "skip_signature")
    signature_ids = [getattr(step, f"{f}_id") for f in fields if getattr(step, f"{f}_id")]
    signatures = {s.pk: s for s in Signature.objects.filter(pk__in=signature_ids)} if signature_ids else {}
    for f in fields:
        setattr(step, f, signatures.get(getattr(step, f"{f}_id")))
    if step.ncr_id:
        step.ncr = next(n for n in traveler.ncrs.all() if n.pk == step.ncr_id)
    step.drawings = (
        list(StepAttachment.objects.filter(step_id=step.source_step_id).order_by("id")) if step.source_step_id else []
    )
    return traveler, steps, step


def instruction_file(attachment_id: int):
    """A drawing or photo of a routing step's work instructions."""
    try:
        return StepAttachment.objects.get(pk=attachment_id)
    except StepAttachment.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no instruction file %(attachment_id)s") % {"attachment_id": attachment_id}, field="id"
        ) from None


def record_file(attachment_id: int) -> Attachment:
    """A photo or file taken at a step."""
    try:
        return Attachment.objects.select_related("step__traveler").get(pk=attachment_id)
    except Attachment.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no attachment %(attachment_id)s") % {"attachment_id": attachment_id}, field="id"
        ) from None


def step_characteristics(step_id: int) -> list[TravelerCharacteristic]:
    """A step's characteristics in their order on the screen."""
    return list(TravelerCharacteristic.objects.filter(step_id=step_id).order_by("sequence", "id"))


def step_characteristic(step_id: int, characteristic_id: int) -> TravelerCharacteristic:
    try:
        return TravelerCharacteristic.objects.get(step_id=step_id, pk=characteristic_id)
    except TravelerCharacteristic.DoesNotExist:
        raise RecordNotFound(
            gettext("this step has no characteristic %(characteristic_id)s") % {"characteristic_id": characteristic_id},
            field="characteristic",
        ) from None


# --- Work orders and their route ---------------------------------------------------------------------------


def released_routing(part_revision):
    """The released routing of a part revision with its steps' operations, or None."""
    steps = RoutingStep.objects.select_related("operation").order_by("sequence")
    return (
        Routing.objects.filter(part_revision=part_revision, status=RoutingStatus.RELEASED)
        .prefetch_related(Prefetch("steps", queryset=steps))
        .first()
    )


def route_difference(routing, ordered_operations: list[str]) -> str | None:
    """How the route a sender listed (canonical operation codes, in order) differs from the released
    routing, in words; None when they agree or the sender listed none. `routing` as released_routing
    gives it (its steps prefetched): no query here."""
    if not ordered_operations:
        return None
    if routing is None:
        return f"the order lists {', '.join(ordered_operations)}, but there is no released routing to compare"
    planned = [s.operation.code for s in routing.steps.all()]
    if planned == list(ordered_operations):
        return None
    missing = [code for code in planned if code not in ordered_operations]
    extra = [code for code in ordered_operations if code not in planned]
    parts = [f"the order lists {', '.join(ordered_operations)}; routing r{routing.revision} has {', '.join(planned)}"]
    if missing:
        parts.append(f"not in the order: {', '.join(missing)}")
    if extra:
        parts.append(f"not in the routing: {', '.join(extra)}")
    if not missing and not extra:
        parts.append("in another order")
    return "; ".join(parts)


def released_quantity(order: WorkOrder) -> Decimal:
    """What the order's travelers already cover (cancelled ones do not count)."""
    return sum((i.quantity for i in order.items.exclude(status=Item.Status.CANCELLED)), Decimal(0))


def work_order_started(work_order) -> bool:
    """Whether work on the order has begun: a step of one of its travelers left pending, or a traveler
    is past its steps. Cancelled travelers do not count."""
    travelers = Traveler.objects.filter(work_order=work_order).exclude(status=TravelerStatus.CANCELLED)
    return (
        travelers.exclude(status=TravelerStatus.ACTIVE).exists()
        or TravelerStep.objects.filter(traveler__in=travelers).exclude(status=StepStatus.PENDING).exists()
    )


@dataclass
class OrderToRelease:
    """A work order whose travelers are not all released, with what the release screen shows of it."""

    order: WorkOrder
    released: Decimal
    remaining: Decimal
    routing: object  # the released routing (steps prefetched), or None
    route_difference: str | None


def work_orders_to_release(site_code: str | None = None, limit: int = 200) -> list[OrderToRelease]:
    """Released or running work orders not fully covered by travelers (cancelled ones not counted), by
    due date; each with its part revision's released routing and how the ordered route differs from it.
    A fixed number of queries, whatever the number of orders."""
    covered = Coalesce(
        Sum("items__quantity", filter=~Q(items__status=Item.Status.CANCELLED)),
        Value(Decimal(0)),
        output_field=DecimalField(),
    )
    orders = (
        WorkOrder.objects.filter(status__in=[WorkOrder.Status.RELEASED, WorkOrder.Status.IN_PROGRESS])
        .annotate(released=covered)
        .filter(released__lt=F("quantity"))
        .select_related("site", "part_revision__part")
        .order_by(F("due_date").asc(nulls_last=True), "number")
    )
    if site_code:
        orders = orders.filter(site__code=site_code)
    orders = list(orders[:limit])
    steps = RoutingStep.objects.select_related("operation").order_by("sequence")
    routings = {
        r.part_revision_id: r
        for r in Routing.objects.filter(
            part_revision_id__in={o.part_revision_id for o in orders}, status=RoutingStatus.RELEASED
        ).prefetch_related(Prefetch("steps", queryset=steps))
    }
    return [
        OrderToRelease(
            order=o,
            released=o.released,
            remaining=o.quantity - o.released,
            routing=routings.get(o.part_revision_id),
            route_difference=route_difference(routings.get(o.part_revision_id), o.ordered_operations),
        )
        for o in orders
    ]


def scan_miss_reason(code: str) -> str:
    """Why a scanned code opened nothing, in words the operator can act on."""
    order = WorkOrder.objects.filter(number__iexact=(code or "").strip()).first()
    if order is None:
        return gettext("Nothing is known by “%(code)s”: no traveler, serial, lot or work order.") % {"code": code}
    if order.status == WorkOrder.Status.CANCELLED:
        return gettext("Work order %(wo)s was cancelled: it has no traveler to work.") % {"wo": order.number}
    return gettext(
        "Work order %(wo)s has no traveler yet: a supervisor releases its travelers (Supervisor → Release travelers)."
    ) % {"wo": order.number}


# --- A supervisor's view of one traveler ------------------------------------------------------------------


@dataclass
class SupervisedTraveler:
    """What the supervisor's traveler page shows: the traveler, its route, every hold (open first), and
    the released routing it could be re-planned onto (None when it already follows it, or none is)."""

    traveler: Traveler
    steps: list[TravelerStep]
    holds: list[Hold]
    replan_to: object


def traveler_for_supervisor(number: str) -> SupervisedTraveler:
    """A traveler for the supervisor's actions, in a fixed number of queries whatever its length."""
    try:
        traveler = Traveler.objects.select_related(
            "site", "work_order", "item__part", "item__part_revision", "routing"
        ).get(number=number)
    except Traveler.DoesNotExist:
        raise RecordNotFound(f"there is no traveler {number}", field="number") from None
    steps = list(
        TravelerStep.objects.filter(traveler=traveler)
        .select_related("operation", "work_center", "skip_signature")
        .order_by("sequence")
    )
    holds = sorted(
        Hold.objects.filter(traveler=traveler).select_related(
            "ncr", "placed_by__profile", "released_by__profile", "release_signature"
        ),
        key=lambda h: (h.released_at is not None, h.placed_at, h.pk),
    )
    replan_to = (
        Routing.objects.filter(part_revision_id=traveler.item.part_revision_id, status=RoutingStatus.RELEASED)
        .exclude(pk=traveler.routing_id)
        .first()
    )
    return SupervisedTraveler(traveler=traveler, steps=steps, holds=holds, replan_to=replan_to)
