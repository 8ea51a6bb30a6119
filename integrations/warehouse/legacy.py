"""The legacy systems' own history into the warehouse, through the legacy-database adapters.

Each enabled legacy-database adapter whose settings name a `history_table` (and `history_columns`,
e.g. the simulator's PRUEFHIST: integrations.sim.legacy.MAPPING) is read after the last row id taken,
in id order, on its own connection (its DSN from its secret_env, as for orders), limited to its plant.
Operation codes are the site's own (CT1, Coat1…): they are resolved through the same operation aliases
as the orders (source system and site of the adapter); a code nobody mapped yet goes to the
unmapped-code queue and its values come in with no canonical operation (the characteristic is known).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from psycopg import sql

from integrations.adapters.legacy_db import Impl, identifier
from integrations.errors import IntegrationError
from integrations.models import Adapter
from mes.masterdata.models import OperationAlias
from mes.masterdata.services import unmapped_code_record

REQUIRED = ("id", "plant", "operation", "characteristic", "value", "recorded")
OPTIONAL = ("work_center", "order", "identifier", "part", "revision", "step", "unit", "lower", "upper", "person")


def history_adapters() -> list[Adapter]:
    adapters = Adapter.objects.filter(kind=Adapter.Kind.LEGACY_DB, enabled=True).select_related("site")
    return [a for a in adapters.order_by("name") if a.settings.get("history_table")]


def source_name(adapter: Adapter) -> str:
    return f"legacy:{adapter.name}"


def _columns(adapter: Adapter) -> dict[str, str]:
    columns = adapter.settings.get("history_columns") or {}
    missing = [f for f in REQUIRED if not columns.get(f)]
    if missing:
        raise IntegrationError(
            f"adapter {adapter.name}: settings.history_columns does not name the column for {', '.join(missing)}"
        )
    return columns


def history_fetch(adapter: Adapter, last_id: int, *, limit: int) -> list[dict]:
    """Raw history rows after `last_id` ({field: value}, fields as in history_columns)."""
    columns = _columns(adapter)
    fields = [f for f in (*REQUIRED, *OPTIONAL) if columns.get(f)]
    query = sql.SQL("SELECT {} FROM {} WHERE {} > %s").format(
        sql.SQL(", ").join(identifier(columns[f]) for f in fields),
        identifier(adapter.settings["history_table"]),
        identifier(columns["id"]),
    )
    params: list = [last_id]
    if adapter.settings.get("plant"):
        query += sql.SQL(" AND {} = %s").format(identifier(columns["plant"]))
        params.append(adapter.settings["plant"])
    query += sql.SQL(" ORDER BY {} LIMIT %s").format(identifier(columns["id"]))
    params.append(limit)
    with Impl(adapter).connect() as conn:
        return [dict(zip(fields, row, strict=True)) for row in conn.execute(query, params).fetchall()]


def alias_map(adapter: Adapter) -> dict[str, str]:
    """The adapter's codes -> canonical operation codes (a site's alias wins over a system-wide one)."""
    found: dict[str, str] = {}
    aliases = OperationAlias.objects.filter(source_system=adapter.source_system).select_related("operation")
    for alias in aliases.order_by("site_id"):  # system-wide (NULL) last in PostgreSQL's order: site wins
        if alias.site_id is None or alias.site_id == adapter.site_id:
            found.setdefault(alias.code, alias.operation.code)
    return found


def _f(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(Decimal(str(value)))
    except ArithmeticError:
        return None


def judge(value: float | None, lower: float | None, upper: float | None) -> str:
    if value is None or (lower is None and upper is None):
        return "recorded"
    if (lower is not None and value < lower) or (upper is not None and value > upper):
        return "out_of_spec"
    return "in_spec"


def history_rows(adapter: Adapter, raw: list[dict]) -> list[dict]:
    """Warehouse rows for raw history rows; unmapped operation codes are queued once each."""
    if adapter.site is None:
        raise IntegrationError(f"adapter {adapter.name}: a legacy history needs the adapter's site")
    aliases = alias_map(adapter)
    unmapped: set[str] = set()
    rows = []
    for r in raw:
        code = str(r["operation"] or "").strip()
        if code not in aliases and code not in unmapped:
            unmapped.add(code)
            unmapped_code_record(
                kind="operation",
                source_system=adapter.source_system,
                site=adapter.site,
                code=code,
                context={"adapter": adapter.name, "table": adapter.settings["history_table"], "row": r["id"]},
            )
        value, lower, upper = _f(r["value"]), _f(r.get("lower")), _f(r.get("upper"))
        recorded = r["recorded"]
        if isinstance(recorded, dt.datetime):  # a UTC time, whatever the legacy server's zone
            recorded = recorded.replace(tzinfo=dt.UTC) if recorded.tzinfo is None else recorded.astimezone(dt.UTC)
        rows.append(
            {
                "source": source_name(adapter),
                "source_id": int(r["id"]),
                "supersedes_id": None,
                "site_code": adapter.site.code,
                "work_center": r.get("work_center") or None,
                "part_number": r.get("part") or None,
                "part_revision": r.get("revision") or None,
                "routing_revision": None,
                "operation_code": aliases.get(code),
                "operation_alias": code,
                "characteristic_code": str(r["characteristic"]).strip(),
                "kind": "numeric" if value is not None else "text",
                "unit": r.get("unit") or None,
                "value": value,
                "value_text": None if value is not None else (str(r["value"]) if r["value"] is not None else None),
                "lower_limit": lower,
                "upper_limit": upper,
                "nominal": None,
                "judgment": judge(value, lower, upper),
                "moving_range": None,
                "recorded_at": recorded,
                "day": recorded.date(),
                "person": r.get("person") or None,
                "traveler_number": None,
                "serial_or_lot": r.get("identifier") or None,
                "step_sequence": int(r["step"]) if str(r.get("step") or "").isdigit() else None,
                "replaced_value": None,
                "replaced_recorded_at": None,
            }
        )
    return rows
