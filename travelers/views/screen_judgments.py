"""How a characteristic and its values read on the traveler screen: the spec ("12.700 mm (12.687 –
12.713)"), a value's judgment with how far it lies from nominal or beyond a limit, and the live preview
of what is being typed (judged, nothing saved). Numbers in the reader's language, never rounded."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from mes.i18n import decimal_comma, local_decimal
from mes.masterdata.units import unit_symbol
from mes.numbers import decimal_at_places, decimal_text
from travelers.errors import MeasurementInvalid
from travelers.judging import judge
from travelers.models import Measurement


def number_text(value: Decimal | None, decimals: int | None = None) -> str:
    """A decimal as a person writes it in their language: padded to the characteristic's decimals (never
    rounded), else exact (mes.numbers); a decimal comma in French and Spanish."""
    if value is None:
        return ""
    return local_decimal(decimal_at_places(value, decimals) if decimals is not None else decimal_text(value))


def spec_text(char) -> str:
    """ "12.700 mm (12.687 – 12.713)", "≤ 1.60 µm", "pass / fail"…"""
    if char.kind == "pass_fail":
        return _("pass / fail")
    if char.kind == "choice":
        return " / ".join(str(c) for c in char.choices or [])
    if char.kind != "numeric":
        return ""
    d, unit = char.decimals, f" {unit_symbol(char.unit)}" if char.unit else ""
    low, high = number_text(char.lower_limit, d), number_text(char.upper_limit, d)
    limits = f"{low} – {high}" if low and high else (f"≥ {low}" if low else (f"≤ {high}" if high else ""))
    if char.nominal is not None:
        return f"{number_text(char.nominal, d)}{unit}" + (f" ({limits})" if limits else "")
    return f"{limits}{unit}" if limits else unit.strip()


@dataclass
class Judged:
    """A value judged against a spec, as shown beside the input (preview) or in the history."""

    state: str  # in_spec | out_of_spec | recorded | error | empty
    label: str = ""
    detail: str = ""


def judged_text(char, *, judgment: str, value: Decimal | None, deviation: Decimal | None) -> Judged:
    label = str(Measurement.Judgment(judgment).label) if judgment in Measurement.Judgment.values else judgment
    if value is None or char.kind != "numeric":
        return Judged(judgment, label)
    unit = f" {unit_symbol(char.unit)}" if char.unit else ""
    if judgment == Measurement.Judgment.OUT_OF_SPEC and deviation:
        amount = number_text(abs(deviation))
        if deviation > 0:
            detail = _("%(amount)s above the upper limit %(limit)s") % {
                "amount": f"{amount}{unit}",
                "limit": f"{number_text(char.upper_limit, char.decimals)}{unit}",
            }
        else:
            detail = _("%(amount)s below the lower limit %(limit)s") % {
                "amount": f"{amount}{unit}",
                "limit": f"{number_text(char.lower_limit, char.decimals)}{unit}",
            }
        return Judged(judgment, label, detail)
    if char.nominal is not None:
        offset = value - char.nominal
        sign = "+" if offset > 0 else ("−" if offset < 0 else "±")
        detail = _("%(offset)s from nominal") % {"offset": f"{sign}{number_text(abs(offset))}{unit}"}
        return Judged(judgment, label, detail)
    return Judged(judgment, label)


def preview(char, value: str, unit: str = "") -> Judged:
    """Judge what is typed without saving it (travelers.judging.judge is pure)."""
    if not (value or "").strip():
        return Judged("empty")
    try:
        result = judge(char, value, unit if char.kind == "numeric" else "", decimal_comma=decimal_comma())
    except MeasurementInvalid as exc:
        return Judged("error", _("Not valid"), exc.message)
    return judged_text(char, judgment=result.judgment, value=result.value_numeric, deviation=result.deviation)
