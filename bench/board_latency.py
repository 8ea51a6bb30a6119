"""Live board latency: from the commit of an event to a wall screen showing it.

    .venv/bin/python bench/board_latency.py [--events 40] [--open 300] [--store both|memory|redis]

What it does, all on this machine:
1. creates a scratch database `traveler_board_bench` on the server Traveler uses (the private one, or the
   server of DATABASE_URL), migrates it, and builds through the services one site, a one-step routing and
   --open released travelers (the board's content);
2. a screen polls the board page as often as the page does (every 800 ms) (htmx, the partial), through Django's whole
   request stack; meanwhile an operator starts one traveler's step at a random moment, --events times;
3. for each event: the time from its commit to the first poll answer that shows it running; and the cost
   of one poll (apply the new events to the store, render from it);
4. prints median / p95 / max per store — in-process, and Redis (BOARD_REDIS_URL, default
   redis://127.0.0.1:6379/9) when it answers — then drops the scratch database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = "traveler_board_bench"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway scratch database


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def build(open_travelers: int):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from mes.compliance.models import Profile
    from mes.masterdata import services as md
    from mes.masterdata.change_control import routing_release_signed
    from mes.masterdata.models import Operation, Part, PartRevision, Qualification, Site, WorkCenter
    from travelers import services

    site = Site.objects.create(code="BEN", name="Bench", time_zone="UTC", legacy_system="bench")
    wc = WorkCenter.objects.create(site=site, code="CELL", name="Cell")
    op = Operation.objects.create(code="COATING", name="Coating")
    md.operation_alias_create(operation=op, source_system="bench", site=site, code="CT1")
    revision = PartRevision.objects.create(part=Part.objects.create(number="BENCH-1", name="Bench part"), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    md.routing_step_add(routing=routing, sequence=10, operation=op, work_center=wc, title="Coat")
    users = get_user_model().objects
    signers = []
    for name, role in (("engineer", "Engineer"), ("quality", "Inspector"), ("boss", "Supervisor"), ("op", "Operator")):
        user = users.create_user(name, password=PASSWORD, first_name=role, last_name="Bench")
        Profile.objects.create(user=user, employee_number=f"B-{name}", printed_name=f"{role} Bench", site=site)
        user.groups.add(Group.objects.get(name=role))
        signers.append(user)
    engineer, quality, boss, operator = signers
    routing_release_signed(
        routing=routing,
        reason="bench",
        engineer=engineer,
        engineer_secret=PASSWORD,
        quality=quality,
        quality_secret=PASSWORD,
    )
    today = timezone.localdate()
    Qualification.objects.create(
        user=operator, operation=op, kind="perform", valid_from=today, expires_on=today.replace(year=today.year + 1)
    )
    order = services.work_order_create(number="WO-BOARD", part_revision=revision, quantity=open_travelers, site=site)
    travelers = [
        services.traveler_release(work_order=order, identifier=f"SN-{i:05d}", actor=boss) for i in range(open_travelers)
    ]
    return travelers, operator


def run(store_name: str, travelers, operator, events: int) -> dict:
    from django.conf import settings
    from django.test import Client

    from integrations.board import store as board_store
    from integrations.board.views import POLL_MS
    from travelers import services

    if store_name == "redis":
        settings.BOARD_REDIS_URL = os.environ.get("BOARD_REDIS_URL", "redis://127.0.0.1:6379/9")
    else:
        settings.BOARD_REDIS_URL, settings.CELERY_BROKER_URL = "", "memory://"
    board_store.board_store().clear()
    client = Client()
    client.force_login(operator)
    client.get("/board/BEN/")  # the first poll builds the store
    seen: dict[str, float] = {}
    committed: dict[str, float] = {}
    poll_ms: list[float] = []
    stop = threading.Event()
    lock = threading.Lock()

    def screen():
        from django.db import connection

        while not stop.is_set():
            started = time.perf_counter()
            body = client.get("/board/BEN/", headers={"HX-Request": "true"}).content.decode()
            now = time.perf_counter()
            poll_ms.append((now - started) * 1000)
            with lock:
                for number in committed:
                    if number not in seen and f'data-traveler="{number}" data-state="running"' in body:
                        seen[number] = now
            stop.wait(max(0.0, POLL_MS / 1000 - (now - started)))
        connection.close()

    thread = threading.Thread(target=screen)
    thread.start()
    rng = random.Random(5)  # noqa: S311 - timing jitter, not security
    chosen = travelers[:events]
    try:
        for traveler in chosen:
            time.sleep(rng.uniform(0.2, 1.2))
            services.step_start(step=traveler.steps.get(sequence=10), actor=operator)
            with lock:
                committed[traveler.number] = time.perf_counter()
        deadline = time.monotonic() + 10
        while len(seen) < len(chosen) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    latencies = [(seen[n] - committed[n]) * 1000 for n in committed if n in seen]
    return {"latencies": latencies, "missed": len(chosen) - len(latencies), "poll_ms": poll_ms}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--open", type=int, default=300, help="open travelers on the board")
    parser.add_argument("--store", choices=("both", "memory", "redis"), default="both")
    args = parser.parse_args()
    _, url = scratch.server_urls(DB_NAME)
    scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    scratch.admin(DB_NAME, f'CREATE DATABASE "{DB_NAME}"')
    env = {"DATABASE_URL": url, "ALLOWED_HOSTS": "testserver", "TRAVELER_HTTPS": "false", "DB_POOL_MAX": "4"}
    env.update(scratch.key_environment())
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    try:
        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.SECURE_SSL_REDIRECT = False
        settings.STORAGES = {  # no collectstatic for a bench: plain static URLs
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        travelers, operator = build(args.open + 2 * args.events)
        print(f"built {len(travelers)} open travelers in {time.perf_counter() - started:.0f} s\n")
        stores = ["memory", "redis"] if args.store == "both" else [args.store]
        print(f"{'store':<10} {'events':>6} {'missed':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   poll p50/p95 ms")
        for i, name in enumerate(stores):
            if name == "redis":
                try:
                    import redis

                    redis.Redis.from_url(os.environ.get("BOARD_REDIS_URL", "redis://127.0.0.1:6379/9")).ping()
                except Exception as exc:  # noqa: BLE001 - reported, not raised
                    print(f"redis      skipped: {exc}")
                    continue
            batch = travelers[i * args.events : (i + 1) * args.events]
            r = run(name, batch, operator, args.events)
            lat, polls = r["latencies"] or [float("nan")], r["poll_ms"]
            print(
                f"{name:<10} {len(lat):>6} {r['missed']:>6} {statistics.median(lat):>8.0f} {percentile(lat, 95):>8.0f} "
                f"{max(lat):>8.0f}   {statistics.median(polls):.1f}/{percentile(polls, 95):.1f}"
            )
        from integrations.board.views import POLL_MS

        print(f"\nthe screen polls every {POLL_MS} ms (as the page does): the wait for the next poll is most of it")
    finally:
        from django.db import connections

        connections.close_all()
        scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
