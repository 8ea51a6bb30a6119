"""The parallel run: old and new side by side until they agree. For one site and one day (the site's
calendar day), what the legacy MES holds — read through one adapter, its database or its files — is
compared with what Traveler holds, order by order and traveler by traveler:

  orders        in either system that day: released or changed in the legacy MES, created in Traveler,
                or completed in either;
  per order     missing on one side; quantity; operations (the legacy codes resolved through the aliases,
                against the route Traveler kept); status (released / completed / cancelled);
  completions   per traveler completed that day: missing on one side; quantity.

A status difference that a missing completion explains (the legacy MES never heard the last unit was
done) is reported once, as the missing completion. The outcome is a Reconciliation with its differences,
replaced when the same adapter, site and day are reconciled again; `manage.py reconcile`, the nightly
Celery beat task and /integrations/reconciliations/ (with CSV) show them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from psycopg import sql

from mes.exports import row as spreadsheet_row
from mes.masterdata.models import OperationAlias
from mes.numbers import decimal_text
from travelers.models import Traveler, WorkOrder
from travelers.states import TravelerStatus

from . import b2mml
from .adapters import impl_for
from .adapters.legacy_db import identifier
from .errors import IntegrationError
from .formats import PARSERS
from .formats.legacy_rows import mapped_columns, sequence_key
from .inbox import parse_message
from .models import Adapter, InboxMessage, Reconciliation, ReconciliationDifference

Kind = ReconciliationDifference.Kind
STATUSES = ("released", "completed", "cancelled")


@dataclass
class OrderSide:
    number: str
    quantity: Decimal | None = None
    status: str = ""  # released, completed, cancelled, the raw legacy status when unknown; "" not known
    operations: list[str] | None = None  # canonical operation codes, None when that side has none


@dataclass
class Side:
    """What one system holds for the day: orders by number, completions by traveler number."""

    orders: dict[str, OrderSide] = field(default_factory=dict)
    completions: dict[str, tuple[str, Decimal]] = field(default_factory=dict)  # traveler -> (order, quantity)


def day_window(site, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    zone = zoneinfo.ZoneInfo(site.time_zone or "UTC")
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    return start, start + dt.timedelta(days=1)


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def _canonical(adapter: Adapter, site, codes: list[str]) -> list[str]:
    aliases = dict(
        OperationAlias.objects.filter(source_system=adapter.source_system, code__in=codes)
        .filter(Q(site=site) | Q(site__isnull=True))
        .order_by("-site_id")  # NULLs first: the site's own alias is read last and wins
        .values_list("code", "operation__code")
    )
    return [aliases.get(code, f"{code} (unmapped)") for code in codes]


# --- The legacy side ------------------------------------------------------------------------------------


def legacy_from_database(adapter: Adapter, site, start: dt.datetime, end: dt.datetime) -> Side:
    """The legacy database's orders changed in the window (and those with completions finished in it),
    their operations and status, and the completions finished in the window."""
    s = adapter.settings
    columns = mapped_columns(s, "columns", ("id", "number", "quantity", "status"))
    done_columns = s.get("completion_columns") or {}
    side = Side()
    plant = [s["plant"]] if s.get("plant") and columns.get("plant") else []
    plant_sql = sql.SQL(" AND {} = %s").format(identifier(columns["plant"])) if plant else sql.SQL("")
    with impl_for(adapter).connect() as conn:
        numbers: set[str] = set()
        if columns.get("changed"):
            rows = conn.execute(
                sql.SQL("SELECT {} FROM {} WHERE {} >= %s AND {} < %s{}").format(
                    identifier(columns["number"]),
                    identifier(s["orders_table"]),
                    identifier(columns["changed"]),
                    identifier(columns["changed"]),
                    plant_sql,
                ),
                [start, end, *plant],
            ).fetchall()
            numbers |= {str(r[0]) for r in rows}
        if s.get("completions_table") and done_columns.get("finished") and done_columns.get("order"):
            rows = conn.execute(
                sql.SQL("SELECT {}, {}, {} FROM {} WHERE {} >= %s AND {} < %s").format(
                    identifier(done_columns["traveler"]),
                    identifier(done_columns["order"]),
                    identifier(done_columns.get("quantity") or done_columns["order"]),
                    identifier(s["completions_table"]),
                    identifier(done_columns["finished"]),
                    identifier(done_columns["finished"]),
                ),
                [start, end],
            ).fetchall()
            for traveler, order, quantity in rows:
                side.completions[str(traveler)] = (
                    str(order),
                    _decimal(quantity) if done_columns.get("quantity") else None,
                )
                numbers.add(str(order))
        if not numbers:
            return side
        wanted = [columns[f] for f in ("number", "quantity", "status") if columns.get(f)]
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE {} = ANY(%s){}").format(
                sql.SQL(", ").join(identifier(c) for c in wanted),
                identifier(s["orders_table"]),
                identifier(columns["number"]),
                plant_sql,
            ),
            [sorted(numbers), *plant],
        ).fetchall()
        statuses = {
            s.get("status_released", "FREI"): "released",
            s.get("status_order_completed", ""): "completed",
            s.get("status_cancelled", ""): "cancelled",
        }
        for number, quantity, status in rows:
            side.orders[str(number)] = OrderSide(
                number=str(number), quantity=_decimal(quantity), status=statuses.get(status, str(status))
            )
        op_columns = s.get("operation_columns") or {}
        if s.get("operations_table") and op_columns.get("code"):
            ops = conn.execute(
                sql.SQL("SELECT * FROM {} WHERE {} = ANY(%s)").format(
                    identifier(s["operations_table"]), identifier(op_columns["order"])
                ),
                [sorted(side.orders)],
            )
            names = [d.name for d in ops.description]
            by_order: dict[str, list] = {}
            for row in ops.fetchall():
                op = dict(zip(names, row, strict=True))
                by_order.setdefault(str(op[op_columns["order"]]), []).append(op)
            for number, order in side.orders.items():
                listed = sorted(
                    by_order.get(number, []), key=lambda op: sequence_key(op.get(op_columns.get("sequence")))
                )
                codes = [str(op[op_columns["code"]]).strip() for op in listed]
                order.operations = _canonical(adapter, site, codes) if codes else None
    return side


def legacy_from_files(adapter: Adapter, site, start: dt.datetime, end: dt.datetime) -> Side:
    """What the legacy MES sent as files that day (the inbox keeps each message as received) and the
    completions Traveler wrote back as performance documents for it (outbox/ and outbox/accepted/)."""
    side = Side()
    messages = InboxMessage.objects.filter(adapter=adapter, received_at__gte=start, received_at__lt=end).order_by(
        "received_at", "id"
    )
    for message in messages:
        if message.message_type not in PARSERS:
            continue
        try:
            orders = parse_message(message)
        except IntegrationError:
            continue  # a message that cannot be read is a dead letter: the status page lists it
        for order in orders:
            if order.site_code and order.site_code != site.code:
                continue
            if order.action == "delete":
                side.orders[order.number] = OrderSide(order.number, None, "cancelled")
                continue
            codes = _canonical(adapter, site, order.operation_codes) if order.operation_codes else None
            quantity = _decimal(order.quantity)
            # a file says what was ordered, not how far it got: its completions are compared instead
            side.orders[order.number] = OrderSide(order.number, quantity, "", codes)
    outbox = impl_for(adapter).folder("outbox")
    if outbox is None:
        return side
    for folder in (outbox, outbox / "accepted"):
        for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
            try:
                root = b2mml.parse_xml(path.read_bytes())
            except b2mml.B2mmlError:
                continue
            ns = {"b": root.nsmap.get(None, "")}
            for response in root.findall(".//b:OperationsResponse", ns) + root.findall(".//b:ProductionResponse", ns):
                end_text = response.findtext("b:EndTime", namespaces=ns)
                when = dt.datetime.fromisoformat(end_text.replace("Z", "+00:00")) if end_text else None
                if when is None or not start <= when < end:
                    continue
                order = response.findtext("b:OperationsRequestID", namespaces=ns) or response.findtext(
                    "b:ProductionRequestID", namespaces=ns
                )
                produced = response.find(".//b:MaterialActual[b:MaterialUse='Produced']/b:Quantity", ns)
                quantity = (
                    _decimal(produced.findtext("b:QuantityString", namespaces=ns)) if produced is not None else None
                )
                side.completions[response.findtext("b:ID", namespaces=ns)] = (order or "", quantity)
    return side


# --- Traveler's side ------------------------------------------------------------------------------------


def traveler_side(adapter: Adapter, site, start: dt.datetime, end: dt.datetime, legacy_numbers: set[str]) -> Side:
    """Traveler's orders from this legacy system at the site: created in the window, completed in it, or
    named by the legacy side; and its travelers of those orders closed in the window."""
    side = Side()
    closed = Traveler.objects.filter(
        status=TravelerStatus.CLOSED, closed_at__gte=start, closed_at__lt=end, site=site
    ).filter(work_order__source_system=adapter.source_system)
    orders = WorkOrder.objects.filter(site=site, source_system=adapter.source_system).filter(
        Q(created_at__gte=start, created_at__lt=end)
        | Q(external_id__in=legacy_numbers)
        | Q(pk__in=closed.values("work_order_id"))
    )
    status_of = {
        WorkOrder.Status.RELEASED: "released",
        WorkOrder.Status.IN_PROGRESS: "released",
        WorkOrder.Status.COMPLETED: "completed",
        WorkOrder.Status.CANCELLED: "cancelled",
    }
    for order in orders:
        number = order.external_id or order.number
        side.orders[number] = OrderSide(
            number=number,
            quantity=order.quantity,
            status=status_of[order.status],
            operations=list(order.ordered_operations) or None,
        )
    for traveler in closed.select_related("item", "work_order"):
        order = traveler.work_order.external_id or traveler.work_order.number
        side.completions[traveler.number] = (order, traveler.item.quantity)
    return side


# --- Comparing ------------------------------------------------------------------------------------------


def _shown(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, list):
        return ", ".join(value)
    return str(value)


def compare(legacy: Side, traveler: Side) -> list[dict]:
    """The differences between the two sides, each {kind, work_order, traveler, legacy_value,
    traveler_value, detail}, in order-number order."""
    found: list[dict] = []

    def add(kind, order, *, traveler_number="", legacy_value=None, traveler_value=None, detail=""):
        found.append(
            {
                "kind": kind,
                "work_order": order,
                "traveler": traveler_number,
                "legacy_value": _shown(legacy_value),
                "traveler_value": _shown(traveler_value),
                "detail": detail,
            }
        )

    completion_orders = set()
    for number in sorted(set(legacy.completions) | set(traveler.completions)):
        old, new = legacy.completions.get(number), traveler.completions.get(number)
        if old is None:
            completion_orders.add(new[0])
            add(
                Kind.COMPLETION_MISSING_IN_LEGACY,
                new[0],
                traveler_number=number,
                traveler_value=new[1],
                detail=f"Traveler closed {number}; the legacy MES has no completion for it",
            )
        elif new is None:
            completion_orders.add(old[0])
            add(
                Kind.COMPLETION_MISSING_IN_TRAVELER,
                old[0],
                traveler_number=number,
                legacy_value=old[1],
                detail=f"the legacy MES has a completion of {number}; Traveler has not closed it that day",
            )
        elif old[1] is not None and old[1] != new[1]:
            add(
                Kind.COMPLETION_QUANTITY_MISMATCH,
                new[0],
                traveler_number=number,
                legacy_value=old[1],
                traveler_value=new[1],
            )
    for number in sorted(set(legacy.orders) | set(traveler.orders)):
        old, new = legacy.orders.get(number), traveler.orders.get(number)
        if old is None:
            add(
                Kind.ORDER_MISSING_IN_LEGACY,
                number,
                traveler_value=new.quantity,
                detail="Traveler has it; the legacy MES not",
            )
            continue
        if new is None:
            add(
                Kind.ORDER_MISSING_IN_TRAVELER,
                number,
                legacy_value=old.quantity,
                detail="never imported, or refused: see the dead letters",
            )
            continue
        if old.quantity is not None and old.quantity != new.quantity:
            add(Kind.QUANTITY_MISMATCH, number, legacy_value=old.quantity, traveler_value=new.quantity)
        if old.operations is not None and new.operations is not None and old.operations != new.operations:
            add(Kind.OPERATIONS_MISMATCH, number, legacy_value=old.operations, traveler_value=new.operations)
        if old.status and old.status != new.status and number not in completion_orders:
            add(Kind.STATUS_MISMATCH, number, legacy_value=old.status, traveler_value=new.status)
    return found


def reconcile(*, adapter: Adapter, site, day: dt.date) -> Reconciliation:
    """Compare one adapter's legacy side with Traveler for `site` on `day`; store and return the outcome
    (a legacy side that cannot be read is stored as the reconciliation's error, not raised)."""
    started = time.monotonic()
    start, end = day_window(site, day)
    error, differences, summary = "", [], {}
    try:
        if adapter.kind == Adapter.Kind.LEGACY_DB:
            legacy = legacy_from_database(adapter, site, start, end)
        elif adapter.kind == Adapter.Kind.FILE_DROP:
            legacy = legacy_from_files(adapter, site, start, end)
        else:
            raise IntegrationError(f"adapter {adapter.name} ({adapter.kind}) holds nothing to reconcile")
    except Exception as exc:  # noqa: BLE001 - the legacy side down: said on the page, not a crash
        error = f"the legacy side could not be read: {type(exc).__name__}: {exc}"
    else:
        ours = traveler_side(adapter, site, start, end, set(legacy.orders))
        differences = compare(legacy, ours)
        summary = {
            "orders_legacy": len(legacy.orders),
            "orders_traveler": len(ours.orders),
            "completions_legacy": len(legacy.completions),
            "completions_traveler": len(ours.completions),
        }
    with transaction.atomic():
        run, _ = Reconciliation.objects.update_or_create(
            adapter=adapter,
            site=site,
            day=day,
            defaults={
                "ran_at": timezone.now(),
                "seconds": time.monotonic() - started,
                "summary": summary,
                "error": error[:2000],
            },
        )
        run.differences.all().delete()
        ReconciliationDifference.objects.bulk_create(
            ReconciliationDifference(reconciliation=run, **d) for d in differences
        )
    return run


def reconcile_site(*, site, day: dt.date, adapter_name: str | None = None) -> list[Reconciliation]:
    """Reconcile every enabled inbound legacy adapter of the site (database or files), or the one named."""
    adapters = Adapter.objects.filter(
        enabled=True, inbound=True, kind__in=[Adapter.Kind.LEGACY_DB, Adapter.Kind.FILE_DROP], site=site
    )
    if adapter_name:
        adapters = Adapter.objects.filter(name=adapter_name)
        if not adapters.exists():
            raise IntegrationError(f"there is no adapter {adapter_name}")
    return [reconcile(adapter=a, site=site, day=day) for a in adapters.order_by("name")]


def differences_csv(run: Reconciliation) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["site", "day", "adapter", "kind", "work_order", "traveler", "legacy", "traveler_value", "detail"])
    for d in run.differences.all():
        writer.writerow(
            spreadsheet_row(
                [
                    run.site.code,
                    run.day.isoformat(),
                    run.adapter.name,
                    d.kind,
                    d.work_order,
                    d.traveler,
                    d.legacy_value,
                    d.traveler_value,
                    d.detail,
                ]
            )
        )
    return out.getvalue()
