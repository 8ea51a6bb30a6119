"""Domain errors of traveler execution. Each has a plain message and the field it concerns; the API
maps them to 4xx JSON, pages show them beside the field."""

from __future__ import annotations


class TravelerError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotAuthorized(TravelerError):
    status_code = 403


class TravelerNotOpen(TravelerError):
    """Closed or scrapped: read-only."""

    status_code = 409


class TravelerHeld(TravelerError):
    status_code = 409


class StepOutOfOrder(TravelerError):
    status_code = 409


class StepStateRefused(TravelerError):
    status_code = 409


class MeasurementInvalid(TravelerError):
    status_code = 422


class RecordConflict(TravelerError):
    """Someone else changed the record first (two tablets on one step)."""

    status_code = 409


class SeparationOfDuties(TravelerError):
    status_code = 403


class ComponentRefused(TravelerError):
    status_code = 409


class NonconformanceRefused(TravelerError):
    status_code = 409


class AttachmentRefused(TravelerError):
    status_code = 422


class ReleaseRefused(TravelerError):
    status_code = 409


class WorkOrderStarted(TravelerError):
    """A change or cancellation of a work order whose work has begun: not applied, shown as a conflict."""

    status_code = 409


class TooManyRequests(TravelerError):
    """More holds or NCRs by one person in an hour than any real shift raises (abuse, or a stuck key)."""

    status_code = 429


class WrongWorkCenter(TravelerError):
    """The step belongs to another work center than the station acting on it, and no supervisor allowed it."""

    status_code = 409


class UnknownWorkCenter(TravelerError):
    """A caller said it acts from a work center that does not exist (or is not active)."""

    status_code = 422
