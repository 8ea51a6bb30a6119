"""Tablets recording measurements through the API, against the production server, beside the floor.

    .venv/bin/python bench/record_measurements.py [--levels 1,20,100] [--modes one,batch] [--seconds 20]
        [--workers 4] [--threads 8] [--soak SECONDS [--soak-tablets 20] [--soak-mode one]]
        (BENCH_DB names the scratch database; default traveler_bench)

What it does, all on this machine:
1. creates a scratch database `traveler_bench` on the server Traveler uses (the private one, or the
   server of DATABASE_URL), migrates it, and builds a routing of 10 steps x 10 numeric characteristics
   and one traveler per tablet, through the services;
2. serves the app with gunicorn (gthread workers) and drives it with N asyncio tablets (httpx), each
   recording the values of its own traveler step by step (start step, 10 values, sign), token auth, in
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
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = os.environ.get("BENCH_DB", "traveler_bench")  # a name of your own if others bench too
STEPS, CHARS = 10, 10
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway scratch database
PIN = "482913"


def scratch_database_url() -> str:
    """The URL of a fresh scratch database on the same server as Traveler's."""
    import psycopg

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
    return url


def drop_scratch(url: str) -> None:
    import psycopg

    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def build(tablets: int, travelers_each: int = 1, *, soak_tablets: int = 0, soak_travelers: int = 0) -> list[dict]:
    """Master data, one operator per tablet (token), `travelers_each` travelers per tablet, then
    `soak_tablets` more with `soak_travelers` each. Returns the tablets (each with its first traveler as
    `traveler`, all of them as `travelers`), the soak's last."""
    from django.test import override_settings

    # The bench's passwords are only ever checked here, while building: a fast hasher for them (PBKDF2 costs
    # a second a user). The signing PINs keep theirs, which the server checks on every signing.
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher", "mes.compliance.hashers.SigningPinHasher"]
    ):
        return _build(tablets, travelers_each, soak_tablets, soak_travelers)


