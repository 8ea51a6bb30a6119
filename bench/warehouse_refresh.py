"""Warehouse refresh rate: values per second into the warehouse, from Traveler and from a legacy history.

    .venv/bin/python bench/warehouse_refresh.py [--values 500000] [--legacy 200000] [--runs 3]

What it does, all on this machine:
1. creates a scratch database `traveler_warehouse_bench` on the server Traveler uses (the private one, or
   the server of DATABASE_URL), migrates it and builds through the services three sites that call coating
   CT1, Coat1 and Coating-1, 60 travelers with their coating step started and a value recorded; then
   multiplies those values in SQL (INSERT … SELECT: the same rows, other values and times) up to
   --values; and a scratch legacy database `traveler_warehouse_bench_legacy` with the simulator's tables,
   --legacy historical results in PRUEFHIST (integrations.sim.legacy.history_generate) and a
   legacy-database adapter reading them;
2. --runs times, into a fresh warehouse folder: a full refresh from Traveler (values, steps, NCRs,
   dimensions), then the legacy history alone, then a refresh with nothing new (the cost of a beat that
   finds nothing);
3. prints rows per second of each and the medians; drops both scratch databases.

(This bench builds its values through the services rather than with `manage.py generate_history`, which
bench/trace.py and bench/verify.py use.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = "traveler_warehouse_bench"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway scratch database
LEGACY_NAME = f"{DB_NAME}_legacy"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=500_000, help="Traveler values")
    parser.add_argument("--legacy", type=int, default=200_000, help="legacy history rows")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    _, url = scratch.server_urls(DB_NAME)
    _, legacy_url = scratch.server_urls(LEGACY_NAME)
    for name in (DB_NAME, LEGACY_NAME):
        scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        scratch.admin(DB_NAME, f'CREATE DATABASE "{name}"')
    lake = Path(tempfile.mkdtemp(prefix="warehouse-bench-lake-"))
    env = {**os.environ, "DATABASE_URL": url, "DATA_LAKE_URL": str(lake), "DB_POOL_MAX": "2"}
    env.update(scratch.key_environment())
    try:
        started = time.perf_counter()
        scratch.manage(env, "migrate", "--verbosity", "0")
        os.environ.update(env)
        os.environ["BENCH_LEGACY_DSN"] = legacy_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

        django.setup()
        build(args.values)
        print(f"built in {time.perf_counter() - started:.0f} s")
        measure(args, legacy_url)
    finally:
        from django.apps import apps

        if apps.ready:  # a failure before django.setup() still drops the databases
            from django.db import connections

            connections.close_all()
        for name in (DB_NAME, LEGACY_NAME):
            scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        shutil.rmtree(lake, ignore_errors=True)
    return 0


def build(values: int) -> None:
    """Three sites, 60 travelers with a coating value each (services), then those values multiplied."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from mes.compliance.models import Profile
    from mes.masterdata import services as md
    from mes.masterdata.change_control import routing_release_signed
    from mes.masterdata.models import Operation, Part, PartRevision, Qualification, Site, WorkCenter
    from travelers import services

    users = get_user_model().objects
    people = {}
    op = Operation.objects.create(code="COATING", name="Coating")
    for code, system, alias, wc_code in (
        ("WIC", "legacy-wic", "CT1", "FIN-01"),
        ("TLS", "legacy-tls", "Coat1", "TRAIT-S"),
        ("QRO", "legacy-qro", "Coating-1", "REC-1"),
    ):
        site = Site.objects.create(code=code, name=code, time_zone="UTC", legacy_system=system)
        wc = WorkCenter.objects.create(site=site, code=wc_code, name=wc_code)
        md.operation_alias_create(operation=op, source_system=system, site=site, code=alias)
        if not people:
            for name, role in (("engineer", "Engineer"), ("quality", "Inspector"), ("boss", "Supervisor")):
                user = users.create_user(name, password=PASSWORD, first_name=role, last_name="Bench")
                Profile.objects.create(user=user, employee_number=f"B-{name}", printed_name=name, site=site)
                user.groups.add(Group.objects.get(name=role))
                people[name] = user
            people["op"] = users.create_user("op", password=PASSWORD)
            Profile.objects.create(user=people["op"], employee_number="B-op", printed_name="Operator", site=site)
            people["op"].groups.add(Group.objects.get(name="Operator"))
            today = timezone.localdate()
            Qualification.objects.create(
                user=people["op"],
                operation=op,
                kind="perform",
                valid_from=today,
                expires_on=today.replace(year=today.year + 1),
            )
        revision = PartRevision.objects.create(part=Part.objects.create(number=f"P-{code}", name=code), revision="A")
        routing = md.routing_create_draft(part_revision=revision)
        step = md.routing_step_add(routing=routing, sequence=10, operation=op, work_center=wc, title="Coat")
        md.characteristic_add(step=step, code="COAT_THK", name="Coating", unit="um", lower_limit=8, upper_limit=18)
        routing_release_signed(
            routing=routing,
            reason="bench",
            engineer=people["engineer"],
            engineer_secret=PASSWORD,
            quality=people["quality"],
            quality_secret=PASSWORD,
        )
        order = services.work_order_create(number=f"WO-{code}", part_revision=revision, quantity=20, site=site)
        for i in range(20):
            traveler = services.traveler_release(work_order=order, identifier=f"{code}-{i:03d}", actor=people["boss"])
            started = services.step_start(step=traveler.steps.get(sequence=10), actor=people["op"])
            services.measurement_record(
                step=started, characteristic="COAT_THK", value=f"{12 + i % 5}.0", unit="um", actor=people["op"]
            )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
            "WHERE table_name = 'travelers_measurement' AND column_name NOT IN "
            "('id', 'value_numeric', 'entered_value', 'recorded_at')"
        )
        (columns,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM travelers_measurement")
        (have,) = cursor.fetchone()
        copies = max(0, values // have - 1)
        cursor.execute(  # the same rows again, with other values, an hour apart each going back
            f"INSERT INTO travelers_measurement ({columns}, value_numeric, entered_value, recorded_at) "
            f"SELECT {columns}, v, v::text, recorded_at - make_interval(hours => k) "
            f"FROM travelers_measurement m, generate_series(1, %s) k, LATERAL (SELECT round((13 + 2 * "
            f"(random() - 0.5))::numeric, 1) AS v) r ORDER BY k DESC, m.id",
            [copies],
        )


def measure(args, legacy_url: str) -> None:
    from django.conf import settings

    from integrations.models import Adapter
    from integrations.sim import legacy
    from integrations.warehouse.refresh import warehouse_refresh
    from mes.masterdata.models import Site
    from travelers.models import Measurement

    settings.WAREHOUSE_LAG_SECONDS = 0
    legacy.schema_create(legacy_url)
    with psycopg.connect(legacy_url, autocommit=True) as conn:
        legacy.history_generate(conn, site="WIC", count=args.legacy, seed=3)
    site = Site.objects.get(code="WIC")
    Adapter.objects.create(
        name="bench-legacy-db",
        kind=Adapter.Kind.LEGACY_DB,
        site=site,
        source_system=site.legacy_system or "legacy-wic",
        secret_env="BENCH_LEGACY_DSN",  # noqa: S106 - the name of a variable, not a secret
        settings={**legacy.MAPPING, "plant": legacy.PLANTS["WIC"]},
    )
    values = Measurement.objects.count()
    print(f"history: {values:,} Traveler values, {args.legacy:,} legacy rows\n")
    results: dict[str, list[float]] = {"traveler": [], "legacy": [], "nothing new": []}
    for run in range(1, args.runs + 1):
        base = Path(tempfile.mkdtemp(prefix="warehouse-bench-"))
        try:
            full = warehouse_refresh(base=base, legacy=False)
            results["traveler"].append(full.values / full.seconds)
            history = warehouse_refresh(base=base, legacy=True)
            rows = sum(history.legacy.values())
            results["legacy"].append(rows / history.seconds)
            idle = warehouse_refresh(base=base, legacy=True)
            results["nothing new"].append(idle.seconds)
            print(
                f"run {run}: Traveler {full.values:,} values + {full.steps:,} steps in {full.seconds:.1f} s "
                f"({full.values / full.seconds:,.0f} values/s); legacy {rows:,} rows in {history.seconds:.1f} s "
                f"({rows / history.seconds:,.0f} rows/s); nothing new {idle.seconds:.2f} s"
            )
        finally:
            shutil.rmtree(base, ignore_errors=True)
    print(
        f"\nmedian: Traveler {statistics.median(results['traveler']):,.0f} values/s · legacy "
        f"{statistics.median(results['legacy']):,.0f} rows/s · a refresh with nothing new "
        f"{statistics.median(results['nothing new']):.2f} s"
    )


if __name__ == "__main__":
    sys.exit(main())
