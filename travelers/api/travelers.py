"""Endpoints of travelers as a whole: the queue at a work center, a whole traveler, and releasing one
for a work order."""

from __future__ import annotations

from ninja import Router, Status

from travelers import services
from travelers.api.actors import actor_of, require_view
from travelers.api.outputs import part_ref, traveler_out
from travelers.api.schemas import ERRORS, CurrentStepOut, QueueEntryOut, QueueOut, ReleaseIn, TravelerOut, WorkCenterRef
from travelers.selectors.detail import traveler_detail
from travelers.selectors.lookups import work_order_by_number
from travelers.selectors.queue import work_center_queue

router = Router()


# --- Reads ------------------------------------------------------------------------------------------------


@router.get(
    "/work-centers/{site}/{code}/travelers",
    response={200: QueueOut, **ERRORS},
    operation_id="travelers_api_work_center_travelers",
)
def work_center_travelers(request, site: str, code: str):
    """Travelers waiting at or in work at a work center, by due date: each with its step there
    (one in progress or awaiting inspection, else a pending step that may start now)."""
    require_view(request)
    work_center, queue = work_center_queue(site, code)
    return QueueOut(
        work_center=WorkCenterRef(site=work_center.site.code, code=work_center.code, name=work_center.name),
        travelers=[
            QueueEntryOut(
                number=t.number,
                serial_or_lot=t.item.identifier,
                tracking=t.item.tracking,
                part=part_ref(t.item),
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


@router.get("/travelers/{number}", response={200: TravelerOut, **ERRORS}, operation_id="travelers_api_traveler_get")
def traveler_get(request, number: str):
    """A whole traveler: steps with their specs, every value (current and superseded), signatures,
    attachments, holds, NCRs, consumed components and version numbers."""
    require_view(request)
    return traveler_out(traveler_detail(number))


# --- Release ------------------------------------------------------------------------------------------------


@router.post(
    "/work-orders/{number}/travelers",
    response={201: TravelerOut, **ERRORS},
    operation_id="travelers_api_traveler_release",
)
def traveler_release(request, number: str, payload: ReleaseIn):
    """Release a traveler for a new unit (serial) or lot of a work order, on the released routing."""
    work_order = work_order_by_number(number)
    traveler = services.traveler_release(
        work_order=work_order, identifier=payload.identifier, quantity=payload.quantity, actor=actor_of(request)
    )
    return Status(201, traveler_out(traveler_detail(traveler.number)))
