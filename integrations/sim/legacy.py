"""The legacy MES simulator: the factory's old system, beside Traveler on a laptop and in CI.

It owns a database of its own, `legacy_mes`, on the PostgreSQL server Traveler uses (the private
embedded server, or the server of DATABASE_URL), with German-era table and column names and each
site's cryptic codes (mes.masterdata.ALIASES: CT1 at Wichita, Coat1 at Toulouse…). Over time
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
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from lxml import etree
from psycopg import conninfo, sql

LEGACY_ENV = "LEGACY_DB_URL"
DATABASE_NAME = "legacy_mes"
LEGACY_SYSTEM_NAME = "LEGACY-MES"
PLANTS = {"WIC": "US10", "TLS": "FR20", "QRO": "MX30"}  # the legacy system's plant codes
UNMAPPED_CODES = {"WIC": "CT2", "TLS": "Coat2", "QRO": "Coating-2"}  # codes nobody has mapped yet
VERSIONS = ("V0401", "V0500", "V0700")

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


# --- The database: where it lives -----------------------------------------------------------------


def server_dsn(dbname: str) -> str:
    """A connection string for database `dbname` on the server Traveler's own database is on."""
    from django.db import connection

    params = connection.get_connection_params()
    keep = ("host", "port", "user", "password", "passfile", "sslmode", "sslrootcert", "sslcert", "sslkey")
    return conninfo.make_conninfo(dbname=dbname, **{k: str(params[k]) for k in keep if params.get(k)})


