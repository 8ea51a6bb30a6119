"""What a write left behind, for its response: the step, value, hold, NCR, consumption or attachment as
they stand after the service, with what the response shows of them selected."""

from __future__ import annotations

from django.db.models import Prefetch

from mes.compliance.models import Signature
from mes.prepared import Prepared
from travelers.models import Attachment, Consumption, Hold, Measurement, Nonconformance, Traveler, TravelerStep
from travelers.states import NcrStatus


def step_state(step_id: int) -> TravelerStep:
    """A step as it stands now, with its traveler and signatures (after a start, sign or skip)."""
    step = STEP_STATE(step_id).first()
    if step is None:
        raise TravelerStep.DoesNotExist("TravelerStep matching query does not exist.")
    return step


# Compiled once (mes.prepared): every start, signature and skip answers with it.
STEP_STATE: Prepared[TravelerStep] = Prepared(
    lambda step_id: (
        TravelerStep.objects.select_related("traveler", "performed_signature", "inspected_signature", "skip_signature")
        .filter(pk=step_id)
        .order_by()
    )
)


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
