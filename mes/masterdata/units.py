"""Units of measure, checked and converted with pint.

Characteristics store a unit as pint understands it ("mm", "in", "N*m", "degC", "um"); operators may
enter a value in any unit of the same dimension, converted here.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal
from functools import lru_cache

import pint
from django.utils.translation import gettext

from .errors import InvalidUnit

_registry: pint.UnitRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> pint.UnitRegistry:
    """The one unit registry of this process (pint refuses to mix units of two registries, so two
    threads must never each build one)."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                ureg = pint.UnitRegistry(autoconvert_offset_to_baseunit=True, non_int_type=Decimal)
                ureg.formatter.default_format = "~"
                _registry = ureg
    return _registry


_ALIASES = {"µm": "um", "μm": "um", "°C": "degC", "°F": "degF", "N·m": "N*m", "Nm": "N*m", "N.m": "N*m"}


def _normalize(text: str) -> str:
    text = text.strip()
    return _ALIASES.get(text, text.replace("·", "*").replace("µ", "u").replace("μ", "u"))


@lru_cache(maxsize=512)
def _unit(normalized: str) -> pint.Unit | None:
    try:
        return registry().Unit(normalized)
    except Exception:  # noqa: BLE001 - pint raises many kinds for garbage; all mean "not a unit"
        return None


def parse_unit(text: str, *, field: str = "unit") -> pint.Unit:
    """The pint unit for `text`, or InvalidUnit naming the text."""
    if not text or not text.strip():
        raise InvalidUnit(gettext("a unit is required"), field=field)
    normalized = _normalize(text)
    unit = _unit(normalized) if len(normalized) <= 60 else None
    if unit is None:
        raise InvalidUnit(gettext("unknown unit '%(text)s'") % {"text": text}, field=field)
    return unit


def known_unit(text: str) -> bool:
    """True when `text` names a unit (whatever its dimension)."""
    try:
        parse_unit(text)
    except InvalidUnit:
        return False
    return True


# How units are printed for people; stored as pint reads them ("um", "N*m", "degC").
_SYMBOLS = {
    "um": "µm",
    "uin": "µin",
    "degC": "°C",
    "degF": "°F",
    "degree_Celsius": "°C",
    "degree_Fahrenheit": "°F",
    "deg": "°",
    "degree": "°",
    "ohm": "Ω",
    "Nm": "N·m",
    "N.m": "N·m",
    "percent": "%",
}
_POWERS = {"2": "²", "3": "³"}


def unit_symbol(text: str | None) -> str:
    """A unit as printed on a drawing: µm, N·m, °C, mm² (not um, N*m, degC, mm**2)."""
    if not text:
        return ""
    text = text.strip()
    if text in _SYMBOLS:
        return _SYMBOLS[text]
    out = []
    for part in re.split(r"(\*\*|\^|\*|/|\s+)", text):
        if part in ("**", "^"):
            out.append("^")
        elif part == "*" or (part.isspace() and part):
            out.append("·")
        elif out and out[-1] == "^" and part in _POWERS:
            out[-1] = _POWERS[part]
        else:
            out.append(_SYMBOLS.get(part, part))
    return "".join(out)


def check_unit(text: str, *, field: str = "unit") -> str:
    """Validate `text` as a unit and return it unchanged (stored as the engineer wrote it)."""
    parse_unit(text, field=field)
    return text.strip()


def convert(value: Decimal, from_unit: str, to_unit: str, *, field: str = "unit") -> Decimal:
    """Convert `value` from one unit to another of the same dimension; exact enough for gauges."""
    source = parse_unit(from_unit, field=field)
    target = parse_unit(to_unit, field=field)
    if source == target:
        return value
    if source.dimensionality != target.dimensionality:
        raise InvalidUnit(
            gettext("'%(from_unit)s' cannot be converted to '%(to_unit)s'")
            % {"from_unit": from_unit, "to_unit": to_unit},
            field=field,
        )
    quantity = registry().Quantity(Decimal(value), source)
    magnitude = Decimal(quantity.to(target).magnitude)
    if not magnitude.is_finite() or (not magnitude.is_zero() and magnitude.adjusted() >= 15):
        return magnitude  # far beyond any column (12.7 parsec in mm): the caller refuses it, by name
    # Conversion factors carry float noise past the 20th digit; no gauge resolves below 1e-9.
    return magnitude.quantize(Decimal("1e-9"))