def database_create(name: str, *, drop_first: bool = False) -> str:
    """Create database `name` on Traveler's server if it is missing; return its connection string."""
    from django.db import connection

    admin = server_dsn(connection.settings_dict["NAME"])
    with psycopg.connect(admin, autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_dsn(name)


def database_drop(name: str) -> None:
    from django.db import connection

    with psycopg.connect(server_dsn(connection.settings_dict["NAME"]), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def legacy_dsn() -> str:
    """$LEGACY_DB_URL; when unset, the simulator's database on Traveler's server (created with its
    tables if missing), and LEGACY_DB_URL is set to it for this process."""
    current = os.environ.get(LEGACY_ENV, "")
    if current:
        return current
    from django.conf import settings

    if getattr(settings, "DATABASE_SOURCE", "") == "embedded":
        from mes import embedded

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


# --- What the legacy MES does ------------------------------------------------------------------------


@dataclass
class LegacyOrder:
    number: str
    site: str  # Traveler's site code (the legacy system calls it PLANTS[site])
    part: str
    revision: str
    quantity: int
    due: dt.date
    codes: list[str]

    @property
    def plant(self) -> str:
        return PLANTS.get(self.site, self.site)


def next_number(conn) -> str:
    return str(conn.execute("""SELECT nextval('"AUFNR_SEQ"')""").fetchone()[0])


def order_release(conn, order: LegacyOrder) -> None:
    """Write a released order and its operations into the legacy tables, as the legacy MES does."""
    with conn.transaction():
        conn.execute(
            'INSERT INTO "AUFTRAG" ("AUFNR", "WERK", "MATNR", "REV", "MENGE", "ENDTERMIN", "STATUS") '
            "VALUES (%s, %s, %s, %s, %s, %s, 'FREI')",
            [order.number, order.plant, order.part, order.revision, order.quantity, order.due],
        )
        for index, code in enumerate(order.codes, start=1):
            conn.execute(
                'INSERT INTO "VORGANG" ("AUFNR", "VORNR", "ARBGANG") VALUES (%s, %s, %s)',
                [order.number, f"{index * 10:04d}", code],
            )


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def schedule_document(orders: list[LegacyOrder], version: str = "V0700", *, now: dt.datetime | None = None) -> bytes:
    """The B2MML schedule the legacy MES drops for `orders`, valid against the schema of its version:
    V0401/V0500 SyncProductionSchedule (MaterialProducedRequirement with a Revision property),
    V0700 SyncOperationsSchedule, or V0600 as a Querétaro-style ERP export — a bare ProductionSchedule,
    the route as segments nested in an order-level product segment, quantities in PCS and no revision
    (the part's current released revision applies)."""
    from integrations import b2mml

    now = now or dt.datetime.now(dt.UTC)
    ns = b2mml.NAMESPACE_OF[version]
    production = version in ("V0401", "V0500", "V0600")
    family = "Production" if production else "Operations"
    erp_style = version == "V0600"

    def el(parent, name, text=None):
        node = etree.SubElement(parent, f"{{{ns}}}{name}")
        if text is not None:
            node.text = str(text)
        return node

    def scope(parent, plant):
        node = el(parent, "Location" if version in ("V0401", "V0500") else "HierarchyScope")
        el(node, "EquipmentID", plant)
        el(node, "EquipmentElementLevel", "Site")

    def produced(parent, order):
        material = el(parent, "MaterialProducedRequirement" if production else "MaterialRequirement")
        el(material, "MaterialDefinitionID", order.part)
        if not production:
            el(material, "MaterialUse", "Produced")
        quantity = el(material, "Quantity")
        el(quantity, "QuantityString", order.quantity)
        el(quantity, "DataType", "integer")
        el(quantity, "UnitOfMeasure", "PCS" if erp_style else "EA")
        if not erp_style:
            prop = el(material, f"{material.tag.split('}')[1]}Property")
            el(prop, "ID", "Revision")
            value = el(prop, "Value")
            el(value, "ValueString", order.revision)
            el(value, "DataType", "string")
            el(value, "UnitOfMeasure")

    if erp_style:
        root = schedule = etree.Element(f"{{{ns}}}ProductionSchedule", nsmap={None: ns})
        el(schedule, "ID", f"SCHED-{now:%Y%m%d%H%M%S}")
    else:
        root = etree.Element(f"{{{ns}}}Sync{family}Schedule", nsmap={None: ns}, releaseID=version.lstrip("V"))
        area = el(root, "ApplicationArea")
        el(el(area, "Sender"), "LogicalID", LEGACY_SYSTEM_NAME)
        el(area, "CreationDateTime", _iso(now))
        data_area = el(root, "DataArea")
        el(data_area, "Sync")
        schedule = el(data_area, f"{family}Schedule")
        el(schedule, "ID", f"SCHED-{now:%Y%m%d%H%M%S}")
    if not production or erp_style:
        el(schedule, "PublishedDate", _iso(now))
    for order in orders:
        request = el(schedule, f"{family}Request")
        el(request, "ID", order.number)
        el(request, "Description", f"{order.quantity} x {order.part} rev {order.revision}")
        scope(request, order.plant)
        el(request, "StartTime", _iso(now))
        el(request, "EndTime", f"{order.due.isoformat()}T16:00:00Z")
        if erp_style:  # the order itself is a product segment holding the route's operations
            top = el(request, "SegmentRequirement")
            el(top, "ID", "0000")
            el(top, "ProductSegmentID", order.part)
            produced(top, order)
            for index, code in enumerate(order.codes):
                segment = el(top, "SegmentRequirement")
                el(segment, "ID", f"{(index + 1) * 10:04d}")
                el(segment, "ProcessSegmentID", code)
            continue
        last = len(order.codes) - 1
        for index, code in enumerate(order.codes):
            segment = el(request, "SegmentRequirement")
            el(segment, "ID", f"{(index + 1) * 10:04d}")
            el(segment, "ProcessSegmentID" if production else "OperationsSegmentID", code)
            if index == last:
                produced(segment, order)
        if not order.codes:
            produced(el(request, "SegmentRequirement"), order)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def drop_file(folder: Path, name: str, data: bytes) -> Path:
    """Drop a file the way a careful legacy system does: written under a temporary name, then renamed."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    target = folder / name
    os.replace(tmp, target)
    return target


def completions_accept(conn) -> list[dict]:
    """The completions Traveler wrote back and the legacy MES has not taken yet; marks them taken."""
    with conn.transaction():
        rows = conn.execute(
            'SELECT "BEGLEIT", "AUFNR", "SERNR", "MENGE", "ENDE", "MSGID", '
            '(SELECT count(*) FROM "PRUEFWERT" p WHERE p."BEGLEIT" = r."BEGLEIT") '
            'FROM "RUECKMELDUNG" r WHERE "VERARB" IS NULL ORDER BY "ID" FOR UPDATE'
        ).fetchall()
        conn.execute('UPDATE "RUECKMELDUNG" SET "VERARB" = now() WHERE "VERARB" IS NULL')
    names = ("traveler", "order", "identifier", "quantity", "finished", "message_id", "results")
    return [dict(zip(names, row, strict=True)) for row in rows]


def performance_files_accept(outbox: Path) -> list[tuple[Path, list[str]]]:
    """Performance documents in the file-drop outbox: read (the travelers they report), then moved to
    outbox/accepted/ — nothing is deleted."""
    from integrations import b2mml

    if not outbox.is_dir():
        return []
    accepted = []
    for path in sorted(outbox.glob("*.xml")):
        try:
            root = b2mml.parse_xml(path.read_bytes())
            ns = etree.QName(root).namespace
            responses = [f"{{{ns}}}OperationsResponse/{{{ns}}}ID", f"{{{ns}}}ProductionResponse/{{{ns}}}ID"]
            travelers = [e.text for xpath in responses for e in root.findall(f".//{xpath}") if e.text]
        except b2mml.B2mmlError as exc:
            travelers = [f"unreadable ({exc})"]
        (outbox / "accepted").mkdir(exist_ok=True)
        target = outbox / "accepted" / path.name
        shutil.move(str(path), str(target))
        accepted.append((target, travelers))
    return accepted


# --- The legacy MES's own history ------------------------------------------------------------------


def history_generate(conn, *, site: str, count: int, seed: int = 17, end: dt.datetime | None = None) -> int:
    """Write `count` historical inspection results of `site` into PRUEFHIST, as the legacy MES recorded
    them before Traveler: each numeric characteristic of the site's demo parts, under the site's own
    operation code, one value an hour back from `end`, normally spread around the middle of the spec
    (σ an eighth of the tolerance, so a few fall outside). Returns how many rows it wrote."""
    from travelers.demo.parts import PARTS
    from travelers.demo.sites import ALIAS_SITE_ORDER, ALIASES

    column = ALIAS_SITE_ORDER.index(site)
    slots = [
        (part, step, char)
        for part in PARTS
        if part.site == site
        for step in part.steps
        for char in step.characteristics
        if char.kind == "numeric" and char.lower_limit is not None and char.upper_limit is not None
    ]
    if not slots or count <= 0:
        return 0
    rng = random.Random(seed)  # noqa: S311 - simulated data, not security
    end = end or dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        part, step, char = slots[i % len(slots)]
        low, high = float(char.lower_limit), float(char.upper_limit)
        value = rng.gauss((low + high) / 2, (high - low) / 8)
        rows.append(
            (
                PLANTS.get(site, site),
                step.work_center,
                f"H{i // len(slots):07d}",
                f"{part.number}-H{i // len(slots):05d}",
                part.number,
                part.revision,
                f"{step.sequence:04d}",
                ALIASES[step.operation][column],
                char.code,
                round(value, char.decimals),
                char.unit,
                char.lower_limit,
                char.upper_limit,
                f"P{rng.randint(100, 999)}",
                end - dt.timedelta(hours=count - i),
            )
        )
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            'INSERT INTO "PRUEFHIST" ("WERK", "ARBPL", "AUFNR", "SERNR", "MATNR", "REV", "VORNR", "ARBGANG", '
            '"MERKMAL", "MESSWERT", "EINHEIT", "UTOL", "OTOL", "PRUEFER", "ERFASST") '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)


# --- The simulator ---------------------------------------------------------------------------------


def demo_orders_for(site: str) -> list[tuple[str, str, list[str]]]:
    """(part, revision, the site's operation codes along its routing) for each demo part made at `site`."""
    from travelers.demo.parts import PARTS
    from travelers.demo.sites import ALIAS_SITE_ORDER, ALIASES

    column = ALIAS_SITE_ORDER.index(site)
    return [
        (part.number, part.revision, [ALIASES[step.operation][column] for step in part.steps])
        for part in PARTS
        if part.site == site
    ]


class LegacySimulator:
    """Releases work orders over time — through the database for `db_site`, as B2MML files for
    `file_site` (V0401, V0500, V0700 in turn) and for each of `erp_sites` (site -> inbox folder: the
    V0600 ERP export, no revision) — and takes the completions that come back. The first round releases
    one order per channel at once, so every site has work within seconds; then one every interval.
    Bounded: `run` stops by itself."""

    def __init__(
        self,
        *,
        dsn: str,
        inbox: Path | None,
        outbox: Path | None,
        db_site: str | None = "TLS",
        file_site: str | None = "WIC",
        erp_sites: dict[str, Path] | None = None,
        versions: tuple[str, ...] = VERSIONS,
        unmapped_every: int = 0,
        seed: int | None = None,
        out: Callable[[str], None] = print,
    ):
        self.dsn, self.inbox, self.outbox = dsn, inbox, outbox
        self.db_site, self.file_site = db_site, (file_site if inbox is not None else None)
        self.erp_sites = dict(erp_sites or {})
        self.versions = versions
        self.unmapped_every = unmapped_every
        self.random = random.Random(seed)  # noqa: S311 - simulated data, not security
        self.out = out
        self.released = 0

    def setup(self) -> None:
        schema_create(self.dsn)

    def _order(self, conn, site: str) -> LegacyOrder:
        part, revision, codes = self.random.choice(demo_orders_for(site))
        codes = list(codes)
        if self.unmapped_every and (self.released + 1) % self.unmapped_every == 0:
            codes[self.random.randrange(len(codes))] = UNMAPPED_CODES.get(site, "XX-1")
        lot = part == "BU-0412-06"
        return LegacyOrder(
            number=next_number(conn),
            site=site,
            part=part,
            revision=revision,
            quantity=self.random.randint(50, 200) if lot else self.random.randint(1, 5),
            due=dt.date.today() + dt.timedelta(days=self.random.randint(5, 20)),
            codes=codes,
        )

    def channels(self) -> list[str]:
        """The sites orders are released for, in turn."""
        return [s for s in (self.db_site, self.file_site, *self.erp_sites) if s]

    def release_one(self) -> str:
        """Release the next work order, taking the channels in turn (database, file drop, ERP files)."""
        sites = self.channels()
        if not sites:
            raise ValueError("nothing to release: no database site and no file-drop inbox")
        site = sites[self.released % len(sites)]
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            order = self._order(conn, site)
            if site == self.db_site:
                order_release(conn, order)
                where = f"table AUFTRAG (plant {order.plant}, status FREI)"
            else:
                if site in self.erp_sites:
                    folder, version = self.erp_sites[site], "V0600"
                else:
                    folder, version = self.inbox, self.versions[(self.released // len(sites)) % len(self.versions)]
                name = f"{LEGACY_SYSTEM_NAME}_{order.plant}_{order.number}_{version}.xml"
                path = drop_file(folder, name, schedule_document([order], version))
                where = f"file {path}"
        self.released += 1
        self.out(
            f"legacy MES: released order {order.number}: {order.quantity} x {order.part} rev {order.revision}, "
            f"due {order.due}, operations {' '.join(order.codes)} -> {where}"
        )
        return order.number

    def accept(self) -> int:
        """Take the completions that came back; log them. Returns how many."""
        count = 0
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for c in completions_accept(conn):
                count += 1
                self.out(
                    f"legacy MES: completion of order {c['order']}: traveler {c['traveler']}, {c['identifier']}, "
                    f"qty {c['quantity']}, finished {c['finished']}, {c['results']} result(s), "
                    f"message {c['message_id']}"
                )
        if self.outbox is not None:
            for path, travelers in performance_files_accept(self.outbox):
                count += 1
                self.out(f"legacy MES: performance document {path.name}: traveler(s) {', '.join(travelers)}")
        return count

    def run(self, *, interval: float, count: int, duration: float | None, once: bool, stop_event) -> int:
        """Release up to `count` orders, one every `interval` seconds, accepting completions between;
        with `once`, release one order per channel and accept once; stops after `duration` seconds
        when given (still accepting completions after the last release), or at `stop_event`."""
        self.setup()
        if once:
            for _ in self.channels():
                self.release_one()
            self.accept()
            return self.released
        deadline = time.monotonic() + duration if duration else None
        first_round = len(self.channels())
        while not stop_event.is_set():
            if self.released < count:
                self.release_one()
                if self.released < min(first_round, count):
                    continue  # the first round: one order per channel at once
            self.accept()
            if deadline is None and self.released >= count:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            wait = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
            stop_event.wait(wait)
        return self.released
