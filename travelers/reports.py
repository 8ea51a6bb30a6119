"""Reads for the quality, print and supervisor screens. Like travelers.selectors, each function does its
own select_related/prefetch_related, so the templates that render the result fire no query; each
returns in a fixed number of queries whatever the number of steps, values or travelers."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Max, Q, Value, When
from django.utils.translation import gettext

from mes.compliance.models import Signature
from mes.masterdata.models import Operation, WorkCenter
from travelers import selectors
from travelers.models import Hold, Measurement, Nonconformance, Traveler, TravelerStep
from travelers.selectors.lookups import RecordNotFound
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, NcrStatus, StepStatus, TravelerStatus

__all__ = [
    "RecordNotFound",
    "WipRow",
    "ncr_for_disposition",
    "ncr_queue",
    "open_holds",
    "rework_choices",
    "signatures_of",
    "signoff_queue",
    "spc_characteristics",
    "spc_series",
    "traveler_for_record",
    "wip_by_work_center",
]


# --- Quality ---------------------------------------------------------------------------------------------


def signoff_queue() -> list[Traveler]:
    """Travelers whose every step is done, awaiting final quality approval; oldest first. Each carries
    `open_ncr_count` and `open_hold_count` (either blocks the sign-off)."""
    return list(
        Traveler.objects.filter(status=TravelerStatus.AWAITING_SIGNOFF)
        .select_related("site", "work_order", "item__part", "item__part_revision")
        .annotate(
            open_ncr_count=Count("ncrs", filter=Q(ncrs__status=NcrStatus.OPEN), distinct=True),
            open_hold_count=Count("holds", filter=Q(holds__released_at__isnull=True), distinct=True),
        )
        .order_by("completed_at", "number")
    )


def ncr_queue() -> list[Nonconformance]:
    """Nonconformances awaiting a disposition, oldest first."""
    return list(
        Nonconformance.objects.filter(status=NcrStatus.OPEN)
        .select_related(
            "traveler__site", "traveler__item__part", "traveler__item__part_revision", "step", "raised_by__profile"
        )
        .order_by("raised_at", "number")
    )


def traveler_for_record(number: str) -> tuple[Traveler, list[Signature]]:
    """A whole traveler as travelers.selectors.traveler_detail loads it (steps, specs, every value,
    signatures, attachments, holds, NCRs, consumed components), plus the signatures made on the
    traveler itself (approval, rejection, re-plan), which no foreign key points to."""
    traveler = selectors.traveler_detail(number)
    on_traveler = list(
        Signature.objects.filter(record_type="travelers.traveler", record_id=str(traveler.pk)).order_by(
            "signed_at", "id"
        )
    )
    return traveler, on_traveler


def signatures_of(signature_ids) -> list[Signature]:
    """Signatures by id, in signing order (for verifying what a record lists)."""
    return list(Signature.objects.filter(pk__in=list(signature_ids)).order_by("signed_at", "id"))


def ncr_for_disposition(number: str) -> Nonconformance:
    try:
        return Nonconformance.objects.select_related(
            "traveler__site",
            "traveler__item__part",
            "traveler__item__part_revision",
            "step__work_center",
            "measurement__characteristic",
            "raised_by__profile",
            "disposition_signature",
            "mrb_signature",
        ).get(number=number)
    except Nonconformance.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no nonconformance %(number)s") % {"number": number}, field="number"
        ) from None


def rework_choices(site_id: int) -> tuple[list[Operation], list[WorkCenter]]:
    """What a rework step may be: any canonical operation, at an active work center of the site."""
    return list(Operation.objects.order_by("code")), list(
        WorkCenter.objects.filter(site_id=site_id, active=True).order_by("code")
    )


# --- Supervisor ------------------------------------------------------------------------------------------


@dataclass
class WipRow:
    """Open travelers at one work center, counted by the state of the step they are at."""

    site_code: str
    work_center_id: int | None
    work_center_code: str
    work_center_name: str
    counts: dict[str, int] = field(default_factory=dict)
    held: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.held


WIP_COLUMNS = (StepStatus.PENDING, StepStatus.IN_PROGRESS, StepStatus.AWAITING_INSPECTION)


def wip_by_work_center() -> tuple[list[WipRow], WipRow]:
    """Where the open travelers are: each at the step it is working on (one in progress or awaiting
    inspection), else its first open step. Counted per work center and that step's state, held travelers
    apart. The second value counts travelers with every step done, awaiting final sign-off. Two queries.
    """
    steps = (
        TravelerStep.objects.filter(traveler__status=TravelerStatus.ACTIVE)
        .exclude(status__in=DONE_STEP_STATES)
        .annotate(
            working=Case(
                When(status__in=[StepStatus.IN_PROGRESS, StepStatus.AWAITING_INSPECTION], then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("traveler_id", "working", "sequence")
        .distinct("traveler_id")
        .values(
            "traveler_id",
            "status",
            "traveler__on_hold",
            "traveler__site__code",
            "work_center_id",
            "work_center__code",
            "work_center__name",
        )
    )
    rows: dict[tuple, WipRow] = {}
    for s in steps:
        key = (s["traveler__site__code"], s["work_center_id"])
        row = rows.get(key)
        if row is None:
            row = rows[key] = WipRow(
                site_code=s["traveler__site__code"],
                work_center_id=s["work_center_id"],
                work_center_code=s["work_center__code"] or "",
                work_center_name=s["work_center__name"] or "",
                counts={status: 0 for status in WIP_COLUMNS},
            )
        if s["traveler__on_hold"]:
            row.held += 1
        else:
            row.counts[s["status"]] = row.counts.get(s["status"], 0) + 1
    awaiting = WipRow(site_code="", work_center_id=None, work_center_code="", work_center_name="")
    for on_hold, n in (
        Traveler.objects.filter(status=TravelerStatus.AWAITING_SIGNOFF)
        .values_list("on_hold")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        if on_hold:
            awaiting.held += n
        else:
            awaiting.counts[TravelerStatus.AWAITING_SIGNOFF] = n
    ordered = sorted(rows.values(), key=lambda r: (r.site_code, r.work_center_id is None, r.work_center_code))
    return ordered, awaiting


def open_holds() -> list[Hold]:
    """Every hold not yet released, oldest first, with its traveler, item and NCR."""
    return list(
        Hold.objects.filter(released_at__isnull=True, traveler__status__in=OPEN_TRAVELER_STATES)
        .select_related(
            "traveler__site", "traveler__item__part", "traveler__item__part_revision", "ncr", "placed_by__profile"
        )
        .order_by("placed_at", "id")
    )


def spc_characteristics() -> list[dict]:
    """Each numeric characteristic that has values, by part and characteristic code: the number of
    current (not superseded) values, its latest name and unit, and when the last was recorded. One query."""
    return list(
        Measurement.objects.filter(
            characteristic__kind="numeric", value_numeric__isnull=False, superseded_by__isnull=True
        )
        .values("step__traveler__item__part__number", "step__traveler__item__part__name", "characteristic__code")
        .annotate(count=Count("pk"), last_recorded_at=Max("recorded_at"), name=Max("characteristic__name"))
        .order_by("step__traveler__item__part__number", "characteristic__code")
    )


def spc_series(part_number: str, code: str, *, last: int = 100) -> list[Measurement]:
    """The current values of one characteristic of one part, in the order they were recorded (the
    newest `last` of them), each with its step and traveler. Superseded values are left out: a
    correction replaces what it corrects."""
    rows = list(
        Measurement.objects.filter(
            step__traveler__item__part__number=part_number,
            characteristic__code=code,
            characteristic__kind="numeric",
            value_numeric__isnull=False,
            superseded_by__isnull=True,
        )
        .select_related("step__traveler", "characteristic", "recorded_by__profile")
        .order_by("-recorded_at", "-id")[:last]
    )
    rows.reverse()
    return rows
