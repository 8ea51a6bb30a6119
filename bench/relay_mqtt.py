"""Outbox relay throughput at QoS 1 to three adapters — MQTT (Mosquitto on 127.0.0.1:1883), a signed webhook
and the data-lake archive — or to the ones named by --adapters.

    .venv/bin/python bench/relay_mqtt.py [--events 5000] [--runs 3] [--batch 200] [--adapters mqtt,webhook,archive]
        [--webhook-mode single|batch] [--webhook-lanes 1] [--webhook-latency-ms 0] [--relays 1 | --tasks]
        [--url mqtt://127.0.0.1:1883] [--profile]
    (BENCH_DB names the scratch database; default traveler_bench_relay)

What it does, all on this machine:
1. creates a scratch database on the server Traveler uses (the private one, or the server of DATABASE_URL),
   migrates it, and writes N realistic events into the outbox (the measurement.recorded envelope, ~900
   bytes each) through outbox_emit;
2. starts a webhook receiver in a process of its own (bench/webhook_receiver.py: checks every HMAC
   signature, counts distinct event ids) and an MQTT subscriber in another, counting what arrives;
3. runs the relay (integrations.relay.relay_drain) as the Celery task does — per adapter and batch,
   SELECT … FOR UPDATE SKIP LOCKED, publish, wait for every PUBACK / 2xx / archive write, mark delivered —
   in --relays processes side by side, until the outbox is drained; an event counts when every adapter
   took it. With --tasks, as Celery's workers run it in production instead: this process dispatches (the
   beat's outbox_relay), then each adapter's task (outbox_relay_adapter) runs in a process of its own;
4. repeats it `--runs` times (the outbox reset in between) and prints events/s per run, what each receiver
   counted (distinct, duplicates), the CPU seconds the relay (all its processes) and each receiver used,
   and the median, beside the floor: the same payloads published at QoS 1 by one paho client with no
   database at all.
--webhook-latency-ms makes the receiver answer that much later (one across a plant network), where the
webhook's --webhook-lanes (its settings "lanes": connections side by side, a traveler's events in one) pay.
Prints figures only; no assertion. Bounded: stops by itself; drops the scratch database.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import django
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = os.environ.get("BENCH_DB", "traveler_bench_relay")  # a name of your own if others bench too


def drop_scratch(url: str) -> None:
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


def _count(url: str, topic_filter: str, pipe) -> None:
    """The subscriber's process: counts distinct event ids (and duplicates) until told to stop."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    django.setup()
    from integrations.adapters.mqtt import close, connect, parse_broker

    ids: set[str] = set()
    duplicates = 0
    lock = threading.Lock()
    ready = threading.Event()
    client = connect(parse_broker(url), client_id=f"bench-sub-{uuid.uuid4().hex[:8]}", max_inflight=100)

    def on_message(client, userdata, message):
        nonlocal duplicates
        event_id = json.loads(message.payload)["id"]
        with lock:
            if event_id in ids:
                duplicates += 1
            ids.add(event_id)

    client.on_message = on_message
    client.on_subscribe = lambda *args: ready.set()
    client.subscribe(topic_filter, qos=1)
    pipe.send(ready.wait(5))
    try:
        while (command := pipe.recv()) != "stop":
            if command == "reset":
                with lock:
                    ids.clear()
                    duplicates = 0
                pipe.send(True)
            else:  # ("wait", count, timeout)
                _, count, timeout = command
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and len(ids) < count:
                    time.sleep(0.05)
                with lock:
                    pipe.send((len(ids), duplicates))
    finally:
        close(client)


