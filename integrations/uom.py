"""Units of measure on the way in: a legacy system's code (EA, PCS, ST, CS, KG…) → Traveler's quantity
in the part's own unit, per adapter.

An adapter's settings may map more codes or override these: `"units": {"CS": {"unit": "EA", "factor": 12},
"BAG": {"unit": "kg", "factor": 25}, "STK": "EA"}` — a code stands for `factor` of `unit`, where unit is
EA (pieces) or a unit of measure pint knows (kg, g, lb, m, L). Codes are compared without regard to case.

A serialized part is made one unit at a time, so its orders are counted in pieces; a lot is counted in
its part's quantity_unit (EA by default, or kg, m, …). Anything else is refused plainly: a serialized
part ordered in KG, a fraction of a piece, a weight for a part counted in pieces."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext

from mes.masterdata.errors import InvalidUnit
from mes.masterdata.models import EACH
from mes.masterdata.units import convert, parse_unit
from mes.numbers import decimal_text

from .errors import MessageRefused

# code -> (unit, factor): what each common code means when the adapter says nothing else.
DEFAULT_UNITS: dict[str, tuple[str, Decimal]] = {
    **{code: (EACH, Decimal(1)) for code in ("", "EA", "EACH", "PC", "PCS", "PCE", "PIECE", "PIECES", "ST", "STK")},
    **{code: (EACH, Decimal(1)) for code in ("UN", "UNIT", "UNITS", "NAR", "C62", "H87")},  # UN/ECE rec. 20
    "KG": ("kg", Decimal(1)),
    "KGM": ("kg", Decimal(1)),
    "G": ("g", Decimal(1)),
    "GRM": ("g", Decimal(1)),
    "LB": ("lb", Decimal(1)),
    "M": ("m", Decimal(1)),
    "MTR": ("m", Decimal(1)),
    "MM": ("mm", Decimal(1)),
    "L": ("L", Decimal(1)),
    "LTR": ("L", Decimal(1)),
}


@dataclass(frozen=True)
class PartQuantity:
    quantity: Decimal  # in `unit`
    unit: str  # EA or the part's unit of measure
    note: str = ""  # how it was converted, when it was


def _mapping(settings: dict | None) -> dict[str, tuple[str, Decimal]]:
    units = dict(DEFAULT_UNITS)
    given = (settings or {}).get("units") or {}
    if not isinstance(given, dict):
        raise MessageRefused(
            gettext('the adapter\'s "units" setting must map codes, e.g. {"CS": {"unit": "EA", "factor": 12}}')
        )
    for code, meaning in given.items():
        if isinstance(meaning, str):
            meaning = {"unit": meaning, "factor": 1}
        try:
            unit, factor = str(meaning["unit"]).strip(), Decimal(str(meaning.get("factor", 1)))
        except (KeyError, TypeError, InvalidOperation):
            raise MessageRefused(
                gettext('the adapter\'s "units" setting for %(code)s must be a unit or {"unit": "EA", "factor": 12}')
                % {"code": repr(code)},
                field="units",
            ) from None
        if not factor.is_finite() or factor <= 0:
            raise MessageRefused(
                gettext('the adapter\'s "units" factor for %(code)s must be positive') % {"code": repr(code)},
                field="units",
            )
        if unit != EACH:
            try:
                parse_unit(unit, field="units")
            except InvalidUnit:
                raise MessageRefused(
                    gettext(
                        'the adapter\'s "units" setting maps %(code)s to %(unit)s: neither EA nor a unit of measure'
                    )
                    % {"code": repr(code), "unit": repr(unit)},
                    field="units",
                ) from None
        units[str(code).strip().upper()] = (unit, factor)
    return units


def part_quantity(*, quantity, unit_code: str, part, settings: dict | None, where: str) -> PartQuantity:
    """`quantity` of `unit_code` (as the sender wrote them) as the quantity of `part` to make."""
    code = (unit_code or "").strip()
    units = _mapping(settings)
    if code.upper() not in units:
        raise MessageRefused(
            gettext(
                "%(where)s: unit of measure '%(code)s' is not known; map it in the adapter's settings, e.g. "
                '"units": {"%(code)s": {"unit": "EA", "factor": 1}}'
            )
            % {"where": where, "code": code},
            field="unit",
        )
    unit, factor = units[code.upper()]
    value = Decimal(quantity) * factor
    shown = f"{decimal_text(Decimal(quantity))} {code or EACH}"
    serial = part.tracking == "serial"
    part_unit = EACH if serial else part.quantity_unit
    if unit == EACH and part_unit == EACH:
        if value != value.to_integral_value():
            raise MessageRefused(
                gettext("%(where)s: %(shown)s is not a whole number of pieces of %(number)s")
                % {"where": where, "shown": shown, "number": part.number},
                field="quantity",
            )
        converted = value
    elif serial:
        raise MessageRefused(
            gettext(
                "%(where)s: %(number)s is serialized (one traveler per unit): an order of %(shown)s cannot be made "
                "of units; the order must be in pieces (EA)"
            )
            % {"where": where, "number": part.number, "shown": shown},
            field="unit",
        )
    elif unit == EACH or part_unit == EACH:
        raise MessageRefused(
            gettext("%(where)s: lots of %(number)s are counted in %(part_unit)s: %(shown)s cannot be converted to it")
            % {"where": where, "number": part.number, "part_unit": part_unit, "shown": shown},
            field="unit",
        )
    else:
        try:
            converted = convert(value, unit, part_unit, field="unit").normalize()
        except InvalidUnit:
            raise MessageRefused(
                gettext(
                    "%(where)s: lots of %(number)s are counted in %(part_unit)s: %(shown)s cannot be converted to it"
                )
                % {"where": where, "number": part.number, "part_unit": part_unit, "shown": shown},
                field="unit",
            ) from None
    if converted <= 0 or converted >= Decimal("1e9"):
        raise MessageRefused(
            gettext("%(where)s: %(shown)s is not a quantity Traveler can make") % {"where": where, "shown": shown},
            field="quantity",
        )
    if converted != converted.quantize(Decimal("0.001")):
        raise MessageRefused(
            gettext("%(where)s: %(shown)s is %(decimal_text)s %(part_unit)s, finer than the 0.001 Traveler keeps")
            % {"where": where, "shown": shown, "decimal_text": decimal_text(converted), "part_unit": part_unit},
            field="quantity",
        )
    result = f"{decimal_text(converted)} {part_unit}"
    note = "" if code.upper() in {"", part_unit.upper()} or shown == result else f"{shown} = {result}"
    return PartQuantity(quantity=converted, unit=part_unit, note=note)
