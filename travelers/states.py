"""Allowed transitions of travelers, steps and nonconformances. Services call `transition`; no view
compares status strings."""

from __future__ import annotations

from django.db import models


class TravelerStatus(models.TextChoices):
    ACTIVE = "active", "In work"
    AWAITING_SIGNOFF = "awaiting_signoff", "Awaiting final sign-off"
    CLOSED = "closed", "Closed"
    SCRAPPED = "scrapped", "Scrapped"
    CANCELLED = "cancelled", "Cancelled"  # its work order was cancelled before any step started


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_INSPECTION = "awaiting_inspection", "Awaiting inspection"
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"


class NcrStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Dispositioned"


TRAVELER_ALLOWED: dict[str, set[str]] = {
    TravelerStatus.ACTIVE: {TravelerStatus.AWAITING_SIGNOFF, TravelerStatus.SCRAPPED, TravelerStatus.CANCELLED},
    TravelerStatus.AWAITING_SIGNOFF: {TravelerStatus.CLOSED, TravelerStatus.ACTIVE, TravelerStatus.SCRAPPED},
    TravelerStatus.CLOSED: set(),
    TravelerStatus.SCRAPPED: set(),
    TravelerStatus.CANCELLED: set(),
}

STEP_ALLOWED: dict[str, set[str]] = {
    StepStatus.PENDING: {StepStatus.IN_PROGRESS, StepStatus.SKIPPED},
    StepStatus.IN_PROGRESS: {StepStatus.COMPLETED, StepStatus.AWAITING_INSPECTION, StepStatus.SKIPPED},
    StepStatus.AWAITING_INSPECTION: {StepStatus.COMPLETED},
    StepStatus.COMPLETED: set(),
    StepStatus.SKIPPED: set(),
}

NCR_ALLOWED: dict[str, set[str]] = {NcrStatus.OPEN: {NcrStatus.CLOSED}, NcrStatus.CLOSED: set()}

DONE_STEP_STATES = {StepStatus.COMPLETED, StepStatus.SKIPPED}
OPEN_TRAVELER_STATES = {TravelerStatus.ACTIVE, TravelerStatus.AWAITING_SIGNOFF}


def transition(current: str, target: str, allowed: dict[str, set[str]], what: str) -> str:
    """`target` when the move is allowed, else StepStateRefused naming both states."""
    from travelers.errors import StepStateRefused

    if target not in allowed.get(current, set()):
        raise StepStateRefused(
            f"{what} is {current.replace('_', ' ')}; it cannot become {target.replace('_', ' ')}", field="status"
        )
    return target
