"""One order of the legacy database as the inbox keeps it (message type "legacy_db.order"): the order's
row exactly as read, under the legacy MES's own column names, with its operation rows —

    {"table": "AUFTRAG", "row": {"ID": 7, "AUFNR": "4711", "MATNR": "HSG-1", ...},
     "operations": [{"AUFNR": "4711", "VORNR": "0010", "ARBGANG": "DREH"}, ...]}

— read into the neutral WorkOrderIn through the adapter's column mapping (settings "columns" and
"operation_columns", see integrations.adapters.legacy_db). A row whose status is the adapter's
"status_cancelled" is a deletion. The mapping helpers are shared with the adapter's queries and with the
parallel run (integrations.reconcile)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation

from ..errors import IntegrationError, MessageRefused
from ..orders import WorkOrderIn

MESSAGE_TYPE = "legacy_db.order"
ORDER_FIELDS = ("id", "number", "part", "revision", "quantity", "due", "status", "changed", "plant")
REQUIRED_ORDER_FIELDS = ("id", "number", "part", "revision", "quantity", "status")


def mapped_columns(settings: dict, key: str, required: tuple[str, ...]) -> dict[str, str]:
    """The column mapping `settings[key]` ({field: legacy column}); IntegrationError naming the fields
    in `required` it does not map."""
    columns = settings.get(key) or {}
    missing = [f for f in required if not columns.get(f)]
    if missing:
        raise IntegrationError(f"the legacy mapping settings.{key} does not name the column for {', '.join(missing)}")
    return columns


def sequence_key(raw) -> tuple:
    """Sort key of an operation's sequence number: numerically when it is a number ("0010" < "0100")."""
    try:
        return (0, Decimal(str(raw)), "")
    except InvalidOperation:
        return (1, Decimal(0), str(raw or ""))


def parse_order(payload: str, adapter) -> list[WorkOrderIn]:
    """One legacy order row (kept exactly as read, with its legacy column names) → WorkOrderIn."""
    data = json.loads(payload)
    columns = mapped_columns(adapter.settings, "columns", REQUIRED_ORDER_FIELDS)
    row = data["row"]
    where = f"{data.get('table', 'orders')} row {row.get(columns['id'])}"

    def value(field: str):
        column = columns.get(field)
        raw = row.get(column) if column else None
        return raw.strip() if isinstance(raw, str) else raw

    cancelled = (
        bool(adapter.settings.get("status_cancelled")) and value("status") == adapter.settings["status_cancelled"]
    )
    for field in ("number",) if cancelled else ("number", "part", "revision", "quantity"):
        if value(field) in (None, ""):
            raise MessageRefused(f"{where}: column {columns[field]} ({field}) is empty", field=field)
    number = str(value("number"))
    where = f"{where} (order {number})"
    if cancelled:  # the legacy MES cancelled it: a deletion
        return [
            WorkOrderIn(
                number=number,
                external_id=number,
                part_number=None,
                part_revision=None,
                quantity=None,
                action="delete",
                where=where,
            )
        ]
    raw_quantity = value("quantity")
    try:
        quantity = Decimal(str(raw_quantity))
    except InvalidOperation:
        quantity = None
    if quantity is None or not quantity.is_finite() or quantity != quantity.to_integral_value() or quantity <= 0:
        raise MessageRefused(
            f"{where}: {columns['quantity']} {raw_quantity!r} is not a positive whole number", field="quantity"
        )
    due = None
    if value("due"):
        try:
            due = dt.date.fromisoformat(str(value("due"))[:10])
        except ValueError:
            raise MessageRefused(f"{where}: {columns['due']} {value('due')!r} is not a date", field="due") from None
    op_columns = adapter.settings.get("operation_columns") or {}
    operations = sorted(data.get("operations", []), key=lambda op: sequence_key(op.get(op_columns.get("sequence", ""))))
    codes = [str(op.get(op_columns.get("code", ""), "") or "").strip() for op in operations]
    if any(not code for code in codes):
        raise MessageRefused(f"{where}: an operation has an empty {op_columns.get('code')} code", field="operation")
    return [
        WorkOrderIn(
            number=number,
            external_id=number,
            part_number=str(value("part")),
            part_revision=str(value("revision")),
            quantity=int(quantity),
            due_date=due,
            operation_codes=codes,
            where=where,
        )
    ]
