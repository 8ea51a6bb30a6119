"""Legacy database: read released work orders straight from the legacy MES's own tables, and write
completions and test results back into them.

The legacy database is a separate PostgreSQL database (psycopg 3). Its connection string is read from
the environment variable named by adapter.secret_env (or settings "dsn_env"), never stored. The demo
adapter (settings "simulator": true) falls back to the bundled simulator's database
(integrations.sim.legacy.legacy_dsn) when that variable is unset.

Its tables, its column names and its codes are the customer's; adapter.settings maps them, e.g.:

    {"orders_table": "AUFTRAG",
     "columns": {"id": "ID", "number": "AUFNR", "part": "MATNR", "revision": "REV", "quantity": "MENGE",
                 "due": "ENDTERMIN", "status": "STATUS", "changed": "GEAEND", "plant": "WERK"},
     "status_released": "FREI", "status_cancelled": "STOR", "plant": "FR20",
     "operations_table": "VORGANG", "operation_columns": {"order": "AUFNR", "sequence": "VORNR", "code": "ARBGANG"},
     "completions_table": "RUECKMELDUNG",
     "completion_columns": {"traveler": "BEGLEIT", "order": "AUFNR", "identifier": "SERNR", "quantity": "MENGE",
                            "started": "START", "finished": "ENDE", "message_id": "MSGID", "status": "STATUS"},
     "status_completion": "NEU",
     "results_table": "PRUEFWERT",
     "result_columns": {"traveler": "BEGLEIT", "step": "VORNR", "operation": "ARBGANG", "characteristic": "MERKMAL",
                        "value": "MESSWERT", "unit": "EINHEIT", "judgment": "BEWERTUNG", "message_id": "MSGID"},
     "judgments": {"in_spec": "I.O.", "out_of_spec": "N.I.O.", "recorded": "ERF"},
     "status_order_completed": "TABG", "batch": 200, "lag_seconds": 0}

Inbound (`poll`): released orders (status = status_released, of `plant` when set) — and, when
status_cancelled is set, cancelled ones, which cancel the work order (as a B2MML Delete) — changed after the
checkpoint (the last change timestamp and row id handled: keyset order, so a restart resumes where it
stopped and never re-imports), each with its operations in sequence order. Each order is one inbox
message (source = table, external id = order number, version = its change timestamp): a repeat
changes nothing; a re-released (changed) order is a new version, applied as a change before work began
and shown as a conflict after. The inbox reads the message with integrations.formats.legacy_rows. Rows
changed in the last `lag_seconds` (by the legacy server's clock) wait for the next poll, so a legacy
transaction still in flight when its timestamp was taken is not skipped.

Outbound (`publish`): on "traveler.closed" of one of this system's work orders, one completion row per
traveler (upsert by traveler number; the status column only on insert, so the legacy MES may move it
on) and one result row per standing value (upsert by traveler, step and characteristic), each with the
event's message id; and the order's status when the work order is completed. Delivering twice writes
the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from decimal import Decimal

import psycopg
from psycopg import sql

from integrations.completions import closed_travelers
from integrations.errors import IntegrationError
from integrations.formats.legacy_rows import MESSAGE_TYPE, ORDER_FIELDS, REQUIRED_ORDER_FIELDS, mapped_columns
from integrations.inbox import inbox_process, inbox_receive
from integrations.models import InboxMessage
from integrations.sim.legacy import legacy_dsn

from .base import AdapterImpl

log = logging.getLogger(__name__)


def identifier(name: str) -> sql.Composable:
    """A table or column name from the mapping, quoted as written ("schema.TABLE" allowed)."""
    return sql.Identifier(*name.split("."))


def _jsonable(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Impl(AdapterImpl):
    # --- Connection -------------------------------------------------------------------------------

    def dsn(self) -> str:
        env = self.adapter.secret_env or self.setting("dsn_env") or ""
        value = os.environ.get(env, "") if env else ""
        if value:
            return value
        if self.setting("simulator"):
            return legacy_dsn()
        if not env:
            raise IntegrationError(f"adapter {self.adapter.name}: set secret_env to the variable holding the DSN")
        raise IntegrationError(f"adapter {self.adapter.name}: the environment variable {env} (legacy DSN) is not set")

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn(), connect_timeout=10, application_name=f"traveler:{self.adapter.name}")

    # --- Inbound ----------------------------------------------------------------------------------

    def fetch_released(self, conn) -> list[dict]:
        """The next released orders after the checkpoint, as {column: value} rows with their operations."""
        s = self.adapter.settings
        table = s.get("orders_table")
        if not table:
            raise IntegrationError("the legacy mapping does not name its orders_table")
        columns = mapped_columns(s, "columns", REQUIRED_ORDER_FIELDS)
        wanted = [columns[f] for f in ORDER_FIELDS if columns.get(f)]
        statuses = [s.get("status_released", "FREI")] + ([s["status_cancelled"]] if s.get("status_cancelled") else [])
        conditions = [sql.SQL("{} = ANY(%s)").format(identifier(columns["status"]))]
        params: list = [statuses]
        if s.get("plant") and columns.get("plant"):
            conditions.append(sql.SQL("{} = %s").format(identifier(columns["plant"])))
            params.append(s["plant"])
        id_col = identifier(columns["id"])
        last_id = self.checkpoint("last_id")
        if columns.get("changed"):
            changed_col = identifier(columns["changed"])
            last_changed = self.checkpoint("last_changed")
            if last_changed:
                conditions.append(sql.SQL("({}, {}) > (%s, %s)").format(changed_col, id_col))
                params += [dt.datetime.fromisoformat(last_changed), int(last_id or 0)]
            lag = float(s.get("lag_seconds", 0) or 0)
            if lag:
                conditions.append(sql.SQL("{} <= now() - make_interval(secs => %s)").format(changed_col))
                params.append(lag)
            order_by = sql.SQL("{}, {}").format(changed_col, id_col)
        else:
            if last_id:
                conditions.append(sql.SQL("{} > %s").format(id_col))
                params.append(int(last_id))
            order_by = id_col
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT %s").format(
            sql.SQL(", ").join(identifier(c) for c in wanted),
            identifier(table),
            sql.SQL(" AND ").join(conditions),
            order_by,
        )
        params.append(int(s.get("batch", 200) or 200))
        with conn.cursor() as cur:
            cur.execute(query, params)
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        operations = self.fetch_operations(conn, [r[columns["number"]] for r in rows])
        return [{"row": r, "operations": operations.get(r[columns["number"]], [])} for r in rows]

    def fetch_operations(self, conn, numbers: list) -> dict:
        s = self.adapter.settings
        table = s.get("operations_table")
        if not table or not numbers:
            return {}
        op_columns = mapped_columns(s, "operation_columns", ("order", "code"))
        order_col = op_columns["order"]
        query = sql.SQL("SELECT * FROM {} WHERE {} = ANY(%s) ORDER BY {}").format(
            identifier(table),
            identifier(order_col),
            sql.SQL(", ").join(identifier(op_columns[f]) for f in ("order", "sequence") if op_columns.get(f)),
        )
        found: dict = {}
        with conn.cursor() as cur:
            cur.execute(query, [numbers])
            names = [d.name for d in cur.description]
            for r in cur.fetchall():
                op = dict(zip(names, r, strict=True))
                found.setdefault(op[order_col], []).append(op)
        return found

    def poll(self) -> int:
        s = self.adapter.settings
        columns = mapped_columns(s, "columns", REQUIRED_ORDER_FIELDS)
        with self.connect() as conn:
            orders = self.fetch_released(conn)
        for order in orders:
            row = order["row"]
            changed = row.get(columns.get("changed")) if columns.get("changed") else None
            payload = json.dumps(
                {
                    "table": s["orders_table"],
                    "row": {k: _jsonable(v) for k, v in row.items()},
                    "operations": [{k: _jsonable(v) for k, v in op.items()} for op in order["operations"]],
                },
                sort_keys=True,
            )
            message, created = inbox_receive(
                adapter=self.adapter,
                source=s["orders_table"],
                external_id=str(row[columns["number"]]),
                version=changed.isoformat() if isinstance(changed, dt.datetime) else str(changed or "1"),
                message_type=MESSAGE_TYPE,
                payload=payload,
            )
            if created or message.status == InboxMessage.Status.PENDING:
                message = inbox_process(message.pk)
                if message.status == InboxMessage.Status.DEAD:
                    log.warning("legacy order %s refused: %s", row[columns["number"]], message.reason)
            if changed is not None:
                self.set_checkpoint("last_changed", changed.isoformat())
            self.set_checkpoint("last_id", str(row[columns["id"]]))
        return len(orders)

    # --- Outbound ---------------------------------------------------------------------------------

    def publish(self, messages) -> dict[int, str | None]:
        outcome: dict[int, str | None] = {m.pk: None for m in messages}
        closed = [m for m in messages if m.event_type == "traveler.closed"]
        if not closed or not self.setting("completions_table"):
            return outcome
        with self.connect() as conn:
            for message in closed:
                try:
                    with conn.transaction():
                        self.write_completion(conn, message)
                except (psycopg.Error, IntegrationError) as exc:
                    outcome[message.pk] = f"{type(exc).__name__}: {exc}"
        return outcome

    def write_completion(self, conn, message) -> bool:
        """Write one closed traveler back; False when it is not this legacy system's (nothing written)."""
        if self.adapter.site_id and message.site_code and message.site_code != self.adapter.site.code:
            return False
        records = closed_travelers(numbers=[message.aggregate_id], source_system=self.adapter.source_system)
        if not records or records[0].source_system != self.adapter.source_system:
            return False  # a traveler of an order this system did not send
        t = records[0]
        s = self.adapter.settings
        columns = mapped_columns(s, "completion_columns", ("traveler",))
        message_id = str(message.message_id)
        data = {
            "order": t.work_order_external_id,
            "identifier": t.identifier,
            "quantity": t.quantity,
            "started": t.started_at,
            "finished": t.closed_at,
            "message_id": message_id,
        }
        upsert(
            conn,
            s["completions_table"],
            key={columns["traveler"]: t.number},
            values={columns[f]: v for f, v in data.items() if columns.get(f)},
            on_insert={columns["status"]: s.get("status_completion", "NEU")} if columns.get("status") else {},
        )
        if s.get("results_table"):
            self.write_results(conn, t, message_id)
        if t.work_order_status == "completed" and s.get("status_order_completed"):
            order_columns = mapped_columns(s, "columns", ("number", "status"))
            conn.execute(
                sql.SQL("UPDATE {} SET {} = %s WHERE {} = %s").format(
                    identifier(s["orders_table"]),
                    identifier(order_columns["status"]),
                    identifier(order_columns["number"]),
                ),
                [s["status_order_completed"], t.work_order_external_id],
            )
        return True

    def write_results(self, conn, t, message_id: str) -> None:
        s = self.adapter.settings
        columns = mapped_columns(s, "result_columns", ("traveler", "step", "characteristic", "value"))
        judgments = s.get("judgments") or {}
        for step in t.steps:
            for v in step.values:
                data = {
                    "operation": step.site_alias or step.operation_code,
                    "value": v.value,
                    "unit": v.unit,
                    "judgment": judgments.get(v.judgment, v.judgment),
                    "message_id": message_id,
                }
                upsert(
                    conn,
                    s["results_table"],
                    key={
                        columns["traveler"]: t.number,
                        columns["step"]: step.sequence,
                        columns["characteristic"]: v.code,
                    },
                    values={columns[f]: value for f, value in data.items() if columns.get(f)},
                )


def upsert(conn, table: str, *, key: dict, values: dict, on_insert: dict | None = None) -> None:
    """Update the row with `key`, or insert it: plain SQL, so the legacy table needs no unique
    constraint (the relay hands one message to one worker at a time)."""
    where = sql.SQL(" AND ").join(sql.SQL("{} = %s").format(identifier(c)) for c in key)
    if values:
        assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(identifier(c)) for c in values)
        query = sql.SQL("UPDATE {} SET {} WHERE {}").format(identifier(table), assignments, where)
        updated = conn.execute(query, [*values.values(), *key.values()]).rowcount
    else:
        query = sql.SQL("SELECT 1 FROM {} WHERE {}").format(identifier(table), where)
        updated = len(conn.execute(query, list(key.values())).fetchall())
    if updated:
        return
    row = {**key, **values, **(on_insert or {})}
    conn.execute(
        sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
            identifier(table),
            sql.SQL(", ").join(identifier(c) for c in row),
            sql.SQL(", ").join([sql.Placeholder()] * len(row)),
        ),
        list(row.values()),
    )
