"""The formats of the messages Traveler exchanges with the legacy MES and its peers, one module each:

    json_orders     work orders as JSON: the REST push and the MQTT work-order topic
    csv_orders      work orders from a legacy CSV export, in the column layout an adapter names
    legacy_rows     one order row of the legacy database with its operation rows
    files           what the file drop reads: B2MML schedules and CSV files, plant codes mapped to sites
    event_schemas   the JSON Schemas of Traveler's outbound events (the files are in integrations/schemas/)

B2MML itself (reading schedules, writing performance documents, the XSDs) is the package
integrations.b2mml.

PARSERS below is the one table of inbound message types: the inbox reads a stored message with the
parser of its type, `parser(payload, adapter) -> list[WorkOrderIn]`; a type not listed is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import b2mml
from ..orders import WorkOrderIn
from . import csv_orders, files, json_orders, legacy_rows

Parser = Callable[[str, Any], list[WorkOrderIn]]

PARSERS: dict[str, Parser] = {
    json_orders.MESSAGE_TYPE: json_orders.parse,  # "json.work_order": REST push, MQTT work-order topic
    legacy_rows.MESSAGE_TYPE: legacy_rows.parse_order,  # "legacy_db.order": the legacy database adapter
    csv_orders.MESSAGE_TYPE: files.parse_csv,  # "csv.work_orders": the file drop's *.csv
    # the file drop's *.xml: one type per schedule root ("b2mml.SyncProductionSchedule", …) and "b2mml.document"
    **dict.fromkeys(b2mml.MESSAGE_TYPES, files.parse_b2mml),
}
