"""Tablets recording measurements through the API, against the production server, beside the floor.

    .venv/bin/python bench/record_measurements.py [--levels 1,20,100] [--modes one,batch] [--seconds 20]
        [--workers 2] [--threads 4] [--soak SECONDS [--soak-tablets 20] [--soak-mode one]]
        (BENCH_DB names the scratch database; default traveler_bench)

What it does, all on this machine:
1. creates a scratch database `traveler_bench` on the server Traveler uses (the private one, or the
   server of DATABASE_URL), migrates it, and builds a routing of 10 steps x 10 numeric characteristics
   and, for each tablet, enough travelers to keep it busy for the run (enough_travelers), through the
   services;
2. serves the app with gunicorn (gthread workers) and drives it with N asyncio tablets (httpx), each
   recording the values of its own travelers step by step (start step, 10 values, sign), token auth, in
   each mode: `one` posts a value per request, `batch` posts the step's 10 values in one request;
3. in the same run, the floor: raw psycopg doing the same writes (measurement + audit event + outbox
   row in one transaction) at the same concurrency, with one connection per tablet;
4. prints, per level and mode, values/s, p50/p95/p99 latency of the recording requests, the signing
   time, the ratio to the floor, and the resident memory of the largest web worker after the level.
5. with --soak, then drives the server for SECONDS more with --soak-tablets tablets (each walking
   traveler after traveler) and samples every web worker's resident memory as it goes, printing the
   samples and each worker's growth from the end of the first minute (warm caches) to the end.
   Bounded in time; stops by itself; drops the scratch database.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratch  # noqa: E402 - bench/ beside this file
from record.data import CHARS, STEPS, drop_scratch, scratch_database_url  # noqa: E402
from record.floor import floor  # noqa: E402
from record.load import drive, soak  # noqa: E402
from record.procs import backends_cpu, cpu_since, free_port, workers_cpu_seconds, workers_rss_mb  # noqa: E402

# Travelers are built before the run, not while it is measured: each tablet gets enough for SECONDS at
# this many values/s shared by the level's tablets (a tablet that still runs out is counted: "tablets out
# of travelers"), at most MAX_TRAVELERS_EACH (a lone tablet would otherwise need a hundred).
RATE_CEILING = 1500
MAX_TRAVELERS_EACH = 40


def enough_travelers(level: int, seconds: float) -> int:
    values_each = RATE_CEILING * seconds / level
    return max(1, min(MAX_TRAVELERS_EACH, -(-int(values_each) // (STEPS * CHARS))))


# The soak's tablets walk traveler after traveler for the whole soak: built for this many values/s in all
# (one traveler per 30 s each, the earlier default, ran out after 245 of 600 s at 171 values/s).
SOAK_RATE = 300


def soak_travelers(tablets: int, seconds: float) -> int:
    return max(1, -(-int(SOAK_RATE * seconds / max(tablets, 1)) // (STEPS * CHARS)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,20,100")
    parser.add_argument("--seconds", type=float, default=20)
    # as `manage.py serve` runs it; on two cores, 2 x 4 did as well as or better than 3 x 2, 4 x 2 and 4 x 8
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--modes", default="one,batch", help="one (a value per request), batch (a step's values)")
    parser.add_argument("--soak", type=float, default=0, help="then drive the server this long, sampling memory")
    parser.add_argument("--soak-tablets", type=int, default=20)
    parser.add_argument("--soak-mode", default="one", choices=("one", "batch"))
    parser.add_argument(
        "--soak-travelers", type=int, default=0, help="travelers per soak tablet (default: enough for SOAK_RATE)"
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    modes = args.modes.split(",")

    url = scratch_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.update(scratch.key_environment())  # the same integrity key in every process
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ["TRAVELER_HTTPS"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    import django  # noqa: PLC0415 — after the environment above: settings read it when imported

    django.setup()
    from record.building import build  # noqa: PLC0415 — it imports models: after django.setup()

    soak_tablets = args.soak_tablets if args.soak > 0 else 0
    per_tablet = [enough_travelers(level, args.seconds) for level in levels for _ in modes for _ in range(level)]
    tablets = build(  # each level and mode works on travelers of its own; the soak's tablets walk many
        len(per_tablet),
        per_tablet,
        soak_tablets=soak_tablets,
        soak_travelers=args.soak_travelers or soak_travelers(soak_tablets, args.soak),
    )
    from django.db import connections  # noqa: PLC0415 — Django's app loading: after django.setup()

    connections.close_all()
    port = free_port()
    env = {**os.environ, "DB_POOL_MAX": str(args.threads + 2), "WEB_CONCURRENCY": str(args.workers)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mes.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310 - loopback
                break
            except OSError:
                time.sleep(0.5)
        rows = []
        offset = 0
        for level in levels:
            results = []
            for mode in modes:
                cpu, db_cpu = workers_cpu_seconds(server.pid), backends_cpu(url)
                app = asyncio.run(drive(base, tablets[offset : offset + level], mode, args.seconds, walk_all=True))
                recorded = app["counts"]["ok"] or float("nan")  # CPU per value, starts and signings included
                app["cpu_ms"] = (workers_cpu_seconds(server.pid) - cpu) * 1000 / recorded
                app["db_cpu_ms"] = cpu_since(db_cpu, url) * 1000 / recorded
                app["rss_mb"] = max(workers_rss_mb(server.pid), default=float("nan"))  # the largest worker, after
                results.append((mode, app))
                offset += level
            cpu = time.process_time()
            raw = floor(url, level, min(args.seconds, 10))  # after: it writes on the first traveler, now done
            raw["cpu_ms"] = (time.process_time() - cpu) * 1000 / max(raw["count"], 1)  # its client's Python
            for mode, app in results:
                rows.append((level, mode, app, raw))
                print(json.dumps({"tablets": level, "mode": mode, "app": app, "floor": raw}), flush=True)
        if rows:
            print_table(rows, args)
        if soak_tablets:
            soak(base, server.pid, tablets[len(tablets) - soak_tablets :], args.soak_mode, args.soak)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        drop_scratch(url)


def print_table(rows: list, args) -> None:
    print(
        f"\nrecording values through the API (gunicorn {args.workers} workers x {args.threads} threads) beside the"
        " raw psycopg floor; latency per request (one value, or a step's 10 values); sign = signing a step (p50);"
        "\ncpu/db ms = CPU per value of the web workers / of PostgreSQL (starts and signings included), and per"
        " transaction of the floor's client / of PostgreSQL"
    )
    print(
        f"{'tablets':>7} {'mode':>6} {'values/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'sign ms':>8} "
        f"{'cpu ms':>7} {'db ms':>6} {'errors':>6} {'floor/s':>9} {'cpu ms':>7} {'db ms':>6} {'app/floor':>9} "
        f"{'RSS MB':>7}"
    )
    for level, mode, app, raw in rows:
        share = app["rate"] / max(raw["rate"], 1e-9)
        print(
            f"{level:>7} {mode:>6} {app['rate']:>9.1f} {app['p50']:>8.1f} {app['p95']:>8.1f} {app['p99']:>8.1f} "
            f"{app['sign_p50']:>8.1f} {app['cpu_ms']:>7.2f} {app['db_cpu_ms']:>6.2f} {app['errors']:>6} "
            f"{raw['rate']:>9.1f} {raw['cpu_ms']:>7.2f} {raw['db_cpu_ms']:>6.2f} {share:>9.2%} {app['rss_mb']:>7.0f}"
        )
        idle = app["counts"].get("tablets out of travelers", 0)
        if idle:
            print(f"{'':>7} {'':>6} ({idle} of its tablets ran out of travelers before the end: the rate is over"
                  f" {app['seconds']:.1f} s, tablets idle towards the end)")  # fmt: skip


if __name__ == "__main__":
    main()
