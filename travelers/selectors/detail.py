"""A whole traveler, for the API and the record: everything a screen or a copy shows of it, in a fixed
number of queries whatever the number of steps."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
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


# The rows of a whole traveler, each kind with what is shown of it and in its order: traveler_detail
# prefetches them; the archive (integrations.archive.reads) reads the same shapes in one round trip.
def traveler_rows() -> QuerySet[Traveler]:
    return Traveler.objects.select_related(
        "site",
        "work_order",
        "item__part",
        "item__part_revision",
        "routing",
        "final_signature",
        "released_by__profile",
    )


def step_rows() -> QuerySet[TravelerStep]:
    return TravelerStep.objects.select_related(
        "operation",
        "work_center",
        "performed_signature",
        "inspected_signature",
        "skip_signature",
        "started_by__profile",
        "ncr",
    ).order_by("sequence")


def characteristic_rows() -> QuerySet[TravelerCharacteristic]:
    return TravelerCharacteristic.objects.order_by("sequence", "id")


def measurement_rows() -> QuerySet[Measurement]:
    return Measurement.objects.select_related(
        "characteristic", "recorded_by__profile", "correction_signature", "cosignature"
    ).order_by("characteristic__sequence", "characteristic_id", "recorded_at", "id")


def attachment_rows() -> QuerySet[Attachment]:
    return Attachment.objects.select_related("uploaded_by__profile", "ncr")  # in its default ordering


def hold_rows() -> QuerySet[Hold]:
    return Hold.objects.select_related(
        "ncr", "placed_by__profile", "released_by__profile", "release_signature"
    ).order_by("placed_at", "id")


def ncr_rows() -> QuerySet[Nonconformance]:
    return Nonconformance.objects.select_related(
        "step", "raised_by__profile", "disposition_signature", "mrb_signature"
    ).order_by("number")


def consumption_rows() -> QuerySet[Consumption]:
    return Consumption.objects.select_related(
        "step", "component__part", "consumed_by__profile", "removed_by__profile", "removal_signature"
    ).order_by("consumed_at", "id")


def traveler_detail(number: str) -> Traveler:
    """A traveler with everything a screen or a copy shows, in a fixed number of queries whatever the
    number of steps: steps, their specs, every value (current and superseded), signatures,
    attachments, holds, NCRs and consumed components.

    Prefetched lists: `traveler.steps.all()`, and on each step `characteristics.all()`,
    `measurements.all()`, `attachments.all()`; `traveler.holds.all()`, `traveler.ncrs.all()`,
    `traveler.consumptions.all()`."""
    steps = step_rows().prefetch_related(
        Prefetch("characteristics", queryset=characteristic_rows()),
        Prefetch("measurements", queryset=measurement_rows()),
        Prefetch("attachments", queryset=attachment_rows()),
    )
    queryset = traveler_rows().prefetch_related(
        Prefetch("steps", queryset=steps),
        Prefetch("holds", queryset=hold_rows()),
        Prefetch("ncrs", queryset=ncr_rows()),
        Prefetch("consumptions", queryset=consumption_rows()),
    )
    try:
        return queryset.get(number=number)
    except Traveler.DoesNotExist:
        raise RecordNotFound(gettext("there is no traveler %(number)s") % {"number": number}, field="number") from None
