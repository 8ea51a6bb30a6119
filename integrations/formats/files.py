"""What the file drop reads (integrations.adapters.file_drop): B2MML schedules (*.xml, read by
integrations.b2mml) and CSV work orders (*.csv, in the adapter's column layout: csv_orders), each with the
legacy system's plant codes mapped to Traveler's sites by the adapter's settings "site_codes"."""

from __future__ import annotations

from .. import b2mml
from ..orders import WorkOrderIn
from . import csv_orders


def map_sites(orders: list[WorkOrderIn], adapter) -> list[WorkOrderIn]:
    """The legacy system's site codes in the file (e.g. plant "US10") → Traveler's, by settings
    "site_codes" ({"US10": "WIC"}); a code not listed is taken as Traveler's own."""
    codes = adapter.settings.get("site_codes") or {}
    for order in orders:
        if order.site_code in codes:
            order.site_code = codes[order.site_code]
    return orders


def parse_b2mml(payload: str, adapter) -> list[WorkOrderIn]:
    """A B2MML production or operations schedule (any of b2mml.MESSAGE_TYPES)."""
    return map_sites(b2mml.parse_schedule(payload, segment_codes=adapter.settings.get("segment_codes")), adapter)


def parse_csv(payload: str, adapter) -> list[WorkOrderIn]:
    """A CSV export of work orders, read in the adapter's layout (settings "layout")."""
    return map_sites(csv_orders.parse_csv(payload, adapter.settings), adapter)
