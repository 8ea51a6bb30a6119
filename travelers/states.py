"""Allowed transitions of travelers, steps and nonconformances. Services call `transition`; no view
compares status strings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from travelers.errors import StepStateRefused


class TravelerStatus(models.TextChoices):
    ACTIVE = "active", _("In work")
    AWAITING_SIGNOFF = "awaiting_signoff", _("Awaiting final sign-off")
    CLOSED = "closed", _("Closed")
    SCRAPPED = "scrapped", _("Scrapped")
    CANCELLED = "cancelled", _("Cancelled")  # its work order was cancelled before any step started


class StepStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_INSPECTION = "awaiting_inspection", _("Awaiting inspection")
    COMPLETED = "completed", _("Completed")
    SKIPPED = "skipped", _("Skipped")


class NcrStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Dispositioned")


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


def status_label(code: str) -> str:
    """The label of a traveler, step or NCR state, in the reader's language."""
    for states in (StepStatus, TravelerStatus, NcrStatus):
        if code in states.values:
            return str(states(code).label)
    return code


def transition(current: str, target: str, allowed: dict[str, set[str]], what: str) -> str:
    """`target` when the move is allowed, else StepStateRefused naming both states."""
    if target not in allowed.get(current, set()):
        raise StepStateRefused(
            gettext("%(what)s is %(status)s; it cannot become %(target)s")
            % {"what": what, "status": status_label(current).lower(), "target": status_label(target).lower()},
            field="status",
        )
    return target
