"""The legacy MES's database: where it lives (its own database, legacy_mes, on Traveler's PostgreSQL
server, or $LEGACY_DB_URL), its tables with German-era names, and MAPPING, the legacy-database
adapter's settings that read and write them."""

from __future__ import annotations

import os
import time

import psycopg
from django.conf import settings
from django.db import connection
from psycopg import conninfo, sql

from mes import embedded

LEGACY_ENV = "LEGACY_DB_URL"
DATABASE_NAME = "legacy_mes"

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS "AUFTRAG" (
        "ID" bigserial PRIMARY KEY,
        "AUFNR" varchar(20) NOT NULL UNIQUE,
        "WERK" varchar(4) NOT NULL,
        "MATNR" varchar(40) NOT NULL,
        "REV" varchar(10) NOT NULL,
        "MENGE" numeric(13, 3) NOT NULL,
        "ENDTERMIN" date,
        "STATUS" varchar(4) NOT NULL DEFAULT 'ANGL',
        "GEAEND" timestamptz NOT NULL DEFAULT clock_timestamp())""",
    """CREATE TABLE IF NOT EXISTS "VORGANG" (
        "AUFNR" varchar(20) NOT NULL REFERENCES "AUFTRAG" ("AUFNR"),
        "VORNR" varchar(4) NOT NULL,
        "ARBGANG" varchar(20) NOT NULL,
        "TEXT" varchar(80),
        PRIMARY KEY ("AUFNR", "VORNR"))""",
    """CREATE TABLE IF NOT EXISTS "RUECKMELDUNG" (
        "ID" bigserial PRIMARY KEY,
        "BEGLEIT" varchar(30) NOT NULL UNIQUE,
        "AUFNR" varchar(20) NOT NULL,
        "SERNR" varchar(60),
        "MENGE" numeric(13, 3),
        "START" timestamptz,
        "ENDE" timestamptz,
        "MSGID" varchar(40),
        "STATUS" varchar(4),
        "ERFASST" timestamptz NOT NULL DEFAULT now(),
        "VERARB" timestamptz)""",
    """CREATE TABLE IF NOT EXISTS "PRUEFWERT" (
        "ID" bigserial PRIMARY KEY,
        "BEGLEIT" varchar(30) NOT NULL,
        "VORNR" integer NOT NULL,
        "ARBGANG" varchar(20),
        "MERKMAL" varchar(40) NOT NULL,
        "MESSWERT" varchar(500),
        "EINHEIT" varchar(30),
        "BEWERTUNG" varchar(6),
        "MSGID" varchar(40),
        UNIQUE ("BEGLEIT", "VORNR", "MERKMAL"))""",
    """CREATE TABLE IF NOT EXISTS "PRUEFHIST" (
        "ID" bigserial PRIMARY KEY,
        "WERK" varchar(4) NOT NULL,
        "ARBPL" varchar(30),
        "AUFNR" varchar(20),
        "SERNR" varchar(60),
        "MATNR" varchar(40) NOT NULL,
        "REV" varchar(10),
        "VORNR" varchar(4),
        "ARBGANG" varchar(20) NOT NULL,
        "MERKMAL" varchar(40) NOT NULL,
        "MESSWERT" numeric(24, 9),
        "EINHEIT" varchar(30),
        "UTOL" numeric(18, 6),
        "OTOL" numeric(18, 6),
        "PRUEFER" varchar(30),
        "ERFASST" timestamptz NOT NULL)""",
]

# The legacy-database adapter's settings that read and write the tables above.
MAPPING = {
    "orders_table": "AUFTRAG",
    "columns": {
        "id": "ID",
        "number": "AUFNR",
        "plant": "WERK",
        "part": "MATNR",
        "revision": "REV",
        "quantity": "MENGE",
        "due": "ENDTERMIN",
        "status": "STATUS",
        "changed": "GEAEND",
    },
    "status_released": "FREI",
    "status_cancelled": "STOR",
    "status_order_completed": "TABG",
    "operations_table": "VORGANG",
    "operation_columns": {"order": "AUFNR", "sequence": "VORNR", "code": "ARBGANG"},
    "completions_table": "RUECKMELDUNG",
    "completion_columns": {
        "traveler": "BEGLEIT",
        "order": "AUFNR",
        "identifier": "SERNR",
        "quantity": "MENGE",
        "started": "START",
        "finished": "ENDE",
        "message_id": "MSGID",
        "status": "STATUS",
    },
    "status_completion": "NEU",
    "history_table": "PRUEFHIST",
    "history_columns": {
        "id": "ID",
        "plant": "WERK",
        "work_center": "ARBPL",
        "order": "AUFNR",
        "identifier": "SERNR",
        "part": "MATNR",
        "revision": "REV",
        "step": "VORNR",
        "operation": "ARBGANG",
        "characteristic": "MERKMAL",
        "value": "MESSWERT",
        "unit": "EINHEIT",
        "lower": "UTOL",
        "upper": "OTOL",
        "person": "PRUEFER",
        "recorded": "ERFASST",
    },
    "results_table": "PRUEFWERT",
    "result_columns": {
        "traveler": "BEGLEIT",
        "step": "VORNR",
        "operation": "ARBGANG",
        "characteristic": "MERKMAL",
        "value": "MESSWERT",
        "unit": "EINHEIT",
        "judgment": "BEWERTUNG",
        "message_id": "MSGID",
    },
    "judgments": {"in_spec": "IO", "out_of_spec": "NIO", "recorded": "ERF"},
}


def server_dsn(dbname: str) -> str:
    """A connection string for database `dbname` on the server Traveler's own database is on."""
    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "passfile", "sslmode", "sslrootcert", "sslcert", "sslkey")
    return conninfo.make_conninfo(dbname=dbname, **{k: str(params[k]) for k in keep if params.get(k)})


def database_create(name: str, *, drop_first: bool = False) -> str:
    """Create database `name` on Traveler's server if it is missing; return its connection string."""
    admin = server_dsn(connection.settings_dict["NAME"])
    with psycopg.connect(admin, autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_dsn(name)


def database_drop(name: str) -> None:
    with psycopg.connect(server_dsn(connection.settings_dict["NAME"]), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def legacy_dsn() -> str:
    """$LEGACY_DB_URL; when unset, the simulator's database on Traveler's server (created with its
    tables if missing), and LEGACY_DB_URL is set to it for this process."""
    current = os.environ.get(LEGACY_ENV, "")
    if current:
        return current
    if getattr(settings, "DATABASE_SOURCE", "") == "embedded":
        dsn = embedded.ensure_running(DATABASE_NAME)
    else:
        dsn = database_create(DATABASE_NAME)
    schema_create(dsn)
    os.environ[LEGACY_ENV] = dsn
    return dsn


def schema_create(dsn: str) -> None:
    """The legacy tables (idempotent) and the order-number sequence, which starts from the time the
    database was set up so that a legacy database made afresh does not reuse numbers already imported."""
    start = 10_000_000 + (int(time.time()) // 60) % 9_000_000 * 10
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL('CREATE SEQUENCE IF NOT EXISTS "AUFNR_SEQ" START WITH {}').format(sql.Literal(start)))
        for statement in SCHEMA:
            conn.execute(statement)
