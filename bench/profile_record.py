"""Where a recorded value's time goes: cProfile and the SQL of the record path, in one process.

    .venv/bin/python bench/profile_record.py [--values 200] [--top 25] [--batch] [--sign] [--cpu]

Builds the bench's scratch database (bench/record/data.py: 10 steps x 10 characteristics), then
records values through the API in-process (Django's test client: the whole middleware stack, token auth)
under cProfile, one value per request (or, with --batch, a step's values per request); with --sign, the
steps' start and signing requests are profiled instead of the values. Prints the queries of one request
and the top entries by cumulative and by own time (wall time, or with --cpu this process's CPU time: what
Python spends, without the waits on the database, steadier on a shared machine). Drops the scratch database.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's code, not an installed one
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratch  # noqa: E402 - bench/ beside this file
from record import data as rm  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--values", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--batch", action="store_true", help="a step's values per request")
    parser.add_argument("--sign", action="store_true", help="profile starting and signing steps, not recording")
    parser.add_argument("--cpu", action="store_true", help="this process's CPU time instead of wall time")
    args = parser.parse_args()
    url = rm.scratch_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.update(scratch.key_environment())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ["TRAVELER_HTTPS"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    django.setup()
    try:
        run(args)
    finally:
        from django.db import connections  # noqa: PLC0415 — Django's app loading: after django.setup()

        connections.close_all()
        rm.drop_scratch(url)


def run(args) -> None:
    from django.db import connection  # noqa: PLC0415 — Django's app loading: after django.setup()
    from django.test import Client  # noqa: PLC0415 — as above
    from django.test.utils import CaptureQueriesContext  # noqa: PLC0415 — as above
    from record.building import build  # noqa: PLC0415 — as above

    steps_needed = -(-args.values // rm.CHARS) + 1
    tablets = build(-(-steps_needed // rm.STEPS))
    client = Client(SERVER_NAME="127.0.0.1")
    profiler = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    signings = [0]

    def post(url, body, headers, profiled):
        r = (profiler.runcall if profiled else lambda f, *a, **k: f(*a, **k))(
            client.post, url, body, content_type="application/json", headers=headers
        )
        assert r.status_code == 200, r.content

    def steps():
        for tab in tablets:
            headers = {"Authorization": f"Bearer {tab['token']}"}
            for s in range(1, rm.STEPS + 1):
                base = f"/api/travelers/{tab['traveler']}/steps/{s * 10}"
                post(f"{base}/start", {}, headers, args.sign and signings[0] > 0)
                yield base, headers
                sign = {"meaning": "performed", "secret": rm.PIN, "username": tab["username"]}
                if args.sign and signings[0] == 0:  # the first signing's SQL
                    with CaptureQueriesContext(connection) as ctx:
                        post(f"{base}/sign", sign, headers, False)
                    print(f"--- queries of one signing ({len(ctx.captured_queries)}) ---")
                    for q in ctx.captured_queries:
                        print(" ", q["sql"][:160])
                else:
                    post(f"{base}/sign", sign, headers, args.sign)
                signings[0] += 1

    def record(base, headers, codes):
        if args.batch:
            body = {"values": [{"characteristic": c, "value": "10.002", "unit": "mm"} for c in codes]}
            r = client.post(f"{base}/measurements/batch", body, content_type="application/json", headers=headers)
        else:
            body = {"characteristic": codes[0], "value": "10.002", "unit": "mm"}
            r = client.post(f"{base}/measurements", body, content_type="application/json", headers=headers)
        assert r.status_code == 201, r.content

    codes = [f"D{c:02d}" for c in range(1, rm.CHARS + 1)]
    walk = steps()
    base, headers = next(walk)  # warm up and show one request's SQL
    with CaptureQueriesContext(connection) as ctx:
        record(base, headers, codes if args.batch else codes[:1])
    print(f"--- queries of one request ({len(ctx.captured_queries)}) ---")
    for q in ctx.captured_queries:
        print(" ", q["sql"][:160])
    if not args.batch:
        for code in codes[1:]:
            record(base, headers, [code])
    done = 0
    for base, headers in walk:
        if done >= args.values:
            break
        if args.sign:  # the values unprofiled, in one request
            body = {"values": [{"characteristic": c, "value": "10.002", "unit": "mm"} for c in codes]}
            r = client.post(f"{base}/measurements/batch", body, content_type="application/json", headers=headers)
            assert r.status_code == 201, r.content
            done += len(codes)
        elif args.batch:
            profiler.runcall(record, base, headers, codes)
            done += len(codes)
        else:
            for code in codes:
                profiler.runcall(record, base, headers, [code])
                done += 1
    stats = pstats.Stats(profiler, stream=(out := io.StringIO()))
    total, timed = stats.total_tt, "CPU" if args.cpu else "CPU+wait"
    if args.sign:
        signed = signings[0] - 1
        print(f"--- {signed} steps started and signed, {total * 1000 / signed:.2f} ms {timed} per step ---")
    else:
        print(f"--- {done} values, {total * 1000 / done:.2f} ms of profiled {timed} per value ---")
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    stats.sort_stats("cumulative").print_stats(r"/wt\d*/|/(mes|travelers)/", args.top)  # the project's own code
    print(out.getvalue())


if __name__ == "__main__":
    main()
