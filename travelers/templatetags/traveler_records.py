"""Showing a traveler record: times at the site and in UTC, decimals with the characteristic's places.

{% load traveler_records %}
{% moment sig.signed_at record.site.time_zone %}   -> <time datetime="…Z">2026-03-02 08:15:00 CST</time>
                                                      <span class="utc">2026-03-02 14:15:00 UTC</span>
{{ m.spec.lower|fixed:m.decimals }}                 -> 12.687 (12,687 in French and Spanish)
{{ m.unit|unit_symbol }}                            -> µm (stored as um)
{{ m|in_units }}                                    -> 1.5 in → 38.100 mm
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from mes.compliance.models import Signature
from mes.i18n import local_decimal
from mes.masterdata.units import unit_symbol as symbol
from mes.numbers import decimal_text, statistic_text
from travelers import records
from travelers.markdown import render_markdown
from travelers.models import Measurement
from travelers.states import StepStatus, TravelerStatus

register = template.Library()


@register.simple_tag
def moment(value, zone):
    """A time as the site saw it and in UTC, inside a <time> element carrying the exact instant."""
    when = records.parse_time(value)
    if when is None:
        return ""
    local, utc = records.site_time(when, zone), records.utc_time(when)
    if local == utc:  # a UTC site, or a record kept in UTC: the same time once, not twice
        return format_html('<time class="when" datetime="{}">{}</time>', records.iso(when), utc)
    return format_html(
        '<time class="when" datetime="{}">{}</time> <span class="utc">({})</span>', records.iso(when), local, utc
    )


@register.filter
def site_time(value, zone):
    return records.site_time(value, zone)


@register.filter
def utc_time(value):
    return records.utc_time(value)


@register.filter
def fixed(value, places):
    """A value as its characteristic shows it: padded to its decimals, never rounded (mes.numbers), with the
    reader's decimal separator."""
    return records.fixed(value, places)


@register.filter
def unit_symbol(value):
    """A unit as people print it: µm, N·m, °C (stored as pint reads it: um, N*m, degC)."""
    return symbol(value)


@register.filter
def local_number(value):
    """A decimal string ("0.013") with the reader's decimal separator ("0,013" in French and Spanish)."""
    return "" if value is None else local_decimal(str(value))


@register.filter
def meaning(sig):
    """A signature's meaning as its signer read it when signing, followed by the reader's words when the
    reader reads another language: "Exécuté (Performed)". `sig` is a Signature or a record's dict of one."""
    if sig is None:
        return ""
    if isinstance(sig, Signature):
        return sig.meaning_manifest
    code, signer = sig.get("meaning"), sig.get("meaning_display") or ""
    if code not in Signature.Meaning.values:
        return signer or code or ""
    reader = str(Signature.Meaning(code).label)
    return reader if not signer or signer == reader else f"{signer} ({reader})"


@register.filter
def instructions(text):
    """Work instructions rendered by the shop floor's safe Markdown renderer (everything escaped first)."""
    return render_markdown(text)


@register.filter
def decimal_plain(value):
    """A quantity as people write it: 5, 12.5 (never 5.000), the one decimal rule of the records."""
    return "" if value is None else decimal_text(Decimal(value))


@register.filter
def in_units(measurement):
    """A recorded value as entered and, if entered in another unit, converted to the spec's: 1.5 in → 38.100 mm."""
    return records.measurement_in_units(measurement)


def _label_enums() -> dict:
    return {"traveler": TravelerStatus, "step": StepStatus, "judgment": Measurement.Judgment}


@register.filter
def label(code, kind):
    """The enum's own (translated) label of a stored code, `{{ h.status|label:"traveler" }}` -> "Awaiting
    final sign-off"; a code the enum does not know is shown as it is rather than hidden."""
    enum = _label_enums()[kind]
    try:
        return enum(code).label
    except ValueError:
        return code


@register.filter
def rounded(value, places):
    """A statistic (control limit, mean) to `places` decimals, rounded, with the reader's separator."""
    return local_decimal(statistic_text(value, places))


@register.filter
def unit(value):
    """The same as unit_symbol, by its shorter name: {{ m.unit|unit }} -> µm."""
    return unit_symbol(value)


@register.filter
def summary_line(summary, detail=""):
    """A record's counts as one line, each with its own plural (records.summary_text); "done" adds the
    steps done, as the printout does."""
    return records.summary_text(summary, done=detail == "done")
