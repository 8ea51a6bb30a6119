"""Judging an entered value against a characteristic's spec: pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from mes.masterdata.errors import InvalidUnit
from mes.masterdata.units import convert, known_unit
from travelers.errors import MeasurementInvalid
from travelers.models import Measurement

PASS_WORDS = {"pass", "ok", "yes", "true", "good", "accept", "1"}
FAIL_WORDS = {"fail", "nok", "no", "false", "bad", "reject", "0"}
MAX_TEXT = 500


@dataclass(frozen=True)
class Judgment:
    judgment: str  # a Measurement.Judgment
    value_numeric: Decimal | None = None
    value_text: str = ""
    value_bool: bool | None = None
    deviation: Decimal | None = None
    entered_unit: str = ""

    @property
    def out_of_spec(self) -> bool:
        return self.judgment == Measurement.Judgment.OUT_OF_SPEC


def _ambiguous(text: str, point: str, plain: str, *, separator: str) -> MeasurementInvalid:
    if separator == ",":
        message = gettext(
            "'%(text)s' could be %(point)s or %(plain)s: type %(point)s (with a point) or %(plain)s (without the comma)"
        )
    else:
        message = gettext(
            "'%(text)s' could be %(point)s or %(plain)s: type %(point)s (with a comma) or %(plain)s (without the point)"
        )
    return MeasurementInvalid(message % {"text": text, "point": point, "plain": plain}, field="value")


def parse_decimal(text: str, *, decimal_comma: bool = False) -> Decimal:
    """The number typed in `text`, exactly (a Decimal, never a float).

    With `decimal_comma` (a French or Spanish screen) the comma is the decimal separator ("12,701" is
    12.701) and spaces may group thousands ("1 234,5"); a lone point followed by three digits ("12.701")
    could then be a thousands separator and is refused rather than guessed. Without it (English screens,
    the JSON API) the point is the separator and a lone comma is accepted as a decimal comma unless it is
    followed by exactly three digits ("1,234"), which is refused the same way."""
    raw = (text or "").strip()
    if decimal_comma:
        raw = raw.replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
        if raw.count(".") == 1 and "," not in raw:
            whole, fraction = raw.split(".")
            if len(fraction) == 3 and whole.lstrip("+-").isdigit() and fraction.isdigit():
                raise _ambiguous(text, f"{whole},{fraction}", f"{whole}{fraction}", separator=".")
        elif raw.count(",") == 1 and "." not in raw:
            raw = raw.replace(",", ".")
    elif raw.count(",") == 1 and "." not in raw:  # a decimal comma, as many shops write it
        whole, fraction = raw.split(",")
        if len(fraction) == 3 and whole.lstrip("+-").isdigit() and fraction.isdigit():
            # "1,234": a decimal comma (1.234) or a thousands separator (1234)? Never guessed.
            raise _ambiguous(text, f"{whole}.{fraction}", f"{whole}{fraction}", separator=",")
        raw = raw.replace(",", ".")
    if not raw:
        raise MeasurementInvalid(gettext("enter a value"), field="value")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise MeasurementInvalid(gettext("'%(text)s' is not a number") % {"text": text}, field="value") from exc
    if not value.is_finite():
        raise MeasurementInvalid(gettext("'%(text)s' is not a finite number") % {"text": text}, field="value")
    if too_large(value):
        raise MeasurementInvalid(gettext("'%(text)s' is too large for a measurement") % {"text": text}, field="value")
    return value


def too_large(value: Decimal) -> bool:
    """At or beyond 10^14: more than a measurement column holds. Read from the exponent, since arithmetic
    on 1e999999999 (even abs()) overflows the decimal context."""
    return not value.is_zero() and value.adjusted() >= MAX_EXPONENT


MAX_EXPONENT = 14  # the columns hold 15 integer digits (24 digits, 9 decimals)


def judge(char, entered_value: str, entered_unit: str = "", *, decimal_comma: bool = False) -> Judgment:
    """Validate by kind, convert units, and judge in or out of spec (server-side, always). `decimal_comma`:
    the value was typed on a screen whose language writes decimals with a comma (see parse_decimal)."""
    kind = char.kind
    if kind == "numeric":
        value = parse_decimal(entered_value, decimal_comma=decimal_comma)
        unit = (entered_unit or "").strip() or char.unit
        try:
            converted = convert(value, unit, char.unit, field="unit")
        except InvalidUnit as exc:
            raise MeasurementInvalid(
                exc.message
                if not known_unit(unit)
                else gettext("'%(unit)s' cannot be converted to %(target)s") % {"unit": unit, "target": char.unit},
                field="unit",
            ) from exc
        if not converted.is_finite() or too_large(converted):
            raise MeasurementInvalid(
                gettext("%(entered_value)s %(unit)s is %(converted)s %(unit2)s: beyond anything measured here")
                % {
                    "entered_value": entered_value,
                    "unit": unit,
                    "converted": format(converted, ".3E"),
                    "unit2": char.unit,
                },
                field="value",
            )
        deviation = Decimal(0)
        if char.upper_limit is not None and converted > char.upper_limit:
            deviation = converted - char.upper_limit
        elif char.lower_limit is not None and converted < char.lower_limit:
            deviation = converted - char.lower_limit
        return Judgment(
            judgment=Measurement.Judgment.OUT_OF_SPEC if deviation else Measurement.Judgment.IN_SPEC,
            value_numeric=converted,
            deviation=deviation,
            entered_unit=unit,
        )
    if entered_unit:
        raise MeasurementInvalid(
            gettext("a %(kind)s value has no unit") % {"kind": kind.replace("_", "/")}, field="unit"
        )
    text = (entered_value or "").strip()
    if kind == "pass_fail":
        word = text.lower()
        if word in PASS_WORDS:
            return Judgment(judgment=Measurement.Judgment.IN_SPEC, value_bool=True, value_text="pass")
        if word in FAIL_WORDS:
            return Judgment(judgment=Measurement.Judgment.OUT_OF_SPEC, value_bool=False, value_text="fail")
        raise MeasurementInvalid(gettext("'%(text)s' is neither pass nor fail") % {"text": text}, field="value")
    if kind == "choice":
        if text not in char.choices:
            raise MeasurementInvalid(
                gettext("'%(text)s' is not one of %(join)s") % {"text": text, "join": ", ".join(char.choices)},
                field="value",
            )
        return Judgment(judgment=Measurement.Judgment.RECORDED, value_text=text)
    if kind == "text":
        if not text:
            raise MeasurementInvalid(gettext("enter a value"), field="value")
        if len(text) > MAX_TEXT:
            raise MeasurementInvalid(
                gettext("the text is longer than %(MAX_TEXT)s characters") % {"MAX_TEXT": MAX_TEXT}, field="value"
            )
        return Judgment(judgment=Measurement.Judgment.RECORDED, value_text=text)
    if kind == "attachment":
        return Judgment(judgment=Measurement.Judgment.RECORDED, value_text=text)
    raise MeasurementInvalid(gettext("unknown characteristic kind %(kind)s") % {"kind": kind}, field="characteristic")
