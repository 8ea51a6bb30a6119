"""Optimistic locking of a step: a screen or API client sends the version of the step it showed, and a
service refuses the change when the step has moved on since (another screen changed it)."""

from __future__ import annotations

from django.utils.translation import gettext

from travelers.errors import RecordConflict
from travelers.models import TravelerStep


def check_version(step: TravelerStep, expected_version: int | None) -> None:
    """Refuse (RecordConflict on "version") when `expected_version` is given and is not the step's
    current version. Call it on the step as locked by the service (lock_step), before changing it."""
    if expected_version is not None and expected_version != step.version:
        raise RecordConflict(
            gettext(
                "step %(sequence)s changed on another screen (version %(version)s, yours %(expected_version)s); "
                "reload it and try again"
            )
            % {"sequence": step.sequence, "version": step.version, "expected_version": expected_version},
            field="version",
        )
