"""The verifier and the checkpoints at scale: how long `manage.py verify_audit` takes, and what a
checkpoint costs, on the demo factory or on a generated history.

    .venv/bin/python bench/verify.py --demo                    # the demo factory (seed_demo)
    .venv/bin/python bench/verify.py --travelers 1000000       # a generated history (keyed, sealed)
                                     [--measurements-per-traveler 10] [--runs 3] [--keep] [--reuse]

In a scratch database `traveler_verify_bench` on the server Traveler uses (dropped afterwards unless
--keep): fill it (seed_demo, or generate_history, which seals every signature and audit chain with this
checkout's integrity key), write a full checkpoint and a delta to a scratch data lake (timed, with the
document's size), then run the whole verifier `--runs` times and print each run's time, the median, and
what it checked.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = "traveler_verify_bench"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", action="store_true", help="the demo factory instead of a generated history")
    parser.add_argument("--travelers", type=int, default=10_000)
    parser.add_argument("--measurements-per-traveler", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="measure a kept scratch database again")
    args = parser.parse_args()

    _, url = scratch.server_urls(DB_NAME)
    lake = Path(tempfile.gettempdir()) / f"{DB_NAME}_lake"
    env = {**os.environ, "DATABASE_URL": url, "DATA_LAKE_URL": str(lake), "DB_POOL_MAX": "2"}
    env.update(scratch.key_environment())
    if not args.reuse:
        scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        scratch.admin(DB_NAME, f'CREATE DATABASE "{DB_NAME}"')
        shutil.rmtree(lake, ignore_errors=True)
        started = time.perf_counter()
        scratch.manage(env, "migrate", "--verbosity", "0")
        if args.demo:
            scratch.manage(env, "seed_demo", "--verbosity", "0")
        else:
            scratch.manage(
                env, "generate_history", "--travelers", str(args.travelers),
                "--measurements-per-traveler", str(args.measurements_per_traveler), "--archived-only", "0",
            )  # fmt: skip
        print(f"filled in {time.perf_counter() - started:.0f} s")
        for kind in ("full", "delta"):
            started = time.perf_counter()
            code = (
                "from mes.compliance.checkpoints import checkpoint_write as w; "
                "from mes.compliance.models import AuditChainHead as H; "
                "c = w(full=%s, chains=[H.objects.order_by('chain').first().chain]); print(c.chains)"
            )
            out = scratch.manage(env, "shell", "-c", code % (kind == "full"), capture=True).stdout
            chains = out.strip().splitlines()[-1]
            took = time.perf_counter() - started
            size = max((p.stat().st_size for p in (lake / "integrity" / "checkpoints").glob(f"*-{kind}-*")), default=0)
            print(f"checkpoint ({kind}): {chains} chains, {size:,} bytes gzip, {took:.1f} s (with the command's start)")
    try:
        times = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            done = scratch.manage(env, "verify_audit", "--no-record", capture=True)
            times.append(time.perf_counter() - started)
            checked = re.sub(r"^.*checked ", "", done.stdout.strip().splitlines()[-1])
            print(f"verify_audit run {run}: {times[-1]:.1f} s — {checked}")
        print(f"verify_audit median of {len(times)}: {statistics.median(times):.1f} s")
    finally:
        if not args.keep:
            scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            shutil.rmtree(lake, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
