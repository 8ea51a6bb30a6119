"""Recording a step's values at once: the tablet saves a step's form in one request."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import HEAD_LOCK
from mes.masterdata.models import WorkCenter
from mes.prepared import Prepared
from travelers.content import current_measurements
from travelers.errors import MeasurementInvalid, RecordConflict, TravelerError
from travelers.models import Measurement, TravelerCharacteristic, TravelerStep

from .common import clock, lock_traveler
from .measurements import NEXT_IDS, build_measurement, lock_step_for_values, raises_ncr, record_writes
from .quality import ncr_raise_for_measurement

MAX_VALUES = 500


@dataclass(frozen=True)
class ValueEntry:
    """One value of a step's form: the characteristic (code or id), what was entered, and how."""

    characteristic: str | int
    value: object
    unit: str = ""
    source: str = Measurement.Source.MANUAL
    attachment_id: int | None = None


def _at(index: int, exc: TravelerError) -> TravelerError:
    """The same error, naming the value of the batch it is about: values[2].unit."""
    exc.field = f"values[{index}].{exc.field or 'value'}"
    return exc


def _by_code_and_id(
    chars: list[TravelerCharacteristic],
) -> tuple[dict[str, TravelerCharacteristic], dict[int, TravelerCharacteristic]]:
    return {c.code: c for c in chars}, {c.pk: c for c in chars}


# A step's characteristics and its values so far (with who recorded them), compiled once (mes.prepared).
STEP_CHARACTERISTICS: Prepared[TravelerCharacteristic] = Prepared(
    lambda step_id: TravelerCharacteristic.objects.filter(step_id=step_id)
)
STEP_VALUES: Prepared[Measurement] = Prepared(
    lambda step_id: Measurement.objects.filter(step_id=step_id).select_related("recorded_by")
)


@transaction.atomic
def measurement_record_batch(
    *,
    step: TravelerStep,
    values: list[ValueEntry],
    actor: User,
    expected_version: int | None = None,
    decimal_comma: bool = False,
    station: WorkCenter | None = None,
) -> list[Measurement]:
    """Record several values of one started step in one transaction, as measurement_record would one by
    one: each judged by the server, audited in the traveler's chain (with its seal) and announced in
    the outbox, in the order given. Every value is checked before anything is written: one bad value
    (unknown characteristic, already recorded, twice in the batch, not a number, wrong unit…) refuses
    the whole batch, its error naming the value (`values[2].unit`). An out-of-spec value on a `hold`
    characteristic holds the traveler and opens its NCR, after all the values are recorded (they were
    entered together, before the hold). A gauge's value is never sent in: only `manual` or `imported`."""
    if not values:
        raise MeasurementInvalid(gettext("send at least one value"), field="values")
    if len(values) > MAX_VALUES:
        raise MeasurementInvalid(
            gettext("send at most %(MAX_VALUES)s values at once") % {"MAX_VALUES": MAX_VALUES}, field="values"
        )
    traveler, step, (chars, recorded_here, heads, ids) = lock_step_for_values(
        step,
        actor,
        expected_version,
        station,
        reads=[  # after the lock, in the same round trip
            STEP_CHARACTERISTICS(step.pk),
            STEP_VALUES(step.pk),
            (HEAD_LOCK, [f"traveler:{step.traveler_id}"]),
            (NEXT_IDS, [len(values)]),
        ],
    )
    by_code, by_id = _by_code_and_id(chars)
    standing = current_measurements(recorded_here)
    recorded = {m.characteristic_id: m for m in standing}
    measurements: list[Measurement] = []
    seen: set[int] = set()
    for index, entry in enumerate(values):
        key = entry.characteristic
        char = by_id.get(key) if isinstance(key, int) else by_code.get(key)
        if char is None:
            missing = MeasurementInvalid(f"step {step.sequence} has no characteristic {key}", field="characteristic")
            raise _at(index, missing)
        if char.pk in seen:
            raise _at(index, MeasurementInvalid(f"{char.name} is given twice", field="characteristic"))
        seen.add(char.pk)
        if char.pk in recorded:
            first = recorded[char.pk]
            raise _at(
                index,
                RecordConflict(
                    f"{char.name} was already recorded as {first.entered_value} {first.entered_unit} by "
                    f"{first.recorded_by.get_full_name() or first.recorded_by.username} at "
                    f"{timezone.localtime(first.recorded_at):%H:%M:%S}; correct it instead",
                    field="characteristic",
                ),
            )
        if entry.source == Measurement.Source.DEVICE:
            raise _at(
                index,
                MeasurementInvalid(
                    gettext(
                        "a gauge's value is read by the server ('read from gauge'), not typed or sent in: record "
                        "it as manual or imported"
                    ),
                    field="source",
                ),
            )
        try:
            m = build_measurement(
                step=step,
                char=char,
                value=entry.value,
                unit=entry.unit,
                source=entry.source,
                device="",
                actor=actor,
                attachment_id=entry.attachment_id,
                at=timezone.now(),  # stamped again below, each after the one before
                supersedes=None,
                reason="",
                device_endpoint="",
                device_raw="",
                decimal_comma=decimal_comma,
            )
        except TravelerError as exc:
            raise _at(index, exc) from None
        measurements.append(m)
    for m, (pk,) in zip(measurements, sorted(ids), strict=True):  # each value a change of its own, stamped
        m.pk, m.recorded_at = pk, clock(traveler)  # after the one before; ids in the order given
    record_writes(traveler, step, measurements, head=heads[0] if heads else None, actor=actor)
    holding = [m for m in measurements if raises_ncr(m, m.characteristic)]
    if holding:
        for m in holding:
            ncr_raise_for_measurement(traveler=traveler, step=step, measurement=m, actor=actor)
            traveler = lock_traveler(traveler.pk)  # the hold moved its version and clock on
    return measurements
