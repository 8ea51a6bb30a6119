"""Reads of work orders and their route: the released routing of a part revision, how an ordered route
differs from it, what an order's travelers cover, and the orders still to release."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import DecimalField, F, Prefetch, Q, Sum, Value
from django.db.models.functions import Coalesce

from mes.masterdata.models import Routing, RoutingStep
from mes.masterdata.states import RoutingStatus
from travelers.models import Item, Traveler, TravelerStep, WorkOrder
from travelers.states import StepStatus, TravelerStatus


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
