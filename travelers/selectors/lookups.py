"""Single records by what a client names them (a traveler's number, a step's sequence, an id), for the
services to act on; and RecordNotFound, what every selector raises when the record named is not there."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext

from mes.prepared import Prepared
from travelers.models import Consumption, Hold, Measurement, Nonconformance, Traveler, TravelerStep, WorkOrder


class RecordNotFound(ObjectDoesNotExist):
    """What was asked for does not exist; a plain message and the field (path parameter) naming it."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


# --- Single records, for the services to act on ---------------------------------------------------------


def traveler_by_number(number: str) -> Traveler:
    try:
        return Traveler.objects.select_related("site").get(number=number)
    except Traveler.DoesNotExist:
        raise RecordNotFound(gettext("there is no traveler %(number)s") % {"number": number}, field="number") from None


STEP_BY_SEQUENCE: Prepared[TravelerStep] = Prepared(
    lambda number, sequence: (
        TravelerStep.objects.select_related("traveler")
        .filter(traveler__number=number, sequence=sequence)
        .order_by()[:1]
    )  # (traveler, sequence) is unique
)


def step_by_sequence(number: str, sequence: int) -> TravelerStep:
    step = STEP_BY_SEQUENCE(number, sequence).first()
    if step is None:
        traveler_by_number(number)  # names the traveler when that is what is missing
        raise RecordNotFound(
            gettext("traveler %(number)s has no step %(sequence)s") % {"number": number, "sequence": sequence},
            field="sequence",
        )
    return step


# Compiled once (mes.prepared): every request on a step by its traveler's number and sequence starts here.
STEP_REF: Prepared[TravelerStep] = Prepared(
    lambda number, sequence: (
        TravelerStep.objects.only("id", "traveler_id").filter(traveler__number=number, sequence=sequence).order_by()[:1]
    )  # (traveler, sequence) is unique
)


def step_ref(number: str, sequence: int) -> TravelerStep:
    """A step's id and its traveler's, nothing more: for a service that locks and reads the step itself."""
    step = STEP_REF(number, sequence).first()
    if step is None:
        traveler_by_number(number)  # names the traveler when that is what is missing
        raise RecordNotFound(
            gettext("traveler %(number)s has no step %(sequence)s") % {"number": number, "sequence": sequence},
            field="sequence",
        )
    return step


def measurement_by_id(measurement_id: int) -> Measurement:
    try:
        return Measurement.objects.select_related("step__traveler").get(pk=measurement_id)
    except Measurement.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no measurement %(measurement_id)s") % {"measurement_id": measurement_id}, field="id"
        ) from None


def hold_by_id(hold_id: int) -> Hold:
    try:
        return Hold.objects.select_related("traveler").get(pk=hold_id)
    except Hold.DoesNotExist:
        raise RecordNotFound(gettext("there is no hold %(hold_id)s") % {"hold_id": hold_id}, field="id") from None


def ncr_by_number(number: str) -> Nonconformance:
    try:
        return Nonconformance.objects.select_related("traveler").get(number=number)
    except Nonconformance.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no nonconformance %(number)s") % {"number": number}, field="number"
        ) from None


def consumption_by_id(consumption_id: int) -> Consumption:
    try:
        return Consumption.objects.select_related("traveler").get(pk=consumption_id)
    except Consumption.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no component consumption %(consumption_id)s") % {"consumption_id": consumption_id},
            field="id",
        ) from None


def work_order_by_number(number: str) -> WorkOrder:
    try:
        return WorkOrder.objects.select_related("site", "part_revision__part").get(number=number)
    except WorkOrder.DoesNotExist:
        raise RecordNotFound(
            gettext("there is no work order %(number)s") % {"number": number}, field="number"
        ) from None
