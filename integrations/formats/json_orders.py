"""Work orders as JSON, the shape both the REST push and the MQTT work-order topic carry
(message type "json.work_order"):

    {"external_id": "ERP-REL-4711", "version": "3",
     "work_orders": [{"number": "WO-1001", "part_number": "HSG-1", "part_revision": "A", "quantity": 5,
                      "due_date": "2026-12-01", "site": "WIC", "operations": ["MC-10"]}]}

A single work order may also stand alone, its fields at the top level beside `external_id` and
`version`. The idempotency key is (source system, external id, version): a repeat changes nothing; a
changed order is sent again under a new version. MQTT publishers that send no `external_id` get the
(single) work order's number; no `version`, a hash of the payload, so only a byte-identical repeat
is recognised as one."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from ..errors import MessageRefused
from ..orders import WorkOrderIn

MESSAGE_TYPE = "json.work_order"


def document_of(payload: str):
    try:
        return json.loads(payload)
    except (ValueError, TypeError) as exc:
        raise MessageRefused(f"the message is not JSON: {exc}", field="payload") from None


def orders_of(document) -> list[dict]:
    if isinstance(document, dict) and "work_orders" in document:
        orders = document["work_orders"]
    elif isinstance(document, dict) and "number" in document:
        orders = [document]
    elif isinstance(document, list):
        orders = document
    else:
        raise MessageRefused('expected a work order or {"work_orders": [...]}', field="payload")
    if not isinstance(orders, list) or not all(isinstance(o, dict) for o in orders):
        raise MessageRefused("work_orders must be a list of objects", field="work_orders")
    return orders


def identity(payload: str) -> tuple[str, str]:
    """(external id, version) of a message, with the defaults above; never raises (a message that
    cannot be read still gets an identity, so it is kept as a dead letter)."""
    digest = hashlib.sha256(payload.encode("utf-8", "replace")).hexdigest()
    try:
        document = json.loads(payload)
    except (ValueError, TypeError):
        return f"unreadable:{digest[:16]}", "1"
    external_id = version = None
    if isinstance(document, dict):
        external_id, version = document.get("external_id"), document.get("version")
        if not external_id:
            orders = document.get("work_orders") if "work_orders" in document else [document]
            if isinstance(orders, list) and len(orders) == 1 and isinstance(orders[0], dict):
                external_id = orders[0].get("number")
    return str(external_id or f"message:{digest[:16]}")[:120], str(version or f"sha256:{digest[:16]}")[:60]


def _text(order: dict, *names: str, where: str, required: bool = True) -> str | None:
    for name in names:
        value = order.get(name)
        if value not in (None, ""):
            if not isinstance(value, str | int):
                raise MessageRefused(f"{where}: {name} must be text", field=name)
            return str(value).strip()
    if required:
        raise MessageRefused(f"{where}: {names[0]} is missing", field=names[0])
    return None


def _quantity(order: dict, where: str) -> int:
    value = order.get("quantity")
    if isinstance(value, bool) or value is None:
        raise MessageRefused(f"{where}: quantity must be a positive whole number", field="quantity")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise MessageRefused(f"{where}: quantity must be a positive whole number", field="quantity") from None
    if isinstance(value, float) and value != number:
        raise MessageRefused(f"{where}: quantity must be a positive whole number", field="quantity")
    return number


def _date(order: dict, where: str) -> dt.date | None:
    value = order.get("due_date")
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        raise MessageRefused(f"{where}: due_date '{value}' is not a date (YYYY-MM-DD)", field="due_date") from None


def parse(payload: str, adapter) -> list[WorkOrderIn]:
    document = document_of(payload)
    site = document.get("site") if isinstance(document, dict) else None
    result = []
    for index, order in enumerate(orders_of(document)):
        where = f"work_orders[{index}]"
        operations = order.get("operations") or []
        if not isinstance(operations, list) or not all(isinstance(code, str) for code in operations):
            raise MessageRefused(f"{where}: operations must be a list of codes", field="operations")
        result.append(
            WorkOrderIn(
                number=_text(order, "number", where=where),
                part_number=_text(order, "part_number", "part", where=where),
                part_revision=_text(order, "part_revision", "revision", where=where),
                quantity=_quantity(order, where),
                external_id=_text(order, "external_id", where=where, required=False) or "",
                due_date=_date(order, where),
                site_code=_text(order, "site", where=where, required=False) or site,
                operation_codes=[code.strip() for code in operations if code.strip()],
                where=where,
            )
        )
    return result
