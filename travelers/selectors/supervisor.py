"""A supervisor's view of one traveler: its route, its holds, and the routing it could be re-planned onto."""

from __future__ import annotations

from dataclasses import dataclass

from mes.masterdata.models import Routing
from mes.masterdata.states import RoutingStatus
from travelers.models import Hold, Traveler, TravelerStep
from travelers.selectors.lookups import RecordNotFound


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
