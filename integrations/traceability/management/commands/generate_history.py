"""manage.py generate_history --travelers 1000000 --measurements-per-traveler 10 [--lake DIR]

A realistic large history for measuring the traceability search, in minutes, into an EMPTY scratch
database (it refuses the development database 'traveler' and any database that already has travelers;
bench/trace.py creates and drops one):

- master data through the services: three sites with their own codes for the same operations
  (coating is CT1 at WIC, Coat1 at TLS, Coating-1 at HAM), work centers, 20 part families of four parts
  each — a purchased raw-material lot, a bushing lot, a pin, a sub-assembly, an assembly — with released
  routings of five steps whose characteristics carry limits, and components declared per step;
- in blocks of 1,000 travelers: 10 % bushing lots, 45 % pins (each cut from a raw-material lot), 30 %
  sub-assemblies (a pin and two bushings from a lot each), 15 % assemblies (a sub-assembly and a pin);
  each kind at a site of its own, so genealogy crosses sites; the newest 2 % still in work;
- items, travelers, work orders, consumptions and archive records are computed here and loaded with
  COPY (psycopg); the per-step fan-out — steps, characteristics, values (about 1 % out of spec, some
  corrected), signatures, NCRs — is generated inside PostgreSQL by set-based INSERT … SELECT from them;
- 30 % of the travelers closed more than two years ago are archived (ArchiveRecord), and --archived-only
  adds travelers that have left the live database (records only), whose measurement facts go to the
  data lake under --lake as Parquet (DuckDB), as integrations.archive lays them out.

Secondary indexes are dropped for the load and rebuilt after it; triggers (foreign keys, append-only
guards) are off for this session only (session_replication_role = replica, which needs a superuser):
the generator keeps referential integrity itself."""

# ruff: noqa: S608 - statements are assembled from constant fragments and generated numbers only.

from __future__ import annotations

import argparse
import datetime as dt
import random
import secrets
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from mes.compliance.models import Profile
from mes.masterdata import services as md
from mes.masterdata.change_control import routing_release_signed
from mes.masterdata.models import Operation, Part, PartRevision, RoutingStep, Site, WorkCenter
from travelers.models import Traveler

BLOCK = 1000
KINDS = (("lot", 100), ("pin", 450), ("sub", 300), ("asm", 150))
FAMILIES = 20
SITES = (
    ("WIC", "Wichita", "America/Chicago"),
    ("TLS", "Toulouse", "Europe/Paris"),
    ("HAM", "Hamburg", "Europe/Berlin"),
)
OPERATIONS = (  # code, name, alias at WIC, TLS, HAM
    ("MACHINING", "Machining", "MC-10", "Usin", "Fraes-1"),
    ("COATING", "Coating", "CT1", "Coat1", "Coating-1"),
    ("ASSEMBLY", "Assembly", "AS-1", "Assy", "Montage"),
    ("INSPECTION", "Inspection", "IN-1", "Insp", "Pruef"),
    ("MARKING", "Marking", "MK-1", "Marq", "Beschr"),
)
CHARACTERISTICS = {  # per operation: (code, nominal, tolerance ±, unit)
    "MACHINING": [("BORE_DIA", "12.700", "0.013", "mm"), ("LENGTH", "80.00", "0.10", "mm")],
    "COATING": [("THICK", "30", "10", "um"), ("ADHESION", "12", "3", "MPa")],
    "ASSEMBLY": [("TORQUE", "25", "2", "N*m"), ("GAP", "0.50", "0.10", "mm")],
    "INSPECTION": [("FLATNESS", "0.020", "0.020", "mm"), ("ROUGHNESS", "0.8", "0.4", "um")],
    "MARKING": [("MARK_DEPTH", "0.15", "0.05", "mm"), ("MARK_WIDTH", "0.30", "0.10", "mm")],
}
BIG_TABLES = (
    "travelers_item",
    "travelers_traveler",
    "travelers_workorder",
    "travelers_travelerstep",
    "travelers_travelercharacteristic",
    "travelers_measurement",
    "travelers_consumption",
    "travelers_nonconformance",
    "compliance_signature",
    "archive_archiverecord",
)


