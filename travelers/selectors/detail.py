"""A whole traveler, for the API and the record: everything a screen or a copy shows of it, in a fixed
number of queries whatever the number of steps."""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils.translation import gettext

from travelers.models import (
    Attachment,
    Consumption,
    Hold,
    Measurement,
    Nonconformance,
    Traveler,
    TravelerCharacteristic,
    TravelerStep,
)
from travelers.selectors.lookups import RecordNotFound


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
