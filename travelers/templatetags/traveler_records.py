"""Showing a traveler record: times at the site and in UTC, decimals with the characteristic's places.

{% load traveler_records %}
{% moment sig.signed_at record.site.time_zone %}   -> <time datetime="…Z">2026-03-02 08:15:00 CST</time>
                                                      <span class="utc">2026-03-02 14:15:00 UTC</span>
{{ m.spec.lower|fixed:m.decimals }}                 -> 12.687
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.html import format_html

from mes.numbers import decimal_at_places, decimal_text
from travelers import records

register = template.Library()


@register.simple_tag
def moment(value, zone):
    """A time as the site saw it and in UTC, inside a <time> element carrying the exact instant."""
    when = records.parse_time(value)
    if when is None:
        return ""
    return format_html(
        '<time datetime="{}">{}</time> <span class="utc">({})</span>',
        records.iso(when),
        records.site_time(when, zone),
        records.utc_time(when),
    )


@register.filter
def site_time(value, zone):
    return records.site_time(value, zone)


@register.filter
def utc_time(value):
    return records.utc_time(value)


@register.filter
def fixed(value, places):
    """A value as its characteristic shows it: padded to its decimals, never rounded (mes.numbers)."""
    return decimal_at_places(value, places)


@register.filter
def instructions(text):
    """Work instructions rendered by the shop floor's safe Markdown renderer (everything escaped first)."""
    from travelers.markdown import render_markdown

    return render_markdown(text)


@register.filter
def decimal_plain(value):
    """A quantity as people write it: 5, 12.5 (never 5.000), the one decimal rule of the records."""
    return "" if value is None else decimal_text(Decimal(value))
