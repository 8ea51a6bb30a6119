"""Helpers of the sync tests (MQTT, webhooks, REST, OPC UA, relay, faults): the live services of this
machine, a subscriber that counts what arrives, a tiny HTTP receiver, and a tour of the traveler
services that emits every event type."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from integrations.adapters.mqtt.client import close, connect, parse_broker
from integrations.models import Adapter
from mes.masterdata.services import routing_create_draft, routing_new_revision, routing_step_add
from tests.conftest import require_service
from tests.factories import release_routing
from tests.travelers.conftest import PASSWORD, do_step, step_of
from travelers import services
from travelers.models import Item

MQTT_URL = "mqtt://127.0.0.1:1883"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


def reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_broker() -> str:
    if not reachable("127.0.0.1", 1883):
        require_service("no MQTT broker (Mosquitto) on 127.0.0.1:1883")
    return MQTT_URL


def require_redis() -> str:
    if not reachable(REDIS_HOST, REDIS_PORT):
        require_service(f"no Redis on {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}"


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique_prefix() -> str:
    """A topic root of one test, so parallel runs on the shared broker never see each other's messages."""
    return f"test-{uuid.uuid4().hex[:12]}/traveler/v1"


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


class Subscriber:
    """Subscribes to a topic filter on the live broker and keeps every message (topic, payload)."""

    def __init__(self, topic_filter: str, url: str = MQTT_URL):
        self.topic_filter = topic_filter
        self.url = url
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = None

    def __enter__(self) -> Subscriber:
        def on_subscribe(client, userdata, mid, reason_codes, properties):
            self._subscribed.set()

        def on_message(client, userdata, message):
            with self._lock:
                self.messages.append((message.topic, message.payload))

        self.client = connect(parse_broker(self.url), client_id=f"test-sub-{uuid.uuid4().hex[:8]}")
        self.client.on_subscribe = on_subscribe
        self.client.on_message = on_message
        self.client.subscribe(self.topic_filter, qos=1)
        assert self._subscribed.wait(5), "the test subscriber was not subscribed"
        return self

    def __exit__(self, *exc) -> None:
        close(self.client)

    def events(self) -> list[dict]:
        with self._lock:
            return [json.loads(payload) for _, payload in self.messages]

    def wait_count(self, count: int, timeout: float = 20.0) -> list[dict]:
        wait_for(lambda: len(self.messages) >= count, timeout)
        time.sleep(0.2)  # a duplicate would arrive right behind
        return self.events()


def publish(url: str, topic: str, payload, *, qos: int = 1, retain: bool = False) -> None:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    client = connect(parse_broker(url), client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    try:
        client.publish(topic, body, qos=qos, retain=retain).wait_for_publish(5)
    finally:
        close(client)


# --- A tiny HTTP receiver -------------------------------------------------------------------------


class Receiver:
    """A real HTTP server on 127.0.0.1 in a thread; keeps each request (headers, body) and answers
    with `status` (a callable may decide per request)."""

    def __init__(self, status=200, delay: float = 0.0, drop_kept_alive: bool = False):
        self.requests: list[dict] = []
        self.status = status
        self.delay = delay
        self.drop_kept_alive = drop_kept_alive  # close each connection after its answer, without saying so
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits for a delayed ACK (40 ms)

            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body, "client": self.client_address}
                    )
                    status = receiver.status(body) if callable(receiver.status) else receiver.status
                if receiver.delay:
                    time.sleep(receiver.delay)
                answer = b'{"ok": true}' if status < 300 else b'{"error": "refused"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                self.close_connection = receiver.drop_kept_alive

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/traveler"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Adapters -------------------------------------------------------------------------------------


def mqtt_adapter(*, url: str = MQTT_URL, prefix: str | None = None, name: str = "mqtt-out", **fields) -> Adapter:
    settings = {"url": url, "topic_prefix": prefix or unique_prefix(), "ack_timeout": 5}
    settings.update(fields.pop("settings", {}))
    return Adapter.objects.create(
        name=name,
        kind=Adapter.Kind.MQTT,
        source_system=fields.pop("source_system", "mqtt-bus"),
        inbound=fields.pop("inbound", False),
        outbound=fields.pop("outbound", True),
        settings=settings,
        **fields,
    )


