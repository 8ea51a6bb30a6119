"""Units of measure, checked and converted with pint.

Characteristics store a unit as pint understands it ("mm", "in", "N*m", "degC", "um"); operators may
enter a value in any unit of the same dimension, converted here.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import lru_cache

import pint

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


# How a stored unit is printed for people: the symbol, not pint's ASCII spelling.
_SYMBOLS = {"um": "µm", "degC": "°C", "degF": "°F", "N*m": "N·m", "deg": "°", "ohm": "Ω"}


def unit_symbol(unit: str | None) -> str:
    """'um' -> 'µm', 'N*m' -> 'N·m', 'degC' -> '°C'; any other unit as it is stored."""
    text = (unit or "").strip()
    return _SYMBOLS.get(text, text)


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
        raise InvalidUnit("a unit is required", field=field)
    normalized = _normalize(text)
    unit = _unit(normalized) if len(normalized) <= 60 else None
    if unit is None:
        raise InvalidUnit(f"unknown unit '{text}'", field=field)
    return unit


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
        raise InvalidUnit(f"'{from_unit}' cannot be converted to '{to_unit}'", field=field)
    quantity = registry().Quantity(Decimal(value), source)
    magnitude = Decimal(quantity.to(target).magnitude)
    if not magnitude.is_finite() or (not magnitude.is_zero() and magnitude.adjusted() >= 15):
        return magnitude  # far beyond any column (12.7 parsec in mm): the caller refuses it, by name
    # Conversion factors carry float noise past the 20th digit; no gauge resolves below 1e-9.
    return magnitude.quantize(Decimal("1e-9"))
