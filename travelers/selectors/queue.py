"""A work center's queue: the open travelers waiting at it or in work there, each with its step there."""

from __future__ import annotations

from django.db.models import F, Prefetch
from django.utils.translation import gettext

from mes.masterdata.models import WorkCenter
from travelers.models import Traveler, TravelerStep
from travelers.selectors.lookups import RecordNotFound
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, StepStatus


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
