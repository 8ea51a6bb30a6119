"""The board's state from Traveler: rebuilt whole when the store is empty (or behind a restored
database), then kept current from the outbox — each new event names the traveler or work order that
changed; that traveler's row is read again (the database is the truth, the event says where to look)
and the site's "scheduled next" list too when a work order changed. `board_sync` is cheap when nothing
happened (one indexed query), so every board request calls it: a screen polling each second shows an
event within a second of its commit."""

from __future__ import annotations

from django.db.models import Exists, Max, OuterRef, Prefetch

from mes.events.models import OutboxMessage
from mes.masterdata.models import Site
from travelers.models import Traveler, TravelerStep, WorkOrder
from travelers.states import StepStatus, TravelerStatus

from .store import board_store

OPEN = (TravelerStatus.ACTIVE, TravelerStatus.AWAITING_SIGNOFF)
NEXT_COUNT = 6
BATCH = 2000


def _travelers():
    steps = TravelerStep.objects.select_related("work_center", "operation").order_by("sequence")
    return Traveler.objects.select_related("site", "work_order", "item__part").prefetch_related(
        Prefetch("steps", queryset=steps)
    )


def board_row(traveler: Traveler) -> dict | None:
    """The board row of an open traveler (None when it is not open): where it is and in what state."""
    if traveler.status not in OPEN:
        return None
    steps = list(traveler.steps.all())
    current = next((s for s in steps if s.status not in (StepStatus.COMPLETED, StepStatus.SKIPPED)), None)
    where = current or (steps[-1] if steps else None)
    if traveler.on_hold:
        state = "held"
    elif traveler.status == TravelerStatus.AWAITING_SIGNOFF or (
        current and current.status == StepStatus.AWAITING_INSPECTION
    ):
        state = "inspection"
    elif current and current.status == StepStatus.IN_PROGRESS:
        state = "running"
    else:
        state = "waiting"
    return {
        "number": traveler.number,
        "identifier": traveler.item.identifier,
        "part": traveler.item.part.number,
        "work_order": traveler.work_order.number,
        "due": traveler.work_order.due_date.isoformat() if traveler.work_order.due_date else None,
        "state": state,
        "work_center": where.work_center.code if where and where.work_center_id else "",
        "step": f"{where.sequence} {where.title}" if where else "",
        "operation": where.operation.code if where else "",
        "alias": where.operation_alias if where else "",
        "since": (where.started_at or traveler.released_at).isoformat() if where else traveler.released_at.isoformat(),
    }


def scheduled_next(site_code: str) -> list[dict]:
    """The legacy MES's released work orders at the site on which no work has started, soonest due first."""
    started = TravelerStep.objects.filter(traveler__work_order=OuterRef("pk"), started_at__isnull=False)
    orders = (
        WorkOrder.objects.filter(site__code=site_code, status=WorkOrder.Status.RELEASED)
        .exclude(source_system="")
        .filter(~Exists(started))
        .select_related("part_revision__part")
        .order_by("due_date", "number")[:NEXT_COUNT]
    )
    return [
        {
            "number": o.number,
            "part": o.part_revision.part.number,
            "quantity": str(o.quantity.normalize()),
            "due": o.due_date.isoformat() if o.due_date else None,
            "operations": list(o.ordered_operations or []),
        }
        for o in orders
    ]


def _put(store, traveler: Traveler) -> None:
    row = board_row(traveler)
    if row is None:
        store.drop(traveler.site.code, traveler.number)
    else:
        store.put(traveler.site.code, traveler.number, row)


def board_rebuild(store=None) -> int:
    """Everything again from the database; returns the cursor it starts from."""
    store = store or board_store()
    cursor = OutboxMessage.objects.aggregate(m=Max("id"))["m"] or 0  # before reading: nothing is missed
    store.clear()
    for traveler in _travelers().filter(status__in=OPEN):
        _put(store, traveler)

    for code in Site.objects.values_list("code", flat=True):
        store.set_next(code, scheduled_next(code))
    store.set_cursor(cursor)
    return cursor


def board_sync(store=None) -> int:
    """Apply the events after the store's cursor; returns how many were applied."""
    store = store or board_store()
    with store.locked():
        cursor = store.get_cursor()
        if cursor is None:
            board_rebuild(store)
            return 0
        events = list(
            OutboxMessage.objects.filter(id__gt=cursor)
            .order_by("id")
            .values_list("id", "aggregate_type", "aggregate_id", "site_code")[:BATCH]
        )
        if not events:
            if cursor > (OutboxMessage.objects.aggregate(m=Max("id"))["m"] or 0):
                board_rebuild(store)  # the database went back (a restore): start again
            return 0
        travelers = {aggregate_id for _, kind, aggregate_id, _ in events if kind == "traveler"}
        sites = {site for _, kind, _, site in events if site}
        for traveler in _travelers().filter(number__in=travelers):
            _put(store, traveler)
        for site in sites:
            store.set_next(site, scheduled_next(site))
        store.set_cursor(events[-1][0])
        return len(events)