class Command(BaseCommand):
    help = "Generate a large, realistic traveler history into an empty scratch database (for bench/trace.py)."

    def add_arguments(self, parser):
        parser.add_argument("--travelers", type=int, default=100_000)
        parser.add_argument(
            "--seal-workers", type=int, default=2, help="Processes that seal signatures and audit chains (keyed)."
        )
        parser.add_argument("--seal-shard", default="", help=argparse.SUPPRESS)  # i/n: one sealing process
        parser.add_argument("--measurements-per-traveler", type=int, default=10)
        parser.add_argument(
            "--archived-only",
            type=float,
            default=0.1,
            help="Archived travelers no longer live, as a share of --travelers.",
        )
        parser.add_argument("--lake", default="", help="Write those travelers' measurement facts (Parquet) here.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--years", type=int, default=6, help="How far back the history goes.")

    def handle(self, *args, **opts):
        if opts["seal_shard"]:
            return self._seal_shard(opts["seal_shard"])
        name = connection.settings_dict["NAME"]
        if name == "traveler":
            raise CommandError("refusing to fill the development database 'traveler': use a scratch database")
        if Traveler.objects.exists():
            raise CommandError(f"database {name} already has travelers: generate into an empty scratch database")
        self.rng = random.Random(opts["seed"])
        self.n = max(BLOCK, opts["travelers"] // BLOCK * BLOCK)
        self.m = max(1, min(opts["measurements_per_traveler"], 75))  # at most 15 characteristics a step
        self.start = time.perf_counter()
        self.now = timezone.now().replace(microsecond=0)
        self.origin = self.now - dt.timedelta(days=365 * opts["years"])
        self._say(f"generating {self.n:,} travelers × {self.m} values into {name}")
        self._master_data()
        with transaction.atomic():
            with connection.cursor() as cursor:
                try:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                except Exception as exc:
                    raise CommandError(f"the generator needs a superuser connection: {exc}") from exc
                cursor.execute("SET LOCAL synchronous_commit = off")
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                cursor.execute("SET LOCAL work_mem = '256MB'")
                indexes = self._drop_indexes(cursor)
                self._copy_entities(cursor)
                self._fan_out(cursor)
                self._archive(cursor, opts["archived_only"], opts["lake"])
                self._restore_indexes(cursor, indexes)
                self._sequences(cursor)
        self._seal(opts["seal_workers"])
        with connection.cursor() as cursor:  # as autovacuum would: statistics, and the visibility map
            for table in (*BIG_TABLES, "compliance_auditevent", "compliance_auditchainhead"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
        self._say("vacuumed and analyzed; done")

    # --- sealing: keyed signatures and audit chains, as the services would have written them -----------------

    def _names(self) -> dict[int, str]:
        from mes.compliance.models import Profile

        return dict(Profile.objects.values_list("user_id", "printed_name"))

    def _seal(self, workers: int) -> None:
        """Seal in `workers` processes (each a shard of the travelers), then the work orders' chains here."""
        from integrations.traceability.history_seal import seal_work_orders

        connection.close()
        workers = max(1, workers)
        procs = [
            subprocess.Popen(  # noqa: S603 - our own manage.py with our own arguments
                [sys.executable, "manage.py", "generate_history", "--seal-shard", f"{i}/{workers}"],
                cwd=str(Path(settings.BASE_DIR)),
            )
            for i in range(workers)
        ]
        failed = [p.args[-1] for p in procs if p.wait() != 0]
        if failed:
            raise CommandError(f"sealing shard(s) {', '.join(failed)} failed")
        events = seal_work_orders(self._names())
        self._say(f"sealed in {workers} process(es); {events:,} work-order events")

    def _seal_shard(self, shard: str) -> None:
        from integrations.traceability.history_seal import seal_travelers

        index, count = (int(x) for x in shard.split("/"))
        self.start = time.perf_counter()
        ids = list(
            Traveler.objects.extra(where=["id %% %s = %s"], params=[count, index])  # noqa: S610 - integers only
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        signatures, events = seal_travelers(ids, self._names())
        self._say(f"shard {shard}: {len(ids):,} travelers, {signatures:,} signatures keyed, {events:,} audit events")

    # --- helpers -------------------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        self.stdout.write(f"[{time.perf_counter() - self.start:7.1f} s] {text}")
        self.stdout.flush()

    def _master_data(self) -> None:
        User = get_user_model()  # noqa: N806
        self.sites = []
        for code, name, zone in SITES:
            site, _ = Site.objects.get_or_create(
                code=code, defaults={"name": name, "time_zone": zone, "legacy_system": f"legacy-{code.lower()}"}
            )
            self.sites.append(site)
        self.ops = {}
        for code, name, *aliases in OPERATIONS:
            op, created = Operation.objects.get_or_create(code=code, defaults={"name": name})
            self.ops[code] = op
            if created:
                for site, alias in zip(self.sites, aliases, strict=True):
                    md.operation_alias_create(operation=op, source_system=site.legacy_system, site=site, code=alias)
        self.work_centers = {}
        for site in self.sites:
            for op_code in self.ops:
                wc, _ = WorkCenter.objects.get_or_create(
                    site=site, code=f"{op_code[:4]}-{site.code}", defaults={"name": f"{op_code.title()} cell"}
                )
                self.work_centers[(site.pk, self.ops[op_code].pk)] = wc.pk
        existing = {u.username for u in User.objects.filter(username__startswith="gen-")}
        people = []
        for i in range(80):
            username = f"gen-{'insp' if i >= 64 else 'op'}-{i:02d}"
            if username not in existing:
                people.append(User(username=username, first_name=f"Person{i:02d}", last_name="Generated"))
        for user in people:
            user.set_unusable_password()
        User.objects.bulk_create(people)
        users = list(User.objects.filter(username__startswith="gen-").order_by("username"))
        Profile.objects.bulk_create(
            [Profile(user=u, employee_number=f"G{u.pk:06d}", printed_name=u.get_full_name()) for u in users],
            ignore_conflicts=True,
        )
        self.operators = [u.pk for u in users if "-op-" in u.username]
        self.inspectors = [u.pk for u in users if "-insp-" in u.username]
        self.names = {u.pk: u.get_full_name() for u in users}
        self.release_signers = self._release_signers()
        # parts, revisions and released routings (with components) through the services
        self.parts: dict[tuple[int, str], tuple[int, int, int]] = {}  # (family, kind) -> part, rev, routing
        per_step = [self.m // 5 + (1 if i < self.m % 5 else 0) for i in range(5)]
        for f in range(FAMILIES):
            raw = self._part(f"RAW-{f:02d}", "Bar stock", "lot")
            self.parts[(f, "raw")] = (raw[0].pk, raw[1].pk, None)
            for kind, label, tracking in (
                ("lot", "BSH", "lot"),
                ("pin", "PIN", "serial"),
                ("sub", "SUB", "serial"),
                ("asm", "ASM", "serial"),
            ):
                part, rev = self._part(f"{label}-{f:02d}", f"{label.title()} {f:02d}", tracking)
                routing = rev.routings.filter(status="released").first() or self._routing(rev, kind, f, per_step)
                self.parts[(f, kind)] = (part.pk, rev.pk, routing.pk)
        steps = RoutingStep.objects.filter(routing_id__in=[p[2] for p in self.parts.values() if p[2]])
        self.step_index = {}
        for step in steps.order_by("routing_id", "sequence"):
            self.step_index.setdefault(step.routing_id, []).append(step.pk)
        self._say("master data ready")

    def _part(self, number: str, name: str, tracking: str):
        part, _ = Part.objects.get_or_create(number=number, defaults={"name": name, "tracking": tracking})
        rev, _ = PartRevision.objects.get_or_create(part=part, revision="A")
        return part, rev

    def _routing(self, rev, kind: str, family: int, per_step: list[int]):
        routing = md.routing_create_draft(part_revision=rev)
        components = {
            "lot": {},
            "pin": {"MACHINING": [f"RAW-{family:02d}"]},
            "sub": {"ASSEMBLY": [f"PIN-{family:02d}", f"BSH-{family:02d}"]},
            "asm": {"ASSEMBLY": [f"SUB-{family:02d}", f"PIN-{family:02d}"]},
        }[kind]
        for i, (op_code, *_rest) in enumerate(OPERATIONS):
            step = md.routing_step_add(
                routing=routing,
                sequence=(i + 1) * 10,
                operation=self.ops[op_code],
                title=f"{op_code.title()} {rev.part.number}",
                signoff=RoutingStep.Signoff.OPERATOR_AND_INSPECTOR
                if op_code == "INSPECTION"
                else RoutingStep.Signoff.OPERATOR,
            )
            chars = CHARACTERISTICS[op_code]
            for j in range(per_step[i]):
                code, nominal, tol, unit = chars[j % len(chars)]
                code = code if j < len(chars) else f"{code}_{j}"
                md.characteristic_add(
                    step=step,
                    code=code,
                    name=code.replace("_", " ").title(),
                    unit=unit,
                    nominal=Decimal(nominal),
                    lower_limit=Decimal(nominal) - Decimal(tol),
                    upper_limit=Decimal(nominal) + Decimal(tol),
                    on_out_of_spec="warn",
                )
            for number in components.get(op_code, []):
                md.routing_step_component_add(step=step, part=Part.objects.get(number=number))
        (engineer, quality), secret = self.release_signers
        return routing_release_signed(
            routing=routing,
            reason="generated history",
            engineer=engineer,
            engineer_secret=secret,
            quality=quality,
            quality_secret=secret,
        )

    def _release_signers(self):
        """The engineer and the inspector who sign the generated routings' release, with a password made
        for this run only (nobody signs in as them afterwards)."""
        User = get_user_model()  # noqa: N806
        secret = secrets.token_urlsafe(24)
        signers = []
        for username, role in (("gen-engineer", "Engineer"), ("gen-quality", "Inspector")):
            user, _ = User.objects.get_or_create(
                username=username, defaults={"first_name": role, "last_name": "Generated"}
            )
            user.set_password(secret)
            user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=role))
            Profile.objects.get_or_create(
                user=user, defaults={"employee_number": f"G{user.pk:06d}", "printed_name": user.get_full_name()}
            )
            signers.append(user)
        return signers, secret

    def _drop_indexes(self, cursor) -> list[str]:
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                                 WHERE c.conindid = (quote_ident(i.indexname))::regclass)""",
            [list(BIG_TABLES)],
        )
        rows = cursor.fetchall()
        for name, _ in rows:
            cursor.execute(f'DROP INDEX "{name}"')
        self._say(f"dropped {len(rows)} secondary indexes for the load")
        return [definition for _, definition in rows]

    def _restore_indexes(self, cursor, definitions: list[str]) -> None:
        for definition in definitions:
            cursor.execute(definition)
        self._say(f"rebuilt {len(definitions)} secondary indexes")

    # --- entities, by COPY -------------------------------------------------------------------------------

    def _copy_entities(self, cursor) -> None:
        rng = self.rng
        blocks = self.n // BLOCK
        span = (self.now - self.origin) / blocks
        active_from = int(blocks * 0.98)
        item_id = traveler_id = wo_id = consumption_id = 0
        items, travelers, orders, consumptions = [], [], [], []
        raw_lots: list[tuple[int, int]] = []  # (item id, block) of raw-material lots
        self.traveler_count = 0
        number = 0
        for b in range(blocks):
            family = rng.randrange(FAMILIES)
            window = self.origin + span * b
            active = b >= active_from
            block_items: dict[str, list[int]] = {}
            # two purchased raw-material lots per block (no work order, no traveler)
            raws = []
            for _ in range(2):
                item_id += 1
                part_id, rev_id, _ = self.parts[(family, "raw")]
                items.append(
                    (item_id, part_id, rev_id, "lot", f"RAW-{item_id:08d}", 500, 500, None, "available", False, window)
                )
                raws.append(item_id)
                raw_lots.append((item_id, b))
            for k, (kind, count) in enumerate(KINDS):
                site = self.sites[(b + k) % len(self.sites)]
                part_id, rev_id, routing_id = self.parts[(family, kind)]
                wo_id += 1
                orders.append(
                    (
                        wo_id,
                        f"WO-{wo_id:07d}",
                        rev_id,
                        count * (10 if kind == "lot" else 1),
                        site.pk,
                        (window + span).date(),
                        "in_progress" if active else "completed",
                        "legacy-erp",
                        f"ERP{wo_id:08d}",
                        window,
                    )
                )
                ids = []
                for _ in range(count):
                    item_id += 1
                    traveler_id += 1
                    number += 1
                    released = window + span * (0.3 * k + 0.25 * rng.random())
                    closed = None if active else released + dt.timedelta(days=3, hours=rng.randrange(48))
                    is_lot = kind == "lot"
                    prefix = {"lot": "L", "pin": "PN", "sub": "SA", "asm": "SN"}[kind]
                    identifier = f"{prefix}-{item_id:08d}"
                    qty = 10 if is_lot else 1
                    items.append(
                        (
                            item_id,
                            part_id,
                            rev_id,
                            "lot" if is_lot else "serial",
                            identifier,
                            qty,
                            qty,
                            wo_id,
                            "in_production" if active else "available",
                            False,
                            released,
                        )
                    )
                    travelers.append(
                        (
                            traveler_id,
                            f"T-{number:07d}",
                            item_id,
                            wo_id,
                            routing_id,
                            site.pk,
                            "active" if active else "closed",
                            False,
                            released,
                            rng.choice(self.operators),
                            closed,
                            closed,
                            None if active else 10**12 + traveler_id,
                            1,
                        )
                    )
                    ids.append((item_id, traveler_id, released))
                block_items[kind] = ids
            if active:
                continue  # in work: nothing consumed yet
            pins = list(block_items["pin"])
            rng.shuffle(pins)
            lots = block_items["lot"]
            consumed_qty: dict[int, int] = {}
            consumed_serials: set[int] = set()

            def consume(consumer, component, is_serial, qty, step_index, serials=consumed_serials, qtys=consumed_qty):
                nonlocal consumption_id
                consumption_id += 1
                _, traveler, released = consumer
                at = released + dt.timedelta(hours=2 * step_index + 1)
                consumptions.append(
                    (
                        consumption_id,
                        traveler,
                        traveler * 8 + step_index,
                        component,
                        is_serial,
                        qty,
                        at,
                        rng.choice(self.operators),
                        True,
                        "",
                    )
                )
                if is_serial:
                    serials.add(component)
                else:
                    qtys[component] = qtys.get(component, 0) + qty

            for i, pin in enumerate(block_items["pin"]):
                consume(pin, raws[i % 2], False, 1, 0)
            for i, sub in enumerate(block_items["sub"]):
                consume(sub, pins.pop()[0], True, 1, 2)
                consume(sub, lots[i % len(lots)][0], False, 2, 2)
            subs = list(block_items["sub"])
            rng.shuffle(subs)
            for asm in block_items["asm"]:
                consume(asm, subs.pop()[0], True, 1, 2)
                consume(asm, pins.pop()[0], True, 1, 2)
            # items consumed whole become "consumed"; lots keep what is left
            first = len(items) - sum(count for _, count in KINDS) - 2
            for idx in range(first, len(items)):
                row = items[idx]
                if row[0] in consumed_serials:
                    items[idx] = (*row[:8], "consumed", *row[9:])
                elif row[0] in consumed_qty:
                    left = row[5] - consumed_qty[row[0]]
                    items[idx] = (*row[:6], left, row[7], "consumed" if left == 0 else "available", *row[9:])
            if len(items) > 200_000:
                self._flush(cursor, items, travelers, orders, consumptions)
        self._flush(cursor, items, travelers, orders, consumptions)
        self.traveler_count = traveler_id
        self.raw_lots = raw_lots
        self._say(f"copied {item_id:,} items, {traveler_id:,} travelers, {consumption_id:,} consumptions")

    def _flush(self, cursor, items, travelers, orders, consumptions) -> None:
        batches = (
            (
                "travelers_workorder (id, number, part_revision_id, quantity, site_id, due_date, status, "
                "source_system, external_id, created_at)",
                orders,
            ),
            (
                "travelers_item (id, part_id, part_revision_id, tracking, identifier, quantity, quantity_available, "
                "work_order_id, status, on_hold, created_at)",
                items,
            ),
            (
                "travelers_traveler (id, number, item_id, work_order_id, routing_id, site_id, status, on_hold, "
                "released_at, released_by_id, completed_at, closed_at, final_signature_id, version)",
                travelers,
            ),
            (
                "travelers_consumption (id, traveler_id, step_id, component_id, component_is_serial, quantity, "
                "consumed_at, consumed_by_id, active, removal_reason)",
                consumptions,
            ),
        )
        for target, rows in batches:
            with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            rows.clear()

    # --- the fan-out, in PostgreSQL ----------------------------------------------------------------------------

    def _fan_out(self, cursor) -> None:
        rs = (
            "(SELECT id, routing_id, row_number() OVER (PARTITION BY routing_id ORDER BY sequence) - 1 AS k "
            "FROM masterdata_routingstep)"
        )
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            f"""
            CREATE TEMP TABLE gen_step ON COMMIT DROP AS
            SELECT r.id AS routing_step_id, r.routing_id, r.k, s.operation_id, s.title, s.signoff, s.sequence,
                   coalesce((SELECT jsonb_agg(jsonb_build_object('part_id', c.part_id, 'part_number', p.number,
                                                                  'quantity', c.quantity::text))
                             FROM masterdata_routingstepcomponent c JOIN masterdata_part p ON p.id = c.part_id
                             WHERE c.step_id = r.id), '[]'::jsonb) AS components
            FROM {rs} r JOIN masterdata_routingstep s ON s.id = r.id"""
        )
        cursor.execute(
            "CREATE TEMP TABLE gen_wc (site_id bigint, operation_id bigint, work_center_id bigint) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO gen_wc VALUES (%s, %s, %s)", [(s, o, w) for (s, o), w in self.work_centers.items()]
        )
        cursor.execute(
            """CREATE TEMP TABLE gen_alias ON COMMIT DROP AS
               SELECT a.site_id, a.operation_id, a.code FROM masterdata_operationalias a WHERE a.site_id IS NOT NULL"""
        )
        operators = f"(ARRAY[{','.join(map(str, self.operators))}])[1 + floor(random() * {len(self.operators)})::int]"
        inspectors = (
            f"(ARRAY[{','.join(map(str, self.inspectors))}])[1 + floor(random() * {len(self.inspectors)})::int]"
        )
        # steps: id = traveler id * 8 + k; in-work travelers have their first two steps done
        cursor.execute(
            f"""
            INSERT INTO travelers_travelerstep (id, traveler_id, sequence, origin, source_step_id, operation_id,
                operation_alias, work_center_id, title, instructions, signoff, may_run_out_of_order, components,
                status, started_at, started_by_id, completed_at, performed_signature_id, inspected_signature_id,
                skip_reason, version, created_at)
            SELECT t.id * 8 + g.k, t.id, g.sequence, 'routing', g.routing_step_id, g.operation_id,
                   coalesce(a.code, ''), w.work_center_id, g.title, '', g.signoff, false, g.components,
                   CASE WHEN done THEN 'completed' ELSE 'pending' END,
                   CASE WHEN done THEN t.released_at + make_interval(hours => (2 * g.k)::int) END,
                   CASE WHEN done THEN {operators} END,
                   CASE WHEN done THEN t.released_at + make_interval(hours => (2 * g.k + 1)::int) END,
                   CASE WHEN done THEN (t.id * 8 + g.k) * 4 END,
                   CASE WHEN done AND g.signoff = 'operator+inspector' THEN (t.id * 8 + g.k) * 4 + 1 END,
                   '', 1, t.released_at
            FROM travelers_traveler t
            JOIN gen_step g ON g.routing_id = t.routing_id
            CROSS JOIN LATERAL (SELECT t.status = 'closed' OR g.k < 2 AS done) d
            LEFT JOIN gen_wc w ON w.site_id = t.site_id AND w.operation_id = g.operation_id
            LEFT JOIN gen_alias a ON a.site_id = t.site_id AND a.operation_id = g.operation_id"""
        )
        self._say(f"{cursor.rowcount:,} steps")
        cursor.execute(
            """
            INSERT INTO travelers_travelercharacteristic (id, step_id, source_id, spec_revision, sequence, code, name,
                kind, unit, nominal, lower_limit, upper_limit, decimals, choices, required, on_out_of_spec,
                device_endpoint, device_node, device_unit, device_scale)
            SELECT s.id * 16 + row_number() OVER (PARTITION BY s.id ORDER BY c.sequence, c.id), s.id, c.id,
                   'generated', c.sequence, c.code, c.name, c.kind, c.unit, c.nominal, c.lower_limit,
                   c.upper_limit, c.decimals, c.choices, c.required, c.on_out_of_spec, '', '', '', 1
            FROM travelers_travelerstep s JOIN masterdata_characteristic c ON c.step_id = s.source_step_id"""
        )
        self._say(f"{cursor.rowcount:,} characteristics")
        # values: nominal + tolerance × a normal-ish draw; about 1 % lands out of spec. Measurement id =
        # characteristic id * 2 (the value), + 1 for its correction (0.5 % of values are corrected)
        value = "round((c.nominal + (c.upper_limit - c.nominal) * d.z)::numeric, 4)"
        cursor.execute(
            f"""
            CREATE TEMP TABLE gen_value ON COMMIT DROP AS
            SELECT c.id AS characteristic_id, s.id AS step_id, s.started_at, s.started_by_id, {value} AS v,
                   c.lower_limit, c.upper_limit, c.nominal, c.unit, random() < 0.005 AS corrected
            FROM travelers_travelerstep s
            JOIN travelers_travelercharacteristic c ON c.step_id = s.id
            CROSS JOIN LATERAL (SELECT (random() + random() + random() + random() + random() + random() - 3)
                                       * CASE WHEN random() < 0.012 THEN 1.6 ELSE 0.55 END + 0 * c.id AS z) d
            WHERE s.status = 'completed'"""
        )
        judged = (
            "CASE WHEN {v} < lower_limit OR {v} > upper_limit THEN 'out_of_spec' ELSE 'in_spec' END, "
            "CASE WHEN {v} > upper_limit THEN {v} - upper_limit WHEN {v} < lower_limit THEN {v} - lower_limit "
            "ELSE 0 END"
        )
        cursor.execute(
            f"""
            INSERT INTO travelers_measurement (id, step_id, characteristic_id, entered_value, entered_unit,
                value_numeric, value_text, judgment, deviation, spec_revision, spec_unit, spec_lower, spec_upper,
                spec_nominal, source, device, recorded_at, recorded_by_id, supersedes_id, correction_reason,
                correction_signature_id)
            SELECT characteristic_id * 2, step_id, characteristic_id, v::text, unit, v, '',
                   {judged.format(v="v")}, 'generated', unit, lower_limit, upper_limit, nominal, 'manual', '',
                   started_at + interval '20 minutes', started_by_id, NULL::bigint, '', NULL::bigint
            FROM gen_value
            UNION ALL
            SELECT characteristic_id * 2 + 1, step_id, characteristic_id, nominal::text, unit, nominal, '',
                   {judged.format(v="nominal")}, 'generated', unit, lower_limit, upper_limit, nominal, 'manual', '',
                   started_at + interval '40 minutes', started_by_id, characteristic_id * 2, 're-measured',
                   2000000000000 + characteristic_id
            FROM gen_value WHERE corrected"""
        )
        self._say(f"{cursor.rowcount:,} measurements")
        # signatures: performed and inspected per step, final approval per closed traveler, corrections
        sig = (
            "INSERT INTO compliance_signature (id, signer_id, printed_name, meaning, signed_at, record_type, "
            "record_id, content_hash, method, qualification_id, qualification_text, comment, key_id) "
        )
        names = "(SELECT printed_name FROM compliance_profile p WHERE p.user_id = {who})"
        cursor.execute(
            sig
            + f"""
            SELECT s.performed_signature_id, s.started_by_id, {names.format(who="s.started_by_id")}, 'performed',
                   s.completed_at, 'travelers.step', s.id::text, md5(s.id::text) || md5(s.id::text), 'password',
                   NULL::bigint, '', '', ''
            FROM travelers_travelerstep s WHERE s.performed_signature_id IS NOT NULL
            UNION ALL
            SELECT s.inspected_signature_id, x.who, {names.format(who="x.who")}, 'inspected',
                   s.completed_at + interval '10 minutes', 'travelers.step', s.id::text,
                   md5(s.id::text || 'i') || md5(s.id::text || 'i'), 'pin', NULL::bigint, '', '', ''
            FROM travelers_travelerstep s CROSS JOIN LATERAL (SELECT {inspectors} + 0 * s.id AS who) x
            WHERE s.inspected_signature_id IS NOT NULL
            UNION ALL
            SELECT t.final_signature_id, x.who, {names.format(who="x.who")}, 'approved', t.closed_at,
                   'travelers.traveler', t.id::text, md5(t.number) || md5(t.number), 'password', NULL::bigint,
                   '', '', ''
            FROM travelers_traveler t CROSS JOIN LATERAL (SELECT {inspectors} + 0 * t.id AS who) x
            WHERE t.final_signature_id IS NOT NULL
            UNION ALL
            SELECT m.correction_signature_id, m.recorded_by_id, {names.format(who="m.recorded_by_id")},
                   'corrected', m.recorded_at, 'travelers.measurement', m.id::text, md5(m.id::text) || md5('c'),
                   'password', NULL::bigint, '', 're-measured', ''
            FROM travelers_measurement m WHERE m.correction_signature_id IS NOT NULL"""
        )
        self._say(f"{cursor.rowcount:,} signatures")
        # an NCR for each traveler whose value went out of spec (dispositioned "use as is", signed)
        cursor.execute(
            f"""
            WITH bad AS (
                SELECT DISTINCT ON (s.traveler_id) s.traveler_id, s.id AS step_id, m.id AS measurement_id,
                       m.recorded_at, m.recorded_by_id
                FROM travelers_measurement m JOIN travelers_travelerstep s ON s.id = m.step_id
                WHERE m.judgment = 'out_of_spec' AND m.supersedes_id IS NULL
                ORDER BY s.traveler_id, m.id
            ), numbered AS (SELECT row_number() OVER (ORDER BY traveler_id) AS n, * FROM bad),
            ncr AS (
                INSERT INTO travelers_nonconformance (id, number, traveler_id, step_id, measurement_id, description,
                    status, raised_at, raised_by_id, automatic, disposition, disposition_notes, dispositioned_at,
                    disposition_signature_id)
                SELECT n, 'NCR-' || lpad(n::text, 6, '0'), traveler_id, step_id, measurement_id,
                       'value out of spec', 'closed', recorded_at, recorded_by_id, true, 'use_as_is', 'within MRB',
                       recorded_at + interval '1 hour', 3000000000000 + n
                FROM numbered RETURNING id, dispositioned_at, number
            )
            {sig} SELECT 3000000000000 + ncr.id, x.who, {names.format(who="x.who")}, 'dispositioned',
                   ncr.dispositioned_at, 'travelers.ncr', ncr.id::text, md5(ncr.number) || md5(ncr.number),
                   'password', NULL::bigint, '', 'within MRB', ''
            FROM ncr CROSS JOIN LATERAL (SELECT {inspectors} + 0 * ncr.id AS who) x"""
        )
        self._say(f"{cursor.rowcount:,} NCRs, dispositioned")

    # --- the archive ---------------------------------------------------------------------------------------

    def _archive_extra(self, given: str) -> list[tuple[str, object]]:
        """Columns of ArchiveRecord this generator does not set (the archive adds some), with their
        defaults: the rows stay valid as the archive's model grows."""
        from integrations.archive.models import ArchiveRecord

        named = {c.strip() for c in given.replace("(", ",").replace(")", ",").split(",")}
        return [
            (f.column, f.get_default())
            for f in ArchiveRecord._meta.concrete_fields
            if f.column not in named and not f.primary_key and not f.null
        ]

    def _archive(self, cursor, share: float, lake: str) -> None:
        cursor.execute(
            """INSERT INTO archive_retentionclass (code, name, years, customer, is_default)
               VALUES ('gen-30y', '30 years', 30, '', true) ON CONFLICT (code) DO NOTHING"""
        )
        cursor.execute("SELECT id FROM archive_retentionclass WHERE code = 'gen-30y'")
        retention = cursor.fetchone()[0]
        columns = (
            "traveler_number, traveler_id, part_number, part_revision, identifier, tracking, work_order, site_code, "
            "released_at, closed_at, uri, package_sha256, size, schema_version, archived_at, retention_id, "
            "retain_until, last_verify_problem"
        )
        extra = self._archive_extra(columns)
        extra_columns = "".join(f", {name}" for name, _ in extra)
        extra_values = "".join(", %s" for _ in extra)
        cursor.execute(
            f"""
            INSERT INTO archive_archiverecord ({columns}{extra_columns})
            SELECT t.number, t.id, p.number, pr.revision, i.identifier, i.tracking, wo.number, s.code, t.released_at,
                   t.closed_at, 'lake://packages/' || s.code || '/' || extract(year FROM t.closed_at) || '/' || t.number
                   || '.tar', md5(t.number) || md5(t.number), 250000, '1', t.closed_at + interval '1 day', %s,
                   (t.closed_at + interval '30 years')::date, ''{extra_values}
            FROM travelers_traveler t
            JOIN travelers_item i ON i.id = t.item_id JOIN masterdata_part p ON p.id = i.part_id
            JOIN masterdata_partrevision pr ON pr.id = i.part_revision_id
            JOIN travelers_workorder wo ON wo.id = t.work_order_id JOIN masterdata_site s ON s.id = t.site_id
            WHERE t.closed_at < now() - interval '2 years' AND t.id %% 10 < 3""",
            [retention, *[value for _, value in extra]],
        )
        self._say(f"{cursor.rowcount:,} live travelers archived")
        count = int(self.traveler_count * share)
        if count <= 0:
            return
        rng = self.rng
        records = []
        families = [(f, k) for f in range(FAMILIES) for k in ("pin", "sub", "asm")]
        span = (self.now - dt.timedelta(days=365 * 2) - self.origin).total_seconds()
        part_numbers = dict(
            Part.objects.filter(pk__in=[self.parts[k][0] for k in families]).values_list("pk", "number")
        )
        for i in range(count):
            family, kind = families[i % len(families)]
            site = self.sites[i % len(self.sites)]
            released = self.origin - dt.timedelta(days=365) + dt.timedelta(seconds=rng.random() * span)
            number = f"T-{5_000_001 + i:07d}"
            records.append(
                (
                    number,
                    part_numbers[self.parts[(family, kind)][0]],
                    "A",
                    f"OLD-{i:08d}",
                    "serial",
                    f"WO-OLD-{i // 50:06d}",
                    site.code,
                    released,
                    released + dt.timedelta(days=4),
                    f"lake://packages/{site.code}/{released.year}/{number}.tar",
                    "0" * 64,
                    250000,
                    "1",
                    released + dt.timedelta(days=5),
                    retention,
                    "",
                )
            )
        columns = (
            "traveler_number, part_number, part_revision, identifier, tracking, work_order, site_code, released_at, "
            "closed_at, uri, package_sha256, size, schema_version, archived_at, retention_id, last_verify_problem"
        )
        extra = self._archive_extra(columns)
        extra_columns = "".join(f", {name}" for name, _ in extra)
        with cursor.cursor.copy(f"COPY archive_archiverecord ({columns}{extra_columns}) FROM STDIN") as copy:
            for row in records:
                copy.write_row((*row, *[value for _, value in extra]))
        self._say(f"{count:,} archived travelers that have left the live database")
        if lake:
            self._lake(lake, records)

    def _lake(self, lake: str, records: list[tuple]) -> None:
        """Measurement facts of the archived-only travelers, Parquet under site=/year=/month= (DuckDB)."""
        from pathlib import Path

        import duckdb
        import pyarrow as pa

        table = pa.table(
            {
                "traveler_number": [r[0] for r in records],
                "part_number": [r[1] for r in records],
                "part_revision": [r[2] for r in records],
                "serial_or_lot": [r[3] for r in records],
                "site_code": [r[6] for r in records],
                "released_at": [r[7] for r in records],
                "closed_at": [r[8] for r in records],
            }
        )
        chars = [(op, *c) for op, cs in CHARACTERISTICS.items() for c in cs][: self.m]
        aliases = {code: dict(zip([s[0] for s in SITES], a, strict=True)) for code, _n, *a in OPERATIONS}
        target = Path(lake) / "facts" / "measurements"
        target.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect()
        con.register("records", table)
        con.execute(
            "CREATE TABLE chars (k INTEGER, op VARCHAR, code VARCHAR, nominal DOUBLE, tol DOUBLE, unit VARCHAR)"
        )
        con.executemany(
            "INSERT INTO chars VALUES (?, ?, ?, ?, ?, ?)",
            [(k, op, code, float(nom), float(tol), unit) for k, (op, code, nom, tol, unit) in enumerate(chars)],
        )
        con.execute("CREATE TABLE alias (op VARCHAR, site VARCHAR, alias VARCHAR)")
        con.executemany(
            "INSERT INTO alias VALUES (?, ?, ?)", [(op, s, a) for op, m in aliases.items() for s, a in m.items()]
        )
        con.execute("SELECT setseed(0.42)")
        con.execute(
            f"""
            COPY (
              SELECT r.traveler_number, r.part_number, r.part_revision, r.site_code,
                     c.code AS characteristic_code, c.code AS characteristic_name,
                     c.op AS operation_code, a.alias AS operation_alias, r.serial_or_lot, v.value, c.unit,
                     c.nominal - c.tol AS lower_limit, c.nominal + c.tol AS upper_limit,
                     CASE WHEN v.value < c.nominal - c.tol OR v.value > c.nominal + c.tol THEN 'out_of_spec'
                          ELSE 'in_spec' END AS judgment,
                     r.released_at + to_hours(c.k) AS recorded_at,
                     'Person' || lpad((hash(r.traveler_number) % 64)::VARCHAR, 2, '0') || ' Generated' AS recorded_by,
                     'gen-op-' || lpad((hash(r.traveler_number) % 64)::VARCHAR, 2, '0') AS recorded_by_username,
                     false AS superseded, r.closed_at, r.site_code AS site,
                     year(r.closed_at) AS year, lpad(month(r.closed_at)::VARCHAR, 2, '0') AS month
              FROM records r CROSS JOIN chars c
              JOIN alias a ON a.op = c.op AND a.site = r.site_code
              CROSS JOIN LATERAL (SELECT round(c.nominal + c.tol * (random() + random() + random() - 1.5)
                                  * CASE WHEN random() < 0.012 THEN 1.6 ELSE 0.8 END + 0 * c.k, 4) AS value) v
            ) TO '{str(target).replace("'", "''")}'
              (FORMAT parquet, PARTITION_BY (site, year, month), OVERWRITE_OR_IGNORE)"""
        )
        con.close()
        self._say(f"lake facts written under {target}")

    def _sequences(self, cursor) -> None:
        for table in BIG_TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest((SELECT max(id) FROM {table}), 1))"
            )
        cursor.execute("SELECT setval('travelers_traveler_number_seq', greatest(%s, 1))", [self.traveler_count])
        cursor.execute(
            "SELECT setval('travelers_ncr_number_seq', greatest((SELECT count(*) FROM travelers_nonconformance), 1))"
        )
