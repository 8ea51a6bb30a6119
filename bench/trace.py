"""Traceability search at scale: p50/p95 of the searches an investigation makes, on a generated history.

    .venv/bin/python bench/trace.py [--travelers 100000] [--measurements-per-traveler 10] [--samples 100]
                                    [--keep] [--reuse]

What it does, all on this machine:
1. creates a scratch database `traveler_trace_bench` on the server Traveler uses (the private one, or the
   server of DATABASE_URL), migrates it and fills it with `manage.py generate_history` (COPY + set-based
   fan-out; the archived-only travelers' facts go to a scratch data lake folder);
2. times, through the same selectors the pages and the API use (statement timeout included):
   exact serial/lot lookup · a unit's full trace (genealogy both ways, values and signers) · partial
   text · recall over one raw-material lot · and, for the record, search by another site's alias, by
   person, and by out-of-spec value;
3. prints p50/p95/max per search against the goals, and EXPLAIN (ANALYZE, BUFFERS) of the slowest
   statement of the slowest search;
4. drops the scratch database (unless --keep; --reuse measures a kept one again without regenerating).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = "traveler_trace_bench"
GOALS_MS = {"exact": 20, "trace": 200, "partial": 300, "recall": 1000}


def server_urls() -> tuple[str, str]:
    return scratch.server_urls(DB_NAME)


def admin(sql: str) -> None:
    scratch.admin(DB_NAME, sql)


def manage(env: dict, *args: str) -> None:
    scratch.manage(env, *args)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--travelers", type=int, default=100_000)
    parser.add_argument("--measurements-per-traveler", type=int, default=10)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (and lake) afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept scratch database again")
    args = parser.parse_args()

    _, url = server_urls()
    lake = Path(tempfile.gettempdir()) / f"{DB_NAME}_lake"
    env = {**os.environ, "DATABASE_URL": url, "DATA_LAKE_URL": str(lake), "DB_POOL_MAX": "2"}
    env.update(scratch.key_environment())
    if not args.reuse:
        admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{DB_NAME}"')
        shutil.rmtree(lake, ignore_errors=True)
        started = time.perf_counter()
        manage(env, "migrate", "--verbosity", "0")
        manage(
            env,
            "generate_history",
            "--travelers",
            str(args.travelers),
            "--measurements-per-traveler",
            str(args.measurements_per_traveler),
            "--lake",
            str(lake),
        )
        print(f"\ngenerated in {time.perf_counter() - started:.0f} s (migrate + generate_history)\n")
    try:
        measure(env, args.samples)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            shutil.rmtree(lake, ignore_errors=True)
    return 0


def measure(env: dict, samples: int) -> None:
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.traceability.selectors import genealogy, recall, search

    rng = random.Random(11)

    def pick(sql: str, n: int) -> list:
        with connection.cursor() as cursor:
            cursor.execute(sql + " ORDER BY random() LIMIT %s", [n])
            return [row[0] if len(row) == 1 else row for row in cursor.fetchall()]

    serials = pick("SELECT identifier FROM travelers_item WHERE tracking = 'serial'", samples)
    lots = pick("SELECT identifier FROM travelers_item i WHERE identifier LIKE 'L-%%'", samples // 4)
    assemblies = pick(
        "SELECT i.id FROM travelers_item i JOIN travelers_traveler t ON t.item_id = i.id "
        "WHERE i.identifier LIKE 'SN-%%' AND t.status = 'closed'",
        samples,
    )
    raw_lots = pick("SELECT identifier FROM travelers_item WHERE identifier LIKE 'RAW-%%'", max(5, samples // 5))
    partials = [s[-6:-1] for s in rng.sample(serials, min(len(serials), samples))]
    people = pick("SELECT username FROM auth_user WHERE username LIKE 'gen-op-%%'", 10)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM travelers_traveler")
        travelers = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM travelers_measurement")
        measurements = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM archive_archiverecord")
        archived = cursor.fetchone()[0]
    print(f"history: {travelers:,} travelers, {measurements:,} measurements, {archived:,} archive records\n")

    cases = {
        "exact": [lambda s=s: search.search(s) for s in serials + lots],
        "trace": [lambda i=i: genealogy.trace_item(i) for i in assemblies],
        "partial": [lambda p=p: search.search(p) for p in partials],
        "recall": [lambda r=r: recall.recall(lot=r) for r in raw_lots],
        "alias (op:Coat1)": [lambda: search.search("op:Coat1")] * 10,
        "person (by:)": [lambda p=p: search.search(f"by:{p}") for p in people],
        "out of spec": [lambda: search.search("THICK out of spec site:TLS")] * 10,
    }
    results = {}
    slowest = {}
    for name, calls in cases.items():
        calls[0]()  # warm the cache and the plan
        timings = []
        for call in calls:
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                out = call()
                elapsed = time.perf_counter() - started
            timings.append(elapsed * 1000)
            statement = getattr(getattr(out, "completeness", None), "statement", "")
            if not slowest.get(name) or elapsed * 1000 > slowest[name][0]:
                selects = [q for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("SELECT", "WITH"))]
                queries = sorted(selects, key=lambda q: float(q["time"]), reverse=True)
                slowest[name] = (elapsed * 1000, queries[0]["sql"] if queries else "", statement)
        results[name] = timings

    print(f"{'search':<18} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  goal (p95)")
    for name, timings in results.items():
        goal = GOALS_MS.get(name)
        p95 = percentile(timings, 95)
        verdict = "" if goal is None else f"≤ {goal} ms  {'OK' if p95 <= goal else 'MISSED'}"
        p50, worst_ms = statistics.median(timings), max(timings)
        print(f"{name:<18} {len(timings):>4} {p50:>8.1f} {p95:>8.1f} {worst_ms:>8.1f}  {verdict}")
    worst = max(GOALS_MS, key=lambda n: percentile(results[n], 95) / GOALS_MS[n])
    elapsed, sql, statement = slowest[worst]
    print(f"\nslowest against its goal: {worst} ({elapsed:.1f} ms); its completeness statement:\n  {statement}")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of its slowest statement:\n")
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    raise SystemExit(main())
