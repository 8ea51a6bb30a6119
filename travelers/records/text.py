"""How a record's values read, the same on the HTML screens, the printed traveler and the PDF: a time at
the site and in UTC, a record's counts as one line, a decimal with its characteristic's places, a value
in the units it was entered in and those it was judged in."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils.translation import ngettext

from mes.i18n import local_decimal
from mes.masterdata.units import unit_symbol
from mes.numbers import decimal_at_places


def parse_time(value) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def site_zone(zone) -> dt.tzinfo:
    """A site's time zone from its name (or a tzinfo); UTC when unknown."""
    if isinstance(zone, dt.tzinfo):
        return zone
    try:
        return zoneinfo.ZoneInfo(zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def site_time(value, zone) -> str:
    """'2026-03-02 08:15:00 CST': the time at the site, with the zone's abbreviation."""
    moment = parse_time(value)
    if moment is None:
        return ""
    local = moment.astimezone(site_zone(zone))
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def utc_time(value) -> str:
    """'2026-03-02 14:15:00 UTC'."""
    moment = parse_time(value)
    if moment is None:
        return ""
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def summary_text(summary: dict, *, done: bool = False) -> str:
    """A record's counts as one line, each with its own plural: "1 step (1 done) · 3 values · 0 out of
    spec · 1 correction · 1 NCR · 4 signatures" (the review, the sign-off page and the PDF say the same)."""

    def part(singular: str, plural: str, count) -> str:
        return ngettext(singular, plural, count or 0) % {"n": count or 0}

    steps = part("%(n)d step", "%(n)d steps", summary.get("steps"))
    if done:
        steps += " " + part("(%(n)d done)", "(%(n)d done)", summary.get("steps_done"))
    return " · ".join(
        [
            steps,
            part("%(n)d value", "%(n)d values", summary.get("values")),
            part("%(n)d out of spec", "%(n)d out of spec", summary.get("out_of_spec")),
            part("%(n)d correction", "%(n)d corrections", summary.get("corrections")),
            part("%(n)d NCR", "%(n)d NCRs", summary.get("ncrs")),
            part("%(n)d signature", "%(n)d signatures", summary.get("signatures")),
        ]
    )


def fixed(value, places) -> str:
    """A decimal string shown with the characteristic's number of decimals ('12.7', 3 -> '12.700'), with the
    reader's decimal separator ('12,700' in French and Spanish); never rounded (mes.numbers)."""
    return local_decimal(decimal_at_places(value, places))


def value_in_units(entered_value, entered_unit, value, unit, decimals) -> str:
    """A value as entered and, when it was entered in another unit than the spec's, as converted and judged:
    '1.5 in → 38.100 mm'; entered without a unit, the spec's unit is added ('12.701 mm'); 'pass' stays 'pass'.
    The one way every screen, copy and export shows a recorded value."""
    shown = f"{entered_value} {unit_symbol(entered_unit)}".strip()
    if value is None or value == "" or not unit:
        return shown
    if not entered_unit:
        return f"{shown} {unit_symbol(unit)}"
    if entered_unit != unit:
        return f"{shown} → {fixed(value, decimals)} {unit_symbol(unit)}"
    return shown


def measurement_in_units(m) -> str:
    """value_in_units of a Measurement row (its characteristic's decimals) or of a record's value dict."""
    if isinstance(m, dict):
        return value_in_units(m["entered_value"], m["entered_unit"], m["value"], m["unit"], m["decimals"])
    return value_in_units(m.entered_value, m.entered_unit, m.value_numeric, m.spec_unit, m.characteristic.decimals)
