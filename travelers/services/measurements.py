"""Recording values: one at a time (measurement_record), and what recording a step's values at once
(measurement_batch) shares with it — judging a value, locking the step, writing the values with their
audit events and outbox messages. Correcting a value is in corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import HEAD_LOCK, record_seal
from mes.masterdata.models import Characteristic, WorkCenter
from mes.prepared import Bound, Prepared
from travelers.content import current_measurements, measurement_content
from travelers.errors import MeasurementInvalid, RecordConflict, StepStateRefused
from travelers.judging import judge
from travelers.models import Attachment, Measurement, Traveler, TravelerCharacteristic, TravelerStep
from travelers.states import StepStatus

from .common import (
    bump_statement,
    clock,
    ensure_not_held,
    events_of,
    insert_statement,
    lock_step_and_read,
    require_perm,
    write_change,
)
from .quality import ncr_raise_for_measurement
from .stations import work_center_check
from .versions import check_version

SOURCES = {choice for choice, _ in Measurement.Source.choices}

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _HasValue(TypedDict):
    has_value: bool


@dataclass(frozen=True)
class DeviceReading:
    """A value the server itself read from a gauge (integrations.gauges): the one way a value is recorded
    with source "device" (21 CFR 11.10(h)). A value typed or sent in is never a device reading."""

    device: str  # the gauge's node id
    endpoint: str
    raw: str = ""  # the value exactly as the gauge sent it, before scaling and rounding


def _characteristic_of(step_id: int, key: int | str) -> QuerySet[WithAnnotations[TravelerCharacteristic, _HasValue]]:
    """The step's characteristic (by id or code), with `has_value`: whether any value was recorded for it at
    the step (a corrected value always has a current successor, so any value at all means one stands)."""
    lookup = {"pk": key} if isinstance(key, int) else {"code": key}
    recorded = Measurement.objects.filter(step_id=step_id, characteristic=OuterRef("pk"))
    return (
        TravelerCharacteristic.objects.annotate(has_value=Exists(recorded)).filter(step_id=step_id, **lookup).order_by()
    )


CHARACTERISTIC_OF: Prepared[TravelerCharacteristic] = Prepared(_characteristic_of)


def _key(characteristic: TravelerCharacteristic | int | str) -> int | str:
    return characteristic.pk if isinstance(characteristic, TravelerCharacteristic) else characteristic


def _no_characteristic(step: TravelerStep, key: int | str) -> MeasurementInvalid:
    return MeasurementInvalid(
        gettext("step %(sequence)s has no characteristic %(key)s") % {"sequence": step.sequence, "key": key},
        field="characteristic",
    )


def _attachment(step: TravelerStep, attachment_id: int | None) -> Attachment:
    if attachment_id is None:
        raise MeasurementInvalid(gettext("attach a photo or file first"), field="attachment")
    attachment = Attachment.objects.filter(pk=attachment_id, step=step).first()
    if attachment is None:
        raise MeasurementInvalid(
            gettext("attachment %(attachment_id)s does not belong to this step") % {"attachment_id": attachment_id},
            field="attachment",
        )
    return attachment


def raises_ncr(m: Measurement, char: TravelerCharacteristic) -> bool:
    """Whether recording `m` raises an NCR and holds the traveler: an out-of-spec value of a characteristic
    whose rule is to hold (the other rule, "flag", only marks the value)."""
    return m.judgment == Measurement.Judgment.OUT_OF_SPEC and char.on_out_of_spec == Characteristic.OnOutOfSpec.HOLD


def build_measurement(
    *,
    step: TravelerStep,
    char: TravelerCharacteristic,
    value: object,
    unit: str,
    source: str,
    device: str,
    actor: User,
    attachment_id: int | None,
    at: dt.datetime,
    supersedes: Measurement | None,
    reason: str,
    device_endpoint: str = "",
    device_raw: str = "",
    decimal_comma: bool = False,
) -> Measurement:
    """A judged value, not saved yet. `decimal_comma`: typed on a screen that writes decimals with a comma."""
    if source not in SOURCES:
        raise MeasurementInvalid(
            gettext("source must be one of %(join)s") % {"join": ", ".join(sorted(SOURCES))}, field="source"
        )
    result = judge(char, str(value) if value is not None else "", unit or "", decimal_comma=decimal_comma)
    attachment = _attachment(step, attachment_id) if char.kind == "attachment" else None
    return Measurement(
        step=step,
        characteristic=char,
        entered_value=str(value).strip()[:500],
        entered_unit=result.entered_unit,
        value_numeric=result.value_numeric,
        value_text=result.value_text,
        value_bool=result.value_bool,
        attachment=attachment,
        judgment=result.judgment,
        deviation=result.deviation,
        spec_revision=char.spec_revision,
        spec_unit=char.unit,
        spec_lower=char.lower_limit,
        spec_upper=char.upper_limit,
        spec_nominal=char.nominal,
        source=source,
        device=device or "",
        device_endpoint=device_endpoint or "",
        device_raw=device_raw or "",
        recorded_at=at,
        recorded_by=actor,
        supersedes=supersedes,
        correction_reason=reason,
    )


def _gauge(m: Measurement) -> dict | None:
    """Which gauge gave a device reading (endpoint and node) and what it sent before scaling and rounding."""
    if not m.device_endpoint:
        return None
    char = m.characteristic
    return {
        "endpoint": m.device_endpoint,
        "node": m.device,
        "raw_value": m.device_raw or None,
        "raw_unit": char.device_unit or char.unit or None,
        "scale": char.device_scale if char.device_scale is not None else None,
    }


def value_data(m: Measurement) -> dict:
    return {
        "value": {
            "characteristic": m.characteristic.code,
            "name": m.characteristic.name,
            "value": m.value_numeric if m.value_numeric is not None else (m.value_text or None),
            "unit": m.spec_unit or None,
            "entered_value": m.entered_value,
            "entered_unit": m.entered_unit or None,
            "judgment": m.judgment,
            "deviation": m.deviation,
            "lower_limit": m.spec_lower,
            "upper_limit": m.spec_upper,
            "source": m.source,
            "device": m.device or None,
            "gauge": _gauge(m),
            "recorded_at": m.recorded_at,
            "supersedes": str(m.supersedes_id) if m.supersedes_id else None,
        }
    }


# The ids of values about to be recorded, drawn in the round trip that locks the step: the audit event of
# a value seals its content, id included, before the value is written with the rest of the change.
NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('travelers_measurement', 'id')) FROM generate_series(1, %s)"


def lock_step_for_values(
    step: TravelerStep,
    actor: User,
    expected_version: int | None,
    station: WorkCenter | None = None,
    *,
    reads: Sequence[Bound[Any] | tuple[str, list]] = (),
) -> tuple[Traveler, TravelerStep, list[list]]:
    """Lock the step and its traveler for recording values: the actor may, the traveler is not held, the
    step is the version the caller saw, may be worked at `station` (the work center the caller acts from,
    if it says) and is in progress. `reads` are read in the same round trip, after the lock (common.
    lock_step_and_read). Returns (traveler, step, what each read gave)."""
    traveler, step, results = lock_step_and_read(step.pk, step.traveler_id, *reads)
    require_perm(actor, "perform_step", "record values")
    ensure_not_held(traveler)
    check_version(step, expected_version)
    work_center_check(step, station)
    if step.status != StepStatus.IN_PROGRESS:
        raise StepStateRefused(
            gettext("step %(sequence)s is %(status)s: values are recorded while it is in progress")
            % {"sequence": step.sequence, "status": step.get_status_display().lower()},
            field="step",
        )
    return traveler, step, results


def record_writes(
    traveler: Traveler,
    step: TravelerStep,
    measurements: list[Measurement],
    *,
    head: tuple[int, str] | None,
    actor: User,
) -> None:
    """Write recorded values (their ids drawn, NEXT_IDS) with everything that goes with them, in one round
    trip and in this order, as measurement_record did statement by statement: the values; the traveler's
    and step's versions; an audit event each in the traveler's chain (sealing the value's content),
    numbered and linked after `head` — read under the chain head's lock (audit.HEAD_LOCK) in this
    transaction, or None to lock it now — and the head moved over them one event at a time; an outbox
    message each."""
    moved = bump_statement(traveler, step)
    entries = [
        {
            "action": "measurement.recorded",
            "object_type": "travelers.measurement",
            "object_id": m.pk,
            "changes": {
                m.characteristic.code: [None, f"{m.entered_value} {m.entered_unit}".strip()],
                "judgment": [None, m.judgment],
            },
            "seal": record_seal(measurement_content(m)),
        }
        for m in measurements
    ]
    messages = events_of(traveler, "measurement.recorded", [value_data(m) for m in measurements], step=step)
    write_change(
        traveler,
        head=head,
        actor=actor,
        statements=[insert_statement(measurements), moved],
        entries=entries,
        messages=messages,
        written=measurements,
    )


@transaction.atomic
def measurement_record(
    *,
    step: TravelerStep,
    characteristic: TravelerCharacteristic | int | str,
    value: object,
    actor: User,
    unit: str = "",
    source: str = "manual",
    device: str = "",
    attachment_id: int | None = None,
    expected_version: int | None = None,
    reading: DeviceReading | None = None,
    station: WorkCenter | None = None,
    decimal_comma: bool = False,
) -> Measurement:
    """Record one value at a started step. The server judges it; out of spec does what the
    characteristic says (hold + NCR, or a warning). A characteristic that already has a value
    refuses a second one with a conflict: that is a correction, which must be signed. Only the server's
    own gauge read (`reading`) records a value as from a device. Its queries: the lock, the
    characteristic, the chain's head and the value's id in one round trip; the writes in another."""
    if reading is not None:
        source, device = Measurement.Source.DEVICE, reading.device
    elif source == Measurement.Source.DEVICE:
        raise MeasurementInvalid(
            gettext(
                "a gauge's value is read by the server ('read from gauge'), not typed or sent in: record it as "
                "manual or imported"
            ),
            field="source",
        )
    traveler, step, (chars, heads, ids) = lock_step_for_values(
        step,
        actor,
        expected_version,
        station,
        reads=[
            CHARACTERISTIC_OF(step.pk, _key(characteristic)),
            (HEAD_LOCK, [f"traveler:{step.traveler_id}"]),
            (NEXT_IDS, [1]),
        ],
    )
    if not chars:
        raise _no_characteristic(step, _key(characteristic))
    char = chars[0]
    existing = char.has_value and current_measurements(
        list(step.measurements.filter(characteristic=char).select_related("recorded_by"))
    )
    if existing:
        first = existing[0]
        raise RecordConflict(
            gettext(
                "%(name)s was already recorded as %(entered_value)s %(entered_unit)s by %(value)s at %(localtime)s; "
                "correct it instead"
            )
            % {
                "name": char.name,
                "entered_value": first.entered_value,
                "entered_unit": first.entered_unit,
                "value": first.recorded_by.get_full_name() or first.recorded_by.username,
                "localtime": format(timezone.localtime(first.recorded_at), "%H:%M:%S"),
            },
            field="characteristic",
        )
    m = build_measurement(
        step=step,
        char=char,
        value=value,
        unit=unit,
        source=source,
        device=device,
        actor=actor,
        attachment_id=attachment_id,
        at=clock(traveler),
        supersedes=None,
        reason="",
        device_endpoint=reading.endpoint if reading else "",
        device_raw=reading.raw if reading else "",
        decimal_comma=decimal_comma,
    )
    m.pk = ids[0][0]
    record_writes(traveler, step, [m], head=heads[0] if heads else None, actor=actor)
    if raises_ncr(m, char):
        ncr_raise_for_measurement(traveler=traveler, step=step, measurement=m, actor=actor)
    return m
