"""Reads of the shop-floor station (tablets): who a badge names, where a tablet may stand, what a scanned
code opens (or why it opens nothing), the traveler and step a tablet shows, and the files and
characteristics of a step."""

from __future__ import annotations

from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils.translation import gettext

from mes.compliance.models import Profile, Signature, SigningCredential
from mes.masterdata.models import StepAttachment, WorkCenter
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
from travelers.selectors.lookups import RecordNotFound
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, StepStatus


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
