"""Reading a value from a gauge into a traveler: the tablet's "read from gauge" button.

The characteristic (copied into the traveler at release) names its gauge: device_endpoint, device_node,
device_unit (what the gauge reports in) and device_scale (counts -> device unit). The reading is scaled,
converted to the characteristic's unit with pint (mes.masterdata.units) and rounded to the
characteristic's resolution (its decimals), then recorded through the traveler service with
source="device", the node id as the device, the endpoint, and the raw value exactly as the gauge sent it
(a 32-bit float's 12.701199531555176) — so it is judged, audited and emitted like any value, and the event
names the gauge. The conversion is checked
here first, so a gauge in a unit that cannot convert is named as such. The gauge is read before the
traveler is locked: a slow gauge never holds a traveler's lock."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.utils.translation import gettext

from mes.masterdata.errors import InvalidUnit
from mes.masterdata.units import convert
from travelers.errors import MeasurementInvalid, NotAuthorized, TravelerError
from travelers.models import Measurement, TravelerCharacteristic
from travelers.services import measurement_record
from travelers.services.measurements import DeviceReading

from .adapters.opcua import DEFAULT_TIMEOUT, GaugeConfigError, GaugeReadFailed, Impl, read_value
from .models import Adapter


class GaugeUnreachable(TravelerError):
    """The gauge did not answer, or answered with no usable value: say so, let the operator type it."""

    status_code = 503


class GaugeNotConfigured(TravelerError):
    """The characteristic names no gauge, or its gauge's configuration cannot work (endpoint, node, unit,
    security): a mistake in the set-up, not a passing fault, so 400."""

    status_code = 400


def _gauge_adapter():
    return Adapter.objects.filter(kind=Adapter.Kind.OPCUA, enabled=True).order_by("pk").first()


def device_value(char: TravelerCharacteristic, raw: Decimal) -> tuple[Decimal, str, Decimal]:
    """(reading scaled into the gauge's unit, that unit, the same in the characteristic's unit)."""
    value = raw * (char.device_scale if char.device_scale is not None else Decimal(1))
    unit = char.device_unit or char.unit
    try:
        in_spec_unit = convert(value, unit, char.unit, field="device_unit") if unit and char.unit else value
    except InvalidUnit as exc:
        raise GaugeNotConfigured(
            gettext("the gauge of %(name)s reports in '%(unit)s', which cannot be converted to %(unit2)s")
            % {"name": char.name, "unit": unit, "unit2": char.unit},
            field="device_unit",
        ) from exc
    return value, unit, in_spec_unit


def at_resolution(char: TravelerCharacteristic, value: Decimal) -> Decimal:
    """A value in the characteristic's unit, rounded to the places it is recorded with (its resolution):
    a 32-bit float's 12.701199531555176 mm is the 12.701 mm the gauge measured."""
    return value.quantize(Decimal(1).scaleb(-char.decimals), rounding=ROUND_HALF_EVEN)


def gauge_read(*, step, characteristic_code: str, actor) -> Measurement:
    """Read the characteristic's gauge and record the value at the step (a started step, as by hand):
    converted to the characteristic's unit and rounded to its resolution, with the raw reading, the
    endpoint and the node kept beside it."""
    if actor is None or not actor.is_authenticated or not actor.has_perm("travelers.perform_step"):
        raise NotAuthorized(
            gettext("%(getattr)s is not allowed to record values")
            % {"getattr": getattr(actor, "username", "anonymous")},
            field="actor",
        )
    char = TravelerCharacteristic.objects.filter(step=step, code=characteristic_code).first()
    if char is None:
        raise MeasurementInvalid(
            gettext("step %(sequence)s has no characteristic %(characteristic_code)s")
            % {"sequence": step.sequence, "characteristic_code": characteristic_code},
            field="characteristic",
        )
    adapter = _gauge_adapter()
    impl = Impl(adapter) if adapter is not None else None
    endpoint = char.device_endpoint or (impl.setting("endpoint", "") if impl else "") or ""
    if not char.device_node or not endpoint:
        raise GaugeNotConfigured(
            gettext("%(name)s is not read from a gauge: enter the value") % {"name": char.name}, field="characteristic"
        )
    if char.kind != "numeric":
        raise GaugeNotConfigured(
            gettext("%(name)s is not a numeric value: a gauge cannot read it") % {"name": char.name},
            field="characteristic",
        )
    device_value(char, Decimal(1))  # a unit that cannot convert is refused before the gauge is asked
    try:
        security = impl.security() if impl else None
        timeout = float(impl.setting("timeout", DEFAULT_TIMEOUT)) if impl else DEFAULT_TIMEOUT
        got = read_value(endpoint, char.device_node, timeout=timeout, security=security)
    except GaugeConfigError as exc:
        raise GaugeNotConfigured(exc.message, field=exc.field or "device") from None
    except GaugeReadFailed as exc:
        raise GaugeUnreachable(exc.message, field=exc.field or "device") from None
    _, unit, in_spec_unit = device_value(char, got.value)
    recorded = at_resolution(char, in_spec_unit) if char.unit else at_resolution(char, got.value)
    return measurement_record(
        step=step,
        characteristic=char.code,
        value=format(recorded, "f"),
        unit=char.unit or unit,
        reading=DeviceReading(device=char.device_node, endpoint=endpoint, raw=got.raw),
        actor=actor,
    )