# --- Every event type, through the services -------------------------------------------------------


def closed_pin(shop, serial: str):
    """A closed hinge-pin traveler (the component the assembly step consumes)."""
    if not shop.pin_rev.routings.exists():
        routing = routing_create_draft(part_revision=shop.pin_rev)
        routing_step_add(routing=routing, sequence=10, operation=shop.ops["machining"], title="Turn pin")
        release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-{serial}", part_revision=shop.pin_rev, quantity=1, site=shop.site)
    pin = services.traveler_release(work_order=order, identifier=serial, actor=shop.supervisor)
    do_step(shop, pin, 10, {})
    services.traveler_signoff(
        traveler=pin, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    return Item.objects.get(pk=pin.item_id)


def tour(shop, traveler) -> None:
    """Drive travelers through every service that emits an event (each of the 22 types at least once)."""
    closed_pin(shop, "PIN-0001")
    closed_pin(shop, "PIN-0002")
    # step 10: values, a correction out of spec (NCR + hold), a manual hold on top, releases
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.690", unit="mm", actor=shop.operator)
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    original = step.measurements.get(characteristic__code="BORE_DIA")
    services.measurement_correct(
        measurement=original,
        value="12.730",
        reason="re-measured",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    manual = services.hold_place(traveler=traveler, reason="gauge calibration check", actor=shop.supervisor)
    services.hold_release(
        hold=manual,
        actor=shop.supervisor,
        secret=PASSWORD,
        username=shop.supervisor.get_username(),
        reason="gauge checked",
    )
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="within MRB",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    services.step_perform(
        step=step_of(traveler, 10), actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username()
    )
    # step 20: a component in, out and in again; performed, then bought off
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25.0", unit="N*m", actor=shop.operator)
    consumed = services.component_consume(step=step, identifier="PIN-0001", actor=shop.operator)
    services.component_remove(
        consumption=consumed,
        reason="scored",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
    )
    services.component_consume(step=step, identifier="PIN-0002", actor=shop.operator)
    step = services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    services.step_inspect(step=step, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username())
    # step 30 skipped, step 40 done: awaiting sign-off; rejected, dispositioned, approved: closed
    services.step_skip(
        step=step_of(traveler, 30),
        actor=shop.supervisor,
        secret=PASSWORD,
        username=shop.supervisor.get_username(),
        reason="marked upstream",
    )
    do_step(shop, traveler, 40, {})
    traveler.refresh_from_db()
    services.traveler_signoff(
        traveler=traveler,
        approve=False,
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        reason="burr",
    )
    reject_ncr = traveler.ncrs.get(status="open")
    services.ncr_disposition(
        ncr=reject_ncr,
        disposition="use_as_is",
        notes="deburred",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    traveler.refresh_from_db()
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    # a second unit scrapped, a third re-planned onto a new routing revision
    scrap = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    ncr = services.ncr_raise(traveler=scrap, description="dropped on the floor", actor=shop.inspector)
    services.ncr_disposition(
        ncr=ncr,
        disposition="scrap",
        notes="cracked",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
    )
    replan = services.traveler_release(work_order=shop.order, identifier="SN-0003", actor=shop.supervisor)
    new_routing = release_routing(routing=routing_new_revision(routing=shop.routing))
    services.traveler_replan(
        traveler=replan,
        routing=new_routing,
        actor=shop.supervisor,
        secret=PASSWORD,
        username=shop.supervisor.get_username(),
        reason="new fixture",
    )
    # a second work order changed before work began (a surplus traveler cancelled), then cancelled whole
    extra = services.work_order_create(
        number="WO-2", part_revision=shop.part_revision, quantity=2, site=shop.site, source_system="legacy-wic"
    )
    services.traveler_release(work_order=extra, identifier="SN-0101", actor=shop.supervisor)
    services.traveler_release(work_order=extra, identifier="SN-0102", actor=shop.supervisor)
    services.work_order_change(work_order=extra, quantity=1, reason="legacy MES: one is enough")
    services.work_order_cancel(work_order=extra, reason="legacy MES: not needed")
