"""Decimals as text: the one rule every representation of a value uses — the screens, the signed content,
the record and its archive, the API and the legacy export (docs/architecture.md). Two ways, by purpose:

- `decimal_text`: the exact value, canonical — no trailing zeros, never exponent notation, never "-0"
  ("12.7", "100", "0"). What is signed, hashed, archived and exchanged as a decimal string.
- `decimal_at_places`: the value as its characteristic shows it, padded to the characteristic's decimals
  ("12.700" at 3); a value holding more digits than that is shown in full, never rounded (a record shows
  what was recorded, on paper as in an export).

Statistics (means, capability indices) are rounded for display where they are shown; they are not values.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation


def decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", "0"} else text


def decimal_text_or_none(value: Decimal | None) -> str | None:
    """decimal_text, with None for a missing value (a limit not set, a value not numeric)."""
    return None if value is None else decimal_text(value)


def decimal_at_places(value: Decimal | str | None, places: int | str) -> str:
    """`value` padded to `places` decimals, never rounded; "" for none. Text (a record's decimal string)
    is read as a decimal; text that is not one (a pass/fail, a note) is shown as it is."""
    if value is None or value == "":
        return ""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    try:
        padded = number.quantize(Decimal(1).scaleb(-int(places)))
    except InvalidOperation:  # more digits than a decimal context holds: shown in full
        return decimal_text(number)
    if padded != number:
        return decimal_text(number)
    return format(padded.copy_abs() if padded == 0 else padded, "f")


def statistic_text(value: Decimal | None, places: int | str) -> str:
    """A statistic (a mean, a control limit) rounded half-even to `places` decimals for display: unlike a
    recorded value it was computed, not measured, so its extra digits carry no information; "" for none."""
    if value is None:
        return ""
    return format(value.quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_EVEN), "f")
