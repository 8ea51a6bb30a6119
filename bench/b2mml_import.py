"""B2MML import throughput: work orders per second through the file drop, from file to committed rows.

    .venv/bin/python bench/b2mml_import.py [--orders 1000] [--per-file 100] [--runs 3] [--version V0700] [--profile]

What it does, all on this machine:
1. creates a scratch database `traveler_bench_b2mml` on the server Traveler uses (the private one, or
   the server of DATABASE_URL) and migrates it; master data: one site, its legacy codes for 6
   operations, one part revision;
2. per run, writes --orders work orders as B2MML files of --per-file orders each (each order with 6
   legacy operation codes) into a file-drop inbox, and times one `poll` of the file-drop adapter:
   read, hash, inbox (payload kept), parse, resolve every code, write work orders + audit + provenance,
   move to done/ — the same code path as production;
3. also times parsing alone (no database), to show where the time goes;
4. prints orders/s per run and the median of the runs; drops the scratch database. No assertions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import django
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_DB", "traveler_bench_b2mml")  # a name of your own if others bench too
CODES = {"TURNING": "MC-10", "MILLING": "MC-20", "DEBURR": "DB-30", "COATING": "CT1", "MARKING": "MK-90"}
CODES["FINAL-INSP"] = "QC-99"


def scratch_database_url() -> tuple[str, str]:
    """(URL of a fresh scratch database, URL of the server's maintenance database)."""

    if os.environ.get("DATABASE_URL"):
        base = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        admin_url = base._replace(path="/postgres").geturl()
        url = base._replace(path=f"/{DB_NAME}").geturl()
    else:
        from mes import embedded

        url = embedded.ensure_running(DB_NAME).rsplit("/", 1)[0] + f"/{DB_NAME}"
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return url, admin_url


def drop_scratch(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def build(folder: Path):
    from django.core.management import call_command

    from integrations.models import Adapter
    from mes.masterdata import services as md
    from mes.masterdata.models import Operation, Part, PartRevision, Site

    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="WIC", name="Wichita", time_zone="America/Chicago", legacy_system="legacy-wic")
    for code, alias in CODES.items():
        operation = Operation.objects.create(code=code, name=code.title())
        md.operation_alias_create(operation=operation, source_system="legacy-wic", site=site, code=alias)
    PartRevision.objects.create(part=Part.objects.create(number="7420-101", name="Actuator housing"), revision="C")
    return Adapter.objects.create(
        name="bench-drop",
        kind=Adapter.Kind.FILE_DROP,
        site=site,
        source_system="legacy-wic",
        settings={"inbox": str(folder / "inbox"), "batch": 100_000, "site_codes": {"US10": "WIC"}},
    )


def files_for(run: int, orders: int, per_file: int, version: str) -> list[tuple[str, bytes]]:
    from integrations.sim.legacy import LegacyOrder, schedule_document

    due = dt.date.today() + dt.timedelta(days=14)
    batch = [
        LegacyOrder(f"B{run}-{n:06d}", "WIC", "7420-101", "C", 1 + n % 5, due, list(CODES.values()))
        for n in range(orders)
    ]
    return [
        (f"run{run}-{i // per_file:04d}.xml", schedule_document(batch[i : i + per_file], version))
        for i in range(0, orders, per_file)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--version", default="V0700", choices=["V0401", "V0500", "V0700"])
    parser.add_argument("--profile", action="store_true", help="cProfile the last run's import; print the top")
    args = parser.parse_args()

    url, admin_url = scratch_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ["LOG_LEVEL"] = "WARNING"

    django.setup()
    logging.disable(logging.INFO)
    try:
        with tempfile.TemporaryDirectory(prefix="b2mml-bench-") as tmp:
            from django.db import connections

            from bench.profiling import profiled
            from integrations import b2mml
            from integrations.adapters import impl_for
            from integrations.models import InboxMessage
            from travelers.models import WorkOrder

            adapter = build(Path(tmp))
            impl = impl_for(adapter)
            inbox, done, failed = impl.folders()
            print(
                f"B2MML {args.version} import: {args.orders} orders in files of {args.per_file}, "
                f"{len(CODES)} operation codes each, {args.runs} runs"
            )
            rates, parse_rates = [], []
            for run in range(1, args.runs + 1):
                files = files_for(run, args.orders, args.per_file, args.version)
                started = time.perf_counter()
                for _, data in files:
                    b2mml.parse_schedule(data)
                parse_rates.append(args.orders / (time.perf_counter() - started))
                for name, data in files:
                    (inbox / name).write_bytes(data)
                before = WorkOrder.objects.count()
                started = time.perf_counter()
                with profiled(args.profile and run == args.runs):
                    handled = impl.poll()
                elapsed = time.perf_counter() - started
                made = WorkOrder.objects.count() - before
                dead = InboxMessage.objects.filter(status="dead").count()
                if made != args.orders or dead or handled != len(files):
                    print(f"  run {run}: only {made} orders made, {dead} dead letters — check the set-up")
                rates.append(made / elapsed)
                print(
                    f"  run {run}: {made} orders from {handled} files in {elapsed:.2f} s = {rates[-1]:.0f} orders/s "
                    f"(parsing alone {parse_rates[-1]:.0f} orders/s)"
                )
            print(
                f"median: {statistics.median(rates):.0f} orders/s through the file drop; "
                f"parsing alone {statistics.median(parse_rates):.0f} orders/s"
            )
            connections.close_all()
    finally:
        drop_scratch(admin_url)


if __name__ == "__main__":
    main()