def _build(tablets: int, travelers_each: int, soak_tablets: int, soak_travelers: int) -> list[dict]:
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.utils import timezone

    from mes.compliance.credentials import signing_pin_set
    from mes.compliance.models import Profile
    from mes.compliance.tokens import api_token_issue
    from mes.masterdata import services as md
    from mes.masterdata.change_control import routing_release_signed
    from mes.masterdata.models import Operation, Part, PartRevision, Qualification, Site, WorkCenter
    from travelers import services

    call_command("migrate", verbosity=0)
    site = Site.objects.create(code="BEN", name="Bench", time_zone="UTC", legacy_system="bench")
    wc = WorkCenter.objects.create(site=site, code="CELL", name="Cell")
    op = Operation.objects.create(code="MACHINING", name="Machining")
    revision = PartRevision.objects.create(part=Part.objects.create(number="BENCH-1", name="Bench part"), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    for s in range(1, STEPS + 1):
        step = md.routing_step_add(routing=routing, sequence=s * 10, operation=op, work_center=wc, title=f"Step {s}")
        for c in range(1, CHARS + 1):
            md.characteristic_add(
                step=step,
                code=f"D{c:02d}",
                name=f"Diameter {c}",
                unit="mm",
                nominal=Decimal("10.000"),
                lower_limit=Decimal("9.990"),
                upper_limit=Decimal("10.010"),
            )
    user_model = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model()
    signers = []
    for name, role in (("engineer", "Engineer"), ("quality", "Inspector")):
        signer = user_model.objects.create_user(name, password=PASSWORD, first_name=role, last_name="Bench")
        Profile.objects.create(user=signer, employee_number=f"B-{name}", printed_name=f"{role} Bench", site=site)
        signer.groups.add(Group.objects.get(name=role))
        signers.append(signer)
    routing_release_signed(
        routing=routing,
        reason="bench routing",
        engineer=signers[0],
        engineer_secret=PASSWORD,
        quality=signers[1],
        quality_secret=PASSWORD,
    )
    boss = user_model.objects.create_user("boss", password=PASSWORD)
    boss.groups.add(Group.objects.get(name="Supervisor"))
    order = services.work_order_create(
        number="WO-BENCH",
        part_revision=revision,
        quantity=tablets * travelers_each + soak_tablets * soak_travelers,
        site=site,
    )
    today = timezone.localdate()
    result = []
    for t in range(tablets + soak_tablets):
        user = user_model.objects.create_user(f"op{t}", password=PASSWORD, first_name="Op", last_name=str(t))
        Profile.objects.create(user=user, employee_number=f"B{t:04d}", printed_name=f"Operator {t}", site=site)
        user.groups.add(Group.objects.get(name="Operator"))
        Qualification.objects.create(
            user=user, operation=op, kind="perform", valid_from=today, expires_on=today.replace(year=today.year + 1)
        )
        numbers = [
            services.traveler_release(work_order=order, identifier=f"SN-{t:05d}-{n:03d}", actor=boss).number
            for n in range(travelers_each if t < tablets else soak_travelers)
        ]
        signing_pin_set(user=user, current_password=PASSWORD, new_pin=PIN)  # operators sign with their PIN
        _, key = api_token_issue(user=user, name="bench")
        result.append({"traveler": numbers[0], "travelers": numbers, "token": key, "username": user.username})
    return result


def workers_rss_mb(master_pid: int) -> list[float]:
    """Resident memory of each gunicorn worker (the master's children), in MB, from /proc (Linux)."""
    return sorted(workers_rss_by_pid(master_pid).values())


def workers_rss_by_pid(master_pid: int) -> dict[int, float]:
    """pid -> resident memory in MB of each gunicorn worker (the master's children), from /proc (Linux)."""
    sizes = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master_pid:  # the parent's pid
                continue
            for line in (stat.parent / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes[int(stat.parent.name)] = int(line.split()[1]) / 1024
        except (OSError, IndexError, ValueError):
            continue
    return sizes


def cpu_seconds(pid: int) -> float:
    """User + system CPU time process `pid` has used so far, in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def workers_cpu_seconds(master_pid: int) -> float:
    """CPU time the gunicorn workers (the master's children) have used so far, in seconds."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == master_pid:
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


def backends_cpu(url: str) -> dict[int, float]:
    """pid -> CPU seconds so far of each PostgreSQL backend serving the scratch database (the server runs
    on this machine); a backend that appears later started from 0."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {pid: cpu_seconds(pid) for (pid,) in pids}


def cpu_since(before: dict[int, float], url: str) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in backends_cpu(url).items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")


async def tablet(client, base: str, tab: dict, mode: str, deadline: float, stats: dict) -> None:
    """One tablet walking its travelers one after the other (see walk) until the deadline. A connection
    the server dropped (a worker restarted, a keep-alive closed) is counted as an error and the tablet goes
    on with its next traveler, as a tablet would after a reload."""
    import httpx

    for number in tab["travelers"]:
        try:
            await walk(client, base, tab, number, mode, deadline, stats)
        except httpx.TransportError as exc:
            stats["counts"][f"connection {type(exc).__name__}"] += 1
        if time.monotonic() > deadline:
            return
    stats["counts"]["tablets out of travelers"] += 1  # not an error: the tablet had nothing left to do


async def walk(client, base: str, tab: dict, number: str, mode: str, deadline: float, stats: dict) -> None:
    """One tablet walking one traveler: start a step, record its values (one request per value, or the
    step's form at once), sign it performed with the PIN; the next step."""
    headers = {"Authorization": f"Bearer {tab['token']}"}
    counts = stats["counts"]
    for s in range(1, STEPS + 1):
        if time.monotonic() > deadline:
            return
        step_url = f"{base}/api/travelers/{number}/steps/{s * 10}"
        r = await client.post(f"{step_url}/start", headers=headers)
        if r.status_code >= 400:
            counts[f"start {r.status_code}"] += 1
            return
        values = [
            {"characteristic": f"D{c:02d}", "value": f"{10 + (c % 3 - 1) * 0.002:.3f}", "unit": "mm"}
            for c in range(1, CHARS + 1)
        ]
        if mode == "batch":
            started = time.perf_counter()
            r = await client.post(f"{step_url}/measurements/batch", headers=headers, json={"values": values})
            stats["latencies"].append((time.perf_counter() - started) * 1000)
            counts["ok" if r.status_code == 201 else f"record {r.status_code}"] += len(values)
            if r.status_code != 201:
                stats["samples"].setdefault(f"record {r.status_code}", r.text[:300])
        else:
            for body in values:
                if time.monotonic() > deadline:
                    return
                started = time.perf_counter()
                r = await client.post(f"{step_url}/measurements", headers=headers, json=body)
                stats["latencies"].append((time.perf_counter() - started) * 1000)
                counts["ok" if r.status_code == 201 else f"record {r.status_code}"] += 1
                if r.status_code != 201:
                    stats["samples"].setdefault(f"record {r.status_code}", r.text[:300])
        started = time.perf_counter()
        r = await client.post(
            f"{step_url}/sign",
            headers=headers,
            json={"meaning": "performed", "secret": PIN, "username": tab["username"]},  # a token signs with the user id
        )
        stats["sign"].append((time.perf_counter() - started) * 1000)
        counts["signed" if r.status_code == 200 else f"sign {r.status_code}"] += 1
        if r.status_code != 200:
            stats["samples"].setdefault(f"sign {r.status_code}", r.text[:300])


async def drive(base: str, tablets: list[dict], mode: str, seconds: float, *, walk_all: bool = False) -> dict:
    import httpx

    stats = {"latencies": [], "sign": [], "samples": {}, "counts": collections.Counter(ok=0, signed=0)}
    limits = httpx.Limits(max_connections=len(tablets) + 5, max_keepalive_connections=len(tablets) + 5)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(tablet(client, base, t if walk_all else {**t, "travelers": [t["traveler"]]}, mode, deadline, stats)
              for t in tablets)
        )  # fmt: skip
        elapsed = time.monotonic() - started
    counts, latencies = stats["counts"], stats["latencies"]
    return {
        "rate": counts["ok"] / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "p99": percentile(latencies, 99),
        "sign_p50": percentile(stats["sign"], 50),
        "errors": sum(v for k, v in counts.items() if k not in ("ok", "signed", "tablets out of travelers")),
        "counts": dict(counts),
        "error_samples": stats["samples"],
        "seconds": elapsed,
    }


def floor(url: str, concurrency: int, seconds: float) -> dict:
    """Raw psycopg: measurement + audit event (its chain head locked and moved on, the event's HMAC) +
    outbox row in one transaction, per recorded value — what the database must do whatever the app."""
    import hashlib
    import hmac

    import psycopg

    run = uuid.uuid4().hex[:8]
    secret = os.urandom(32)
    stop = time.monotonic() + seconds
    done, latencies, lock, db_cpu = [0], [], threading.Lock(), [0.0]
    with psycopg.connect(url) as conn:
        step_id, char_id, user_id = conn.execute(
            "SELECT s.id, c.id, (SELECT id FROM auth_user WHERE username='op0') FROM travelers_travelerstep s "
            "JOIN travelers_travelercharacteristic c ON c.step_id = s.id LIMIT 1"
        ).fetchone()

    def worker(n: int) -> None:
        chain = f"floor:{run}:{n}"
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) VALUES (%s, 0, %s)",
                (chain, "0" * 64),
            )
            conn.commit()
            backend_cpu = cpu_seconds(conn.info.backend_pid)  # its PostgreSQL backend (on this machine)
            i = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                with conn.transaction():
                    seq, prev = conn.execute(
                        "SELECT last_seq, last_hash FROM compliance_auditchainhead WHERE chain = %s FOR UPDATE",
                        (chain,),
                    ).fetchone()
                    conn.execute(
                        "INSERT INTO travelers_measurement (step_id, characteristic_id, entered_value, entered_unit, "
                        "value_numeric, value_text, judgment, deviation, spec_revision, spec_unit, spec_lower, "
                        "spec_upper, source, device, device_endpoint, device_raw, recorded_at, recorded_by_id, "
                        "correction_reason) VALUES (%s, %s, '10.000', 'mm', 10.0, '', 'in_spec', 0, 'r1', 'mm', 9.99, "
                        "10.01, 'manual', '', '', '', now(), %s, '')",
                        (step_id, char_id, user_id),
                    )
                    content = json.dumps([chain, seq + 1, "measurement.recorded", prev], separators=(",", ":"))
                    digest = hmac.new(secret, content.encode(), hashlib.sha256).hexdigest()
                    conn.execute(
                        "INSERT INTO compliance_auditevent (chain, seq, occurred_at, actor_id, actor_name, action, "
                        "object_type, object_id, changes, reason, request_id, seal, key_id, prev_hash, hash) VALUES "
                        "(%s, %s, now(), %s, 'x', 'measurement.recorded', 'm', '1', '{}', '', '', '', 'bench', %s, %s)",
                        (chain, seq + 1, user_id, prev, digest),
                    )
                    conn.execute(
                        "UPDATE compliance_auditchainhead SET last_seq = %s, last_hash = %s WHERE chain = %s",
                        (seq + 1, digest, chain),
                    )
                    conn.execute(
                        "INSERT INTO events_outboxmessage (message_id, created_at, event_type, schema_version, "
                        "aggregate_type, aggregate_id, site_code, work_center_code, payload, attempts, last_error) "
                        "VALUES (gen_random_uuid(), now(), 'measurement.recorded', 1, 'traveler', 'T', 'BEN', "
                        "'CELL', '{}', 0, '')"
                    )
                i += 1
                with lock:
                    done[0] += 1
                    latencies.append((time.perf_counter() - started) * 1000)
            with lock:
                db_cpu[0] += cpu_seconds(conn.info.backend_pid) - backend_cpu

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    return {
        "rate": done[0] / elapsed,
        "count": done[0],
        "db_cpu_ms": db_cpu[0] * 1000 / max(done[0], 1),
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
    }


def soak(base: str, master_pid: int, tablets: list[dict], mode: str, seconds: float) -> None:
    """Drive the server for `seconds` and sample each web worker's resident memory every few seconds;
    print the samples and each worker's growth from the end of the first minute (or tenth) to the end."""
    interval = max(5.0, seconds / 40)
    samples: list[tuple[float, dict[int, float]]] = []
    stop = threading.Event()
    started = time.monotonic()

    def sample() -> None:
        while True:
            samples.append((time.monotonic() - started, workers_rss_by_pid(master_pid)))
            if stop.wait(interval):
                samples.append((time.monotonic() - started, workers_rss_by_pid(master_pid)))
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        app = asyncio.run(drive(base, tablets, mode, seconds, walk_all=True))
    finally:
        stop.set()
        sampler.join()
    print(json.dumps({"soak": {"tablets": len(tablets), "mode": mode, "app": app}}), flush=True)
    pids = sorted({pid for _, sizes in samples for pid in sizes})
    print(
        f"\nsoak: {len(tablets)} tablets, mode {mode}, {seconds:.0f} s: {app['rate']:.1f} values/s, p95 "
        f"{app['p95']:.1f} ms, {app['errors']} errors; resident memory of each web worker (MB) over time"
    )
    print(f"{'s':>6} " + " ".join(f"{'pid ' + str(pid):>10}" for pid in pids))
    for at, sizes in samples:
        print(f"{at:>6.0f} " + " ".join(f"{sizes[pid]:>10.1f}" if pid in sizes else f"{'-':>10}" for pid in pids))
    warm = min(60.0, seconds / 10)
    after_warmup = next((sizes for at, sizes in samples if at >= warm), samples[-1][1])
    last_at, last = samples[-1]
    for pid in pids:
        if pid in after_warmup and pid in last:
            growth = last[pid] - after_warmup[pid]
            minutes = max(last_at - warm, 1e-9) / 60
            print(
                f"worker {pid}: {after_warmup[pid]:.1f} MB at {warm:.0f} s -> {last[pid]:.1f} MB at {last_at:.0f} s "
                f"({growth:+.1f} MB, {growth / minutes:+.2f} MB/min)"
            )
        else:
            print(f"worker {pid}: not there for the whole soak (started or ended during it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="1,20,100")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per gunicorn worker")
    parser.add_argument("--modes", default="one,batch", help="one (a value per request), batch (a step's values)")
    parser.add_argument("--soak", type=float, default=0, help="then drive the server this long, sampling memory")
    parser.add_argument("--soak-tablets", type=int, default=20)
    parser.add_argument("--soak-mode", default="one", choices=("one", "batch"))
    parser.add_argument(
        "--soak-travelers", type=int, default=0, help="travelers per soak tablet (default: one per 30 s of soak)"
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
    import django

    django.setup()
    soak_tablets = args.soak_tablets if args.soak > 0 else 0
    tablets = build(  # each level and mode works on travelers of its own; the soak's tablets walk many
        sum(levels) * len(modes),
        soak_tablets=soak_tablets,
        soak_travelers=args.soak_travelers or int(args.soak // 30) + 1,
    )
    from django.db import connections

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
                import urllib.request

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
                app = asyncio.run(drive(base, tablets[offset : offset + level], mode, args.seconds))
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


if __name__ == "__main__":
    main()
