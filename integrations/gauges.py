"""Reading a value from a gauge into a traveler: the tablet's "read from gauge" button.

The characteristic (copied into the traveler at release) names its gauge: device_endpoint, device_node,
device_unit (what the gauge reports in) and device_scale (counts -> device unit). The reading is scaled
and recorded through the traveler service with source="device", the node id as the device, and the
gauge's unit as the entered unit: the measurement keeps what the gauge said (entered value and unit)
beside the value converted to the characteristic's unit with pint (mes.masterdata.units, in the
service's judging) — so it is judged, audited and emitted like any value. The conversion is checked
here first, so a gauge in a unit that cannot convert is named as such. The gauge is read before the
traveler is locked: a slow gauge never holds a traveler's lock."""

from __future__ import annotations

from decimal import Decimal

from mes.masterdata.errors import InvalidUnit
from mes.masterdata.units import convert
from travelers.errors import MeasurementInvalid, NotAuthorized, TravelerError
from travelers.models import Measurement, TravelerCharacteristic
from travelers.services import measurement_record
from travelers.services.measurements import DeviceReading

from .adapters.opcua import DEFAULT_TIMEOUT, GaugeReadFailed, read_value
from .models import Adapter


class GaugeUnreachable(TravelerError):
    """The gauge did not answer, or answered with no usable value: say so, let the operator type it."""

    status_code = 503


class GaugeNotConfigured(MeasurementInvalid):
    """The characteristic names no gauge."""


def _timeout() -> float:
    adapter = Adapter.objects.filter(kind=Adapter.Kind.OPCUA, enabled=True).order_by("pk").first()
    return float(adapter.settings.get("timeout", DEFAULT_TIMEOUT)) if adapter else DEFAULT_TIMEOUT


def _endpoint(char: TravelerCharacteristic) -> str:
    if char.device_endpoint:
        return char.device_endpoint
    adapter = Adapter.objects.filter(kind=Adapter.Kind.OPCUA, enabled=True).order_by("pk").first()
    return (adapter.settings.get("endpoint", "") if adapter else "") or ""


def device_value(char: TravelerCharacteristic, raw: Decimal) -> tuple[Decimal, str, Decimal]:
    """(reading scaled into the gauge's unit, that unit, the same in the characteristic's unit)."""
    value = raw * (char.device_scale if char.device_scale is not None else Decimal(1))
    unit = char.device_unit or char.unit
    try:
        in_spec_unit = convert(value, unit, char.unit, field="device_unit") if unit and char.unit else value
    except InvalidUnit as exc:
        raise GaugeNotConfigured(
            f"the gauge of {char.name} reports in '{unit}', which cannot be converted to {char.unit}",
            field="device_unit",
        ) from exc
    return value, unit, in_spec_unit


def gauge_read(*, step, characteristic_code: str, actor) -> Measurement:
    """Read the characteristic's gauge and record the value at the step (a started step, as by hand)."""
    if actor is None or not actor.is_authenticated or not actor.has_perm("travelers.perform_step"):
        raise NotAuthorized(f"{getattr(actor, 'username', 'anonymous')} is not allowed to record values", field="actor")
    char = TravelerCharacteristic.objects.filter(step=step, code=characteristic_code).first()
    if char is None:
        raise MeasurementInvalid(
            f"step {step.sequence} has no characteristic {characteristic_code}", field="characteristic"
        )
    endpoint = _endpoint(char)
    if not char.device_node or not endpoint:
        raise GaugeNotConfigured(f"{char.name} is not read from a gauge: enter the value", field="characteristic")
    if char.kind != "numeric":
        raise GaugeNotConfigured(f"{char.name} is not a numeric value: a gauge cannot read it", field="characteristic")
    device_value(char, Decimal(1))  # a unit that cannot convert is refused before the gauge is asked
    try:
        reading = read_value(endpoint, char.device_node, timeout=_timeout())
    except GaugeReadFailed as exc:
        raise GaugeUnreachable(exc.message, field=exc.field or "device") from None
    value, unit, _ = device_value(char, reading.value)
    return measurement_record(
        step=step,
        characteristic=char.code,
        value=format(value.normalize(), "f"),
        unit=unit,
        reading=DeviceReading(device=char.device_node, endpoint=endpoint),
        actor=actor,
    )
