"""Outbox → MQTT relay throughput at QoS 1, against the broker on 127.0.0.1:1883 (Mosquitto).

    .venv/bin/python bench/relay_mqtt.py [--events 5000] [--runs 3] [--batch 200] [--url mqtt://127.0.0.1:1883]

What it does, all on this machine:
1. creates a scratch database `traveler_bench_relay` on the server Traveler uses (the private one, or
   the server of DATABASE_URL), migrates it, and writes N realistic events into the outbox (the
   measurement.recorded envelope, ~900 bytes each) through outbox_emit;
2. runs the relay (integrations.relay.relay_drain) with one MQTT adapter, as the Celery task does:
   per batch, SELECT … FOR UPDATE SKIP LOCKED, one connection, publish at QoS 1, wait for every PUBACK,
   mark delivered; a subscriber on the same broker counts what arrives (each event id once);
3. repeats it `--runs` times (the outbox reset in between) and prints events/s per run and the median,
   beside the floor: the same payloads published at QoS 1 by one paho client with no database at all.
Prints figures only; no assertion. Bounded: stops by itself; drops the scratch database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DB_NAME = "traveler_bench_relay"


def scratch_database_url() -> str:
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
    from django.db import connections

    connections.close_all()
    for conn in connections.all():
        close_pool = getattr(conn, "close_pool", None)
        if close_pool:
            close_pool()
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def fill_outbox(events: int) -> None:
    from django.db import transaction

    from mes.events.services import outbox_emit

    data = {
        "traveler": "T-000001",
        "site": "WIC",
        "work_order": "WO-1001",
        "part": {"number": "HSG-1", "revision": "A"},
        "serial": "SN-0001",
        "quantity": "1",
        "status": "active",
        "on_hold": False,
        "step": {
            "sequence": 10,
            "title": "Bore the housing",
            "status": "in_progress",
            "operation": {"code": "MACHINING", "name": "Machining", "site_alias": "MC-10"},
            "work_center": "CELL-1",
        },
    }
    with transaction.atomic():
        for n in range(events):
            value = {
                "characteristic": f"D{n % 10:02d}",
                "name": "Bore diameter",
                "value": f"12.{700 + n % 9}",
                "unit": "mm",
                "entered_value": f"12.{700 + n % 9}",
                "entered_unit": "mm",
                "judgment": "in_spec",
                "deviation": "0",
                "lower_limit": "12.687",
                "upper_limit": "12.713",
                "source": "device",
                "device": "ns=2;s=Bore.Diameter",
                "recorded_at": "2026-11-30T08:00:00Z",
                "supersedes": None,
            }
            outbox_emit(
                event_type="measurement.recorded",
                aggregate_type="traveler",
                aggregate_id=f"T-{n // 40:06d}",
                data={**data, "value": value},
                site_code="WIC",
                work_center_code="CELL-1",
            )


def reset_outbox() -> None:
    from integrations.models import OutboxDelivery
    from mes.events.models import OutboxMessage

    OutboxDelivery.objects.all().delete()
    OutboxMessage.objects.update(delivered_at=None, dispatched_at=None)  # dispatched again, to each adapter


class Counter:
    """A subscriber counting distinct event ids (and duplicates) under a topic root."""

    def __init__(self, url: str, topic_filter: str):
        from integrations.adapters.mqtt import connect, parse_broker

        self.ids: set[str] = set()
        self.duplicates = 0
        self.lock = threading.Lock()
        ready = threading.Event()
        self.client = connect(parse_broker(url), client_id=f"bench-sub-{uuid.uuid4().hex[:8]}", max_inflight=100)

        def on_message(client, userdata, message):
            event_id = json.loads(message.payload)["id"]
            with self.lock:
                if event_id in self.ids:
                    self.duplicates += 1
                self.ids.add(event_id)

        self.client.on_message = on_message
        self.client.on_subscribe = lambda *args: ready.set()
        self.client.subscribe(topic_filter, qos=1)
        ready.wait(5)

    def reset(self) -> None:
        with self.lock:
            self.ids.clear()
            self.duplicates = 0

    def wait(self, count: int, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.ids) < count:
            time.sleep(0.05)
        return len(self.ids)

    def close(self) -> None:
        from integrations.adapters.mqtt import close

        close(self.client)


def relay_once(batch: int) -> tuple[float, int]:
    from integrations.relay import relay_drain

    started = time.perf_counter()
    result = relay_drain(batch=batch, max_rounds=100000)
    return time.perf_counter() - started, result.delivered


def floor_once(url: str, prefix: str, payloads: list[bytes]) -> float:
    """The same payloads at QoS 1 from one client, no database: what the broker and paho allow."""
    from integrations.adapters.mqtt import close, connect, parse_broker

    client = connect(parse_broker(url), client_id=f"bench-floor-{uuid.uuid4().hex[:8]}")
    try:
        started = time.perf_counter()
        infos = [client.publish(f"{prefix}/WIC/CELL-1/measurement.recorded", p, qos=1) for p in payloads]
        for info in infos:
            info.wait_for_publish(60)
        return time.perf_counter() - started
    finally:
        close(client)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200, help="messages per relay transaction (the task's default)")
    parser.add_argument("--url", default=os.environ.get("MQTT_URL") or "mqtt://127.0.0.1:1883")
    args = parser.parse_args()

    url = scratch_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    import django

    django.setup()
    from django.core.management import call_command

    from integrations.adapters.mqtt import parse_broker
    from integrations.models import Adapter
    from mes.events.models import OutboxMessage

    counter = None
    try:
        print(f"relay → MQTT at QoS 1: {args.events} events, batch {args.batch}, broker {parse_broker(args.url)}")
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        fill_outbox(args.events)
        print(f"outbox filled in {time.perf_counter() - started:.1f} s")
        prefix = f"bench-{uuid.uuid4().hex[:8]}/traveler/v1"
        Adapter.objects.create(
            name="bench-mqtt",
            kind=Adapter.Kind.MQTT,
            source_system="bench",
            inbound=False,
            outbound=True,
            settings={"url": args.url, "topic_prefix": prefix, "ack_timeout": 30},
        )
        counter = Counter(args.url, f"{prefix}/#")
        rates = []
        for run in range(1, args.runs + 1):
            reset_outbox()
            counter.reset()
            seconds, delivered = relay_once(args.batch)
            arrived = counter.wait(args.events)
            rates.append(delivered / seconds)
            print(
                f"run {run}: {delivered} delivered in {seconds:.2f} s = {delivered / seconds:,.0f} events/s "
                f"(subscriber: {arrived} distinct, {counter.duplicates} duplicates)"
            )
        payloads = [
            json.dumps(p, separators=(",", ":")).encode()
            for p in OutboxMessage.objects.values_list("payload", flat=True)
        ]
        floors = [len(payloads) / floor_once(args.url, prefix, payloads) for _ in range(args.runs)]
        size = statistics.mean(len(p) for p in payloads)
        print(f"median relay: {statistics.median(rates):,.0f} events/s (payload ~{size:.0f} bytes)")
        print(f"median floor (paho alone, no database): {statistics.median(floors):,.0f} messages/s")
    finally:
        if counter is not None:
            counter.close()
        drop_scratch(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