class Counter:
    """A subscriber counting distinct event ids (and duplicates) under a topic root, in a process of its
    own (as the webhook receiver is): in the relay's process its network loop and its decoding of every
    event took the interpreter from the relay's threads, which no real consumer does."""

    def __init__(self, url: str, topic_filter: str):
        self.pipe, theirs = multiprocessing.Pipe()
        self.process = multiprocessing.get_context("spawn").Process(
            target=_count, args=(url, topic_filter, theirs), daemon=True
        )
        self.process.start()
        if not self.pipe.poll(60) or not self.pipe.recv():
            self.process.kill()
            raise RuntimeError("the bench's MQTT subscriber did not start")
        self.duplicates = 0

    def reset(self) -> None:
        self.pipe.send("reset")
        self.pipe.recv()
        self.duplicates = 0

    def wait(self, count: int, timeout: float = 60) -> int:
        self.pipe.send(("wait", count, timeout))
        distinct, self.duplicates = self.pipe.recv()
        return distinct

    def close(self) -> None:
        self.pipe.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


def _relay_process(database_url: str, batch: int, pipe, adapter_id: int | None = None) -> None:
    """One more relay in a process of its own, draining when told: the whole relay (as a second Celery
    worker would be), or with `adapter_id` that adapter's Celery task, its own code (as a prefork worker
    runs it)."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

    django.setup()
    from django.db import connections

    from integrations.relay import relay_drain
    from integrations.tasks import outbox_relay_adapter

    connections["default"].ensure_connection()
    pipe.send("ready")
    while pipe.recv() == "go":
        if adapter_id is None:
            relay_drain(batch=batch, max_rounds=100000)
        else:
            outbox_relay_adapter(adapter_id, batch, 100000)
        pipe.send("drained")


def start_relays(database_url: str, batch: int, adapter_ids: list[int | None]) -> list:
    """A relay process for each of `adapter_ids` (None: the whole relay), started and ready:
    [(process, pipe)]."""
    context = multiprocessing.get_context("spawn")
    started = []
    for adapter_id in adapter_ids:
        mine, theirs = context.Pipe()
        process = context.Process(target=_relay_process, args=(database_url, batch, theirs, adapter_id), daemon=True)
        process.start()
        started.append((process, mine))
    for _, pipe in started:
        if not pipe.poll(60):
            raise RuntimeError("a relay process did not start")
        pipe.recv()
    return started


def stop_relays(started: list) -> None:
    for process, pipe in started:
        pipe.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()


class Tasks:
    """The production shape: this process dispatches every new message (the beat's outbox_relay), then
    each outbound adapter's task drains it in a process of its own, side by side; settled at the end."""

    def __init__(self, database_url: str, batch: int):
        from integrations.models import Adapter

        self.cpu = 0.0
        adapters = Adapter.objects.filter(enabled=True, outbound=True).values_list("pk", flat=True)
        self.workers = start_relays(database_url, batch, list(adapters))

    def drain(self, profile: bool = False) -> float:
        from integrations import relay

        started, cpu = time.perf_counter(), [cpu_seconds(p) for p, _ in self.workers]
        while relay.relay_dispatch(batch=relay.DISPATCH_BATCH):
            pass
        for _, pipe in self.workers:
            pipe.send("go")
        for _, pipe in self.workers:
            pipe.recv()
        relay.relay_settle()
        seconds = time.perf_counter() - started
        self.cpu = sum(cpu_seconds(p) - before for (p, _), before in zip(self.workers, cpu, strict=True))
        return seconds

    def close(self) -> None:
        stop_relays(self.workers)


class Relays:
    """`count` relays side by side: this process and count - 1 others, each draining the same outbox."""

    def __init__(self, count: int, database_url: str, batch: int):
        self.batch = batch
        self.cpu = 0.0  # CPU seconds this process's relay took in the last drain
        self.others = start_relays(database_url, batch, [None] * (count - 1))

    def drain(self, profile: bool = False) -> float:
        from bench.profiling import PerKey, profiled
        from integrations import relay
        from integrations.relay import relay_drain

        relay_adapter = relay.relay_adapter
        threads = PerKey()
        if profile:  # each adapter's batches too, in their threads (cProfile alone sees this thread only)
            relay.relay_adapter = threads.wrap(relay_adapter, lambda adapter, **kw: adapter.name)
        try:
            started, cpu = time.perf_counter(), time.process_time()
            for _, pipe in self.others:
                pipe.send("go")
            with profiled(profile):
                relay_drain(batch=self.batch, max_rounds=100000)
            for _, pipe in self.others:
                pipe.recv()
            seconds = time.perf_counter() - started
            self.cpu = time.process_time() - cpu  # this relay's threads, all of them
        finally:
            relay.relay_adapter = relay_adapter
        if profile:
            threads.report()
        return seconds

    def close(self) -> None:
        stop_relays(self.others)


def cpu_seconds(process) -> float:
    """CPU seconds (user + system) a child process has used so far; 0 where /proc is not there."""
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine so far, every core (/proc/stat); (0, 0) without it."""
    try:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = ticks[3] + ticks[4]  # idle and iowait
    hz = os.sysconf("SC_CLK_TCK")
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


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


WEBHOOK_SECRET_ENV = "TRAVELER_BENCH_WEBHOOK_SECRET"  # noqa: S105 - the name of a variable, not a secret
KINDS = ("mqtt", "webhook", "archive")


def make_adapters(
    kinds: list[str], *, url: str, prefix: str, hook_url: str, webhook_mode: str, webhook_lanes: int = 1
) -> None:
    from integrations.models import Adapter

    common = {"source_system": "bench", "inbound": False, "outbound": True}
    if "mqtt" in kinds:
        settings = {"url": url, "topic_prefix": prefix, "ack_timeout": 30}
        Adapter.objects.create(name="bench-mqtt", kind=Adapter.Kind.MQTT, settings=settings, **common)
    if "webhook" in kinds:
        settings = {"url": hook_url, "timeout": 10, "mode": webhook_mode, "lanes": webhook_lanes}
        Adapter.objects.create(
            name="bench-webhook", kind="webhook", secret_env=WEBHOOK_SECRET_ENV, settings=settings, **common
        )
    if "archive" in kinds:
        Adapter.objects.create(name="bench-archive", kind="archive", settings={}, **common)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=200, help="messages per relay transaction (the task's default)")
    parser.add_argument("--adapters", default=",".join(KINDS), help="outbound adapters, of " + ", ".join(KINDS))
    parser.add_argument("--webhook-mode", default="single", choices=["single", "batch"], help="the webhook's mode")
    parser.add_argument("--webhook-lanes", type=int, default=1, help="the webhook's connections side by side")
    parser.add_argument(
        "--webhook-latency-ms", type=float, default=0, help="the receiver answers this late (a receiver far away)"
    )
    parser.add_argument("--relays", type=int, default=1, help="relays side by side (processes), each draining all")
    parser.add_argument(
        "--tasks", action="store_true", help="as Celery runs it: dispatch here, each adapter's task in a process"
    )
    parser.add_argument("--url", default=os.environ.get("MQTT_URL") or "mqtt://127.0.0.1:1883")
    parser.add_argument("--profile", action="store_true", help="cProfile the last run, each adapter apart")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.adapters.split(",") if k.strip()]
    if args.tasks and (args.profile or args.relays != 1):
        parser.error("--tasks runs one process an adapter: not with --relays or --profile")
    if not kinds or set(kinds) - set(KINDS):
        parser.error(f"--adapters: name one or more of {', '.join(KINDS)}")

    url = scratch.fresh_database(DB_NAME)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ[WEBHOOK_SECRET_ENV] = secret = uuid.uuid4().hex

    django.setup()
    from django.core.management import call_command

    from bench import webhook_receiver
    from integrations.adapters.mqtt import parse_broker
    from integrations.models import OutboxDelivery
    from mes.events.models import OutboxMessage

    counter = receiver = relays = None
    try:
        mode = f" ({args.webhook_mode} mode, {args.webhook_lanes} lane(s))" if "webhook" in kinds else ""
        print(
            f"relay at QoS 1 to {', '.join(kinds)}{mode}: {args.events} events, batch {args.batch}, "
            f"{'one task process an adapter' if args.tasks else f'{args.relays} relay(s)'}, "
            f"broker {parse_broker(args.url)}"
        )
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        fill_outbox(args.events)
        print(f"outbox filled in {time.perf_counter() - started:.1f} s")
        prefix = f"bench-{uuid.uuid4().hex[:8]}/traveler/v1"
        latency = args.webhook_latency_ms / 1000
        receiver, hook_url = webhook_receiver.start(secret, latency) if "webhook" in kinds else (None, "")
        make_adapters(
            kinds,
            url=args.url,
            prefix=prefix,
            hook_url=hook_url,
            webhook_mode=args.webhook_mode,
            webhook_lanes=args.webhook_lanes,
        )
        counter = Counter(args.url, f"{prefix}/#") if "mqtt" in kinds else None
        from django.db import connections

        connections.close_all()  # the other relays' processes start from a clean slate
        relays = Tasks(url, args.batch) if args.tasks else Relays(args.relays, url, args.batch)
        rates = []
        for run in range(1, args.runs + 1):
            reset_outbox()
            if counter is not None:
                counter.reset()
            if receiver is not None:
                webhook_receiver.reset(hook_url)
            others = {"receiver": receiver, "subscriber": counter and counter.process}
            theirs = {name: cpu_seconds(p) for name, p in others.items() if p}
            busy = machine_busy()
            seconds = relays.drain(profile=args.profile and run == args.runs)
            busy = tuple(after - before for after, before in zip(machine_busy(), busy, strict=True))
            theirs = {name: cpu_seconds(others[name]) - cpu for name, cpu in theirs.items()}
            delivered = OutboxMessage.objects.filter(delivered_at__isnull=False).count()
            rates.append(delivered / seconds)
            seen = []
            if counter is not None:
                seen.append(f"MQTT subscriber {counter.wait(args.events)} distinct, {counter.duplicates} duplicates")
            if receiver is not None:
                got = webhook_receiver.counts(hook_url)
                seen.append(
                    f"webhook {got['distinct']} distinct, {got['duplicates']} duplicates in {got['requests']} "
                    f"requests, {got['bad_signatures']} bad signatures"
                )
            if "archive" in kinds:
                taken = OutboxDelivery.objects.filter(adapter__kind="archive", delivered_at__isnull=False).count()
                seen.append(f"archive {taken} taken")
            print(
                f"run {run}: {delivered} delivered to every adapter in {seconds:.2f} s = "
                f"{delivered / seconds:,.0f} events/s ({'; '.join(seen)}); CPU: relay {relays.cpu:.2f} s "
                f"({relays.cpu / seconds:.0%} of a core), "
                + ", ".join(f"{name} {cpu:.2f} s" for name, cpu in theirs.items())
                + (f"; the machine {busy[0] / busy[1]:.0%} busy" if busy[1] else ""),
                flush=True,
            )
        print(f"median relay: {statistics.median(rates):,.0f} events/s to {len(kinds)} adapter(s)")
        if counter is not None:
            payloads = [
                json.dumps(p, separators=(",", ":")).encode()
                for p in OutboxMessage.objects.values_list("payload", flat=True)
            ]
            floors = [len(payloads) / floor_once(args.url, prefix, payloads) for _ in range(args.runs)]
            size = statistics.mean(len(p) for p in payloads)
            print(f"median floor (paho alone, no database): {statistics.median(floors):,.0f} messages/s ({size:.0f} B)")
    finally:
        if relays is not None:
            relays.close()
        if counter is not None:
            counter.close()
        if receiver is not None:
            webhook_receiver.stop(receiver)
        drop_scratch(url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
