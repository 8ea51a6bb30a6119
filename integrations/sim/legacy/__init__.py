"""The legacy MES simulator: the factory's old system, beside Traveler on a laptop and in CI.

It owns a database of its own, `legacy_mes`, on the PostgreSQL server Traveler uses (the private
embedded server, or the server of DATABASE_URL), with German-era table and column names and each
site's cryptic codes (travelers.demo.sites.ALIASES: CT1 at Wichita, Coat1 at Toulouse…). Over time
it releases work orders: Toulouse's into its tables (read by the legacy-database adapter), Wichita's as
B2MML files dropped into the file-drop inbox (V0401, V0500 and V0700 in turn), Querétaro's as its ERP's
V0600 ProductionSchedule export (no revision, quantities in PCS, the route nested in a product segment)
into Querétaro's file-drop inbox. It accepts what comes back — completion and result rows in its tables,
performance documents in the file-drop outbox — and logs them.

    LEGACY_DB_URL   the legacy database's connection string. When unset, `legacy_dsn()` derives it
                    from Traveler's own database (same server, database legacy_mes), creates that
                    database if needed and sets the variable for this process; the demo adapter
                    (settings "simulator": true) calls it, so `make run` needs no configuration.

Tables (all names quoted upper case, as the legacy system created them):
    AUFTRAG       orders: ID, AUFNR (number), WERK (plant), MATNR (part), REV, MENGE (quantity),
                  ENDTERMIN (due), STATUS (ANGL created, FREI released, STOR cancelled,
                  TABG completed), GEAEND (changed)
    VORGANG       operations: AUFNR, VORNR ("0010"…), ARBGANG (the site's operation code), TEXT
    RUECKMELDUNG  completions written back: BEGLEIT (traveler), AUFNR, SERNR, MENGE, START, ENDE, MSGID,
                  STATUS, ERFASST, VERARB (set by the legacy MES once it has taken the completion)
    PRUEFWERT     results written back: BEGLEIT, VORNR, ARBGANG, MERKMAL, MESSWERT, EINHEIT, BEWERTUNG, MSGID
    PRUEFHIST     the legacy MES's own inspection history, from before Traveler (`history_generate`):
                  ID, WERK, ARBPL (work center), AUFNR, SERNR, MATNR, REV, VORNR, ARBGANG, MERKMAL,
                  MESSWERT, EINHEIT, UTOL/OTOL (spec limits), PRUEFER (inspector), ERFASST (recorded)

The simulator by idea: `database` (where it lives, its tables, how the legacy-database adapter maps
them), `orders` (plants, orders written into its tables, completions taken back), `documents` (the
B2MML files it drops and the performance documents it takes), `history` (PRUEFHIST), `simulator`
(LegacySimulator, releasing over time). Its public names are re-exported here: the adapters, the
commands, the benches and the tests use it as `legacy.<name>`.
"""

from __future__ import annotations

from .database import (
    DATABASE_NAME,
    LEGACY_ENV,
    MAPPING,
    SCHEMA,
    database_create,
    database_drop,
    legacy_dsn,
    schema_create,
    server_dsn,
)
from .documents import LEGACY_SYSTEM_NAME, VERSIONS, drop_file, performance_files_accept, schedule_document
from .history import history_generate
from .orders import PLANTS, LegacyOrder, completions_accept, next_number, order_release
from .simulator import UNMAPPED_CODES, LegacySimulator, demo_orders_for

__all__ = [
    "DATABASE_NAME",
    "LEGACY_ENV",
    "LEGACY_SYSTEM_NAME",
    "MAPPING",
    "PLANTS",
    "SCHEMA",
    "UNMAPPED_CODES",
    "VERSIONS",
    "LegacyOrder",
    "LegacySimulator",
    "completions_accept",
    "database_create",
    "database_drop",
    "demo_orders_for",
    "drop_file",
    "history_generate",
    "legacy_dsn",
    "next_number",
    "order_release",
    "performance_files_accept",
    "schedule_document",
    "schema_create",
    "server_dsn",
]
