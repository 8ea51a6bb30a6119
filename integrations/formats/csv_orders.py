"""Work orders from a legacy CSV export, in the column layout an adapter is configured with.

A layout (adapter.settings["layout"]) names the file's columns for each field and how to read them:

    {"number": "WO", "part": "PN", "revision": "REV", "quantity": "QTY", "due": "DUE", "operations": "OPS",
     "site": "PLANT", "delimiter": ";", "date_format": "%Y-%m-%d", "operations_separator": "|",
     "encoding": "utf-8"}

number, part, revision and quantity are required; due, operations and site are optional (a layout
without them, or an empty cell, means none). The operations cell lists the legacy operation codes in
route order, separated by `operations_separator`. The first line is the header."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation

from ..errors import MessageRefused
from ..orders import WorkOrderIn

MESSAGE_TYPE = "csv.work_orders"
REQUIRED = ("number", "part", "revision", "quantity")
OPTIONAL = ("due", "operations", "site")
OPTIONS = {"delimiter": ",", "date_format": "%Y-%m-%d", "operations_separator": "|", "encoding": "utf-8"}
DEFAULT_LAYOUT = {**{name: name for name in REQUIRED + OPTIONAL}, **OPTIONS}


class CsvRefused(MessageRefused):
    """A CSV file that cannot be taken as it is; the message names the line and the column."""


def layout_of(settings: dict | None) -> dict:
    """The adapter's layout over the defaults; CsvRefused when it names something unknown."""
    layout = dict(DEFAULT_LAYOUT)
    given = (settings or {}).get("layout") or {}
    unknown = sorted(set(given) - set(DEFAULT_LAYOUT))
    if unknown:
        raise CsvRefused(
            f"the adapter's CSV layout has unknown keys {', '.join(unknown)}; known: {', '.join(DEFAULT_LAYOUT)}",
            field="layout",
        )
    layout.update(given)
    if len(layout["delimiter"]) != 1:
        raise CsvRefused(f"the CSV delimiter must be one character, not {layout['delimiter']!r}", field="layout")
    return layout


def decode(data: bytes, settings: dict | None) -> str:
    """A CSV file's text in the layout's encoding (a UTF-8 byte-order mark is dropped)."""
    encoding = layout_of(settings)["encoding"]
    try:
        return data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise CsvRefused(
            f"the file is not valid {encoding} text ({exc}); set the layout's encoding, e.g. cp1252",
            field="encoding",
        ) from None


def parse_csv(payload: str, settings: dict | None) -> list[WorkOrderIn]:
    """Every work order of the file, or CsvRefused naming the line and column of the first problem."""
    layout = layout_of(settings)
    reader = csv.reader(io.StringIO(payload.lstrip("\ufeff"), newline=""), delimiter=layout["delimiter"])
    try:
        header = next(reader)
    except StopIteration:
        raise CsvRefused("the file is empty: the first line must be the header", field="header") from None
    except csv.Error as exc:
        raise CsvRefused(f"line 1: {exc}", field="header") from None
    names = [h.strip() for h in header]
    positions: dict[str, int] = {}
    for field in REQUIRED + OPTIONAL:
        column = layout.get(field)
        if not column:
            continue
        if column in names:
            positions[field] = names.index(column)
        elif field in REQUIRED:
            raise CsvRefused(
                f"column {column!r} ({field}) is missing from the header; the header has {', '.join(names)}",
                field=field,
            )
    orders = []
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            orders.append(_order(row, positions, layout, reader.line_num))
    except csv.Error as exc:
        raise CsvRefused(f"line {reader.line_num}: {exc}", field="payload") from None
    if not orders:
        raise CsvRefused("the file holds a header but no work order", field="payload")
    return orders


def _order(row: list[str], positions: dict[str, int], layout: dict, line: int) -> WorkOrderIn:
    def cell(field: str) -> str:
        index = positions.get(field)
        return row[index].strip() if index is not None and index < len(row) else ""

    where = f"line {line}"
    for field in REQUIRED:
        if not cell(field):
            raise CsvRefused(f"{where}: column {layout[field]!r} ({field}) is empty", field=field)
    number = cell("number")
    if len(number) > 40:
        raise CsvRefused(f"{where}: work order number {number[:50]!r} is longer than 40 characters", field="number")
    raw_quantity = cell("quantity")
    try:
        quantity = Decimal(raw_quantity.replace(" ", ""))
    except InvalidOperation:
        raise CsvRefused(
            f"{where}: {layout['quantity']} {raw_quantity!r} is not a whole number", field="quantity"
        ) from None
    if not quantity.is_finite() or quantity != quantity.to_integral_value() or not 0 < quantity < 2**31:
        raise CsvRefused(
            f"{where}: {layout['quantity']} {raw_quantity!r} is not a positive whole number", field="quantity"
        )
    due = None
    if cell("due"):
        try:
            due = dt.datetime.strptime(cell("due"), layout["date_format"]).date()
        except ValueError:
            raise CsvRefused(
                f"{where}: {layout['due']} {cell('due')!r} does not match the date format {layout['date_format']}",
                field="due",
            ) from None
    separator = layout["operations_separator"]
    operations = [code.strip() for code in cell("operations").split(separator) if code.strip()]
    return WorkOrderIn(
        number=number,
        external_id=number,
        part_number=cell("part"),
        part_revision=cell("revision"),
        quantity=int(quantity),
        due_date=due,
        site_code=cell("site") or None,
        operation_codes=operations,
        where=f"{where} (work order {number})",
    )
