"""Judging an entered value against a characteristic's spec: pure functions, no database."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from mes.masterdata.errors import InvalidUnit
from mes.masterdata.units import convert
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


def parse_decimal(text: str) -> Decimal:
    raw = (text or "").strip()
    if raw.count(",") == 1 and "." not in raw:  # a decimal comma, as many shops write it
        whole, fraction = raw.split(",")
        if len(fraction) == 3 and whole.lstrip("+-").isdigit() and fraction.isdigit():
            # "1,234": a decimal comma (1.234) or a thousands separator (1234)? Never guessed.
            point, plain = f"{whole}.{fraction}", f"{whole}{fraction}"
            raise MeasurementInvalid(
                f"'{text}' could be {point} or {plain}: type {point} (with a point) or {plain} (without the comma)",
                field="value",
            )
        raw = raw.replace(",", ".")
    if not raw:
        raise MeasurementInvalid("enter a value", field="value")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise MeasurementInvalid(f"'{text}' is not a number", field="value") from exc
    if not value.is_finite():
        raise MeasurementInvalid(f"'{text}' is not a finite number", field="value")
    if too_large(value):
        raise MeasurementInvalid(f"'{text}' is too large for a measurement", field="value")
    return value


def too_large(value: Decimal) -> bool:
    """At or beyond 10^14: more than a measurement column holds. Read from the exponent, since arithmetic
    on 1e999999999 (even abs()) overflows the decimal context."""
    return not value.is_zero() and value.adjusted() >= MAX_EXPONENT


MAX_EXPONENT = 14  # the columns hold 15 integer digits (24 digits, 9 decimals)


def judge(char, entered_value: str, entered_unit: str = "") -> Judgment:
    """Validate by kind, convert units, and judge in or out of spec (server-side, always)."""
    kind = char.kind
    if kind == "numeric":
        value = parse_decimal(entered_value)
        unit = (entered_unit or "").strip() or char.unit
        try:
            converted = convert(value, unit, char.unit, field="unit")
        except InvalidUnit as exc:
            raise MeasurementInvalid(
                exc.message if "unknown" in exc.message else f"'{unit}' cannot be converted to {char.unit}",
                field="unit",
            ) from exc
        if not converted.is_finite() or too_large(converted):
            raise MeasurementInvalid(
                f"{entered_value} {unit} is {converted:.3E} {char.unit}: beyond anything measured here", field="value"
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
        raise MeasurementInvalid(f"a {kind.replace('_', '/')} value has no unit", field="unit")
    text = (entered_value or "").strip()
    if kind == "pass_fail":
        word = text.lower()
        if word in PASS_WORDS:
            return Judgment(judgment=Measurement.Judgment.IN_SPEC, value_bool=True, value_text="pass")
        if word in FAIL_WORDS:
            return Judgment(judgment=Measurement.Judgment.OUT_OF_SPEC, value_bool=False, value_text="fail")
        raise MeasurementInvalid(f"'{text}' is neither pass nor fail", field="value")
    if kind == "choice":
        if text not in char.choices:
            raise MeasurementInvalid(f"'{text}' is not one of {', '.join(char.choices)}", field="value")
        return Judgment(judgment=Measurement.Judgment.RECORDED, value_text=text)
    if kind == "text":
        if not text:
            raise MeasurementInvalid("enter a value", field="value")
        if len(text) > MAX_TEXT:
            raise MeasurementInvalid(f"the text is longer than {MAX_TEXT} characters", field="value")
        return Judgment(judgment=Measurement.Judgment.RECORDED, value_text=text)
    if kind == "attachment":
        return Judgment(judgment=Measurement.Judgment.RECORDED, value_text=text)
    raise MeasurementInvalid(f"unknown characteristic kind {kind}", field="characteristic")
