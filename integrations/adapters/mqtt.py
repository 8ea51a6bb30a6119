"""MQTT (paho-mqtt 2, protocol 5): Traveler's events out, the legacy MES's work orders and machine
states in. Topics are in docs/integrations.md.

Out: each outbox message is published at QoS 1 to a topic of the ISA-95 hierarchy plants use for their
"unified namespace" (settings "topic_template", default below; a level that does not apply is "-"):

    <enterprise>/<site>/<area>/<work center>/traveler/<event type>
    e.g. meridian/WIC/machining/LATHE-01/traveler/step.started

as its CloudEvents 1.0 JSON (content type application/cloudevents+json), `type`, `source` and
`dataschema` resolved as it leaves (mes.events.services.cloudevent). One relay
run is one connection: connect, publish the batch, wait for every PUBACK, disconnect. A message is
delivered when its PUBACK came back with a success code; anything else is an error the relay retries.

In (`manage.py mqtt_consume`): a persistent session (fixed client id, clean start off), so messages
published while the consumer is down wait at the broker; each is acknowledged only after it is stored.

    legacy/v1/<site>/workorders                 JSON work order(s) -> the inbox ("json.work_order")
    legacy/v1/<site>/machines/<machine>/state   {"state": "running", "time": "...Z"} -> MachineState

The broker is the adapter's settings["url"], else MQTT_URL (mqtt://host:1883, mqtts://host:8883);
without either MQTT is off. A password comes from the adapter's secret (or the URL's user info)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import ssl
import threading
import time
import uuid
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from integrations.formats import json_orders
from integrations.errors import DeliveryFailed
from integrations.models import Adapter, InboxMessage, MachineState
from mes.events.services import cloudevent

from .base import AdapterImpl

log = logging.getLogger(__name__)

TOPIC_PREFIX = "traveler/v1"  # the layout before the ISA-95 hierarchy: see topic_template
TOPIC_TEMPLATE = "{enterprise}/{site}/{area}/{work_center}/traveler/{event_type}"  # the unified namespace
INBOUND_PREFIX = "legacy/v1"
CONTENT_TYPE = "application/cloudevents+json"
OFF = "MQTT off: set MQTT_URL"


# --- Broker address -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:  # never shows a password
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


SCHEMES = {"mqtt": (False, 1883), "tcp": (False, 1883), "mqtts": (True, 8883), "ssl": (True, 8883)}


def broker_url(adapter: Adapter | None = None) -> str:
    """The adapter's own broker URL, else MQTT_URL; empty when MQTT is off."""
    own = (adapter.settings or {}).get("url", "") if adapter is not None else ""
    return (own or getattr(settings, "MQTT_URL", "") or "").strip()


def parse_broker(url: str) -> Broker:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        scheme = f"'{parts.scheme}://'" if parts.scheme else "no scheme"
        raise DeliveryFailed(f"not an MQTT broker URL ({scheme}): use mqtt://host:port or mqtts://host:port")
    tls, default_port = SCHEMES[parts.scheme]
    return Broker(
        host=parts.hostname,
        port=parts.port or default_port,
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def describe(adapter: Adapter | None = None) -> str:
    """What the status page shows: the broker without its password, or that MQTT is off."""
    url = broker_url(adapter)
    if not url:
        return OFF
    try:
        return str(parse_broker(url))
    except DeliveryFailed as exc:
        return exc.message


# --- Topics ---------------------------------------------------------------------------------------


def topic_level(code: str) -> str:
    """A code as one topic level: "-" when empty; "/", "+" and "#" percent-encoded (they are MQTT syntax)."""
    return quote(code, safe=" .-_~@!$&'()*,;=:") if code else "-"


def work_center_areas() -> dict[tuple[str, str], str]:
    """(site code, work center code) -> its ISA-95 area, for every work center that names one."""
    from mes.masterdata.models import WorkCenter

    return {
        (site, code): area
        for site, code, area in WorkCenter.objects.exclude(area="").values_list("site__code", "code", "area")
    }


def event_topic(message, template: str = TOPIC_TEMPLATE, *, areas: dict | None = None) -> str:
    """The topic of one event: `template` filled with the ISA-95 levels of where it happened —
    {enterprise}, {site}, {area}, {work_center} — and {event_type}. A level that does not apply is "-"."""
    if areas is None:
        areas = work_center_areas() if message.work_center_code else {}
    levels = {
        "enterprise": topic_level(getattr(settings, "ENTERPRISE_CODE", "")),
        "site": topic_level(message.site_code),
        "area": topic_level(areas.get((message.site_code, message.work_center_code), "")),
        "work_center": topic_level(message.work_center_code),
        "event_type": message.event_type,
    }
    return template.format(**levels)


def topic_template(adapter_settings: dict) -> str:
    """The adapter's topic layout: settings "topic_template"; an older "topic_prefix" alone keeps the
    layout it had (<prefix>/<site>/<work center>/<event type>); else the ISA-95 default."""
    if adapter_settings.get("topic_template"):
        return adapter_settings["topic_template"]
    if adapter_settings.get("topic_prefix"):
        return f"{adapter_settings['topic_prefix']}/{{site}}/{{work_center}}/{{event_type}}"
    return TOPIC_TEMPLATE


# --- Connections ----------------------------------------------------------------------------------


def connect(
    broker: Broker,
    *,
    client_id: str,
    password: str | None = None,
    clean_start: bool = True,
    session_expiry: int = 0,
    timeout: float = 5.0,
    max_inflight: int = 20,
    manual_ack: bool = False,
    on_connect=None,
    on_subscribe=None,
    on_message=None,
) -> paho.Client:
    """A connected client with its network loop running; DeliveryFailed if the broker is down or refuses."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5, manual_ack=manual_ack)
    client.connect_timeout = timeout
    client.max_inflight_messages_set(max_inflight)
    if broker.username:
        client.username_pw_set(broker.username, password or broker.password)
    if broker.tls:
        client.tls_set_context(ssl.create_default_context())
    connected = threading.Event()
    outcome: list = []

    def _on_connect(cl, userdata, flags, reason_code, properties):
        outcome.append(reason_code)
        connected.set()
        if on_connect is not None and not reason_code.is_failure:
            on_connect(cl)

    client.on_connect = _on_connect
    client.on_subscribe = on_subscribe  # set before the network loop starts: a message may come at once
    client.on_message = on_message
    properties = None
    if session_expiry:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = session_expiry
    try:
        client.connect(broker.host, broker.port, keepalive=30, clean_start=clean_start, properties=properties)
    except OSError as exc:
        raise DeliveryFailed(f"MQTT broker {broker} unreachable: {exc}") from exc
    client.loop_start()
    if not connected.wait(timeout) or outcome[0].is_failure:
        client.loop_stop()
        client.disconnect()
        reason = outcome[0] if outcome else f"no answer within {timeout:g} s"
        raise DeliveryFailed(f"MQTT broker {broker} refused the connection: {reason}")
    return client


def close(client: paho.Client) -> None:
    try:
        client.disconnect()
    finally:
        client.loop_stop()


# --- The adapter ----------------------------------------------------------------------------------


class Impl(AdapterImpl):
    """settings: url, username, topic_template (ISA-95, above; or the older topic_prefix layout),
    inbound_prefix (legacy/v1), ack_timeout (10 s),
    connect_timeout (5 s), max_inflight (20), client_id (consumer), session_expiry (86400 s)."""

    def broker(self) -> Broker:
        url = broker_url(self.adapter)
        if not url:
            raise DeliveryFailed(OFF)
        broker = parse_broker(url)
        if self.setting("username"):
            broker = Broker(broker.host, broker.port, broker.tls, self.setting("username"), broker.password)
        return broker

    def connect(self, **kwargs) -> paho.Client:
        return connect(
            self.broker(),
            password=self.adapter.secret() or None,
            timeout=float(self.setting("connect_timeout", 5)),
            max_inflight=int(self.setting("max_inflight", 20)),
            **kwargs,
        )

    def publish(self, messages) -> dict[int, str | None]:
        template = topic_template(self.adapter.settings or {})
        areas = work_center_areas()
        ack_timeout = float(self.setting("ack_timeout", 10))
        client = self.connect(client_id=f"traveler-relay-{self.adapter.name}-{uuid.uuid4().hex[:8]}")
        refused: dict[int, str] = {}

        def on_publish(cl, userdata, mid, reason_code, properties):
            if reason_code.is_failure:
                refused[mid] = str(reason_code)

        client.on_publish = on_publish
        try:
            properties = Properties(PacketTypes.PUBLISH)
            properties.ContentType = CONTENT_TYPE
            sent = []
            for message in messages:
                body = json.dumps(cloudevent(message), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
                topic = event_topic(message, template, areas=areas)
                sent.append((message, client.publish(topic, body, qos=1, properties=properties)))
            deadline = time.monotonic() + ack_timeout
            outcome: dict[int, str | None] = {}
            for message, info in sent:
                try:
                    info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                    published = info.is_published()
                except (RuntimeError, ValueError) as exc:
                    outcome[message.pk] = f"not sent: {exc}"
                    continue
                if info.mid in refused:
                    outcome[message.pk] = f"broker refused: {refused[info.mid]}"
                elif published:
                    outcome[message.pk] = None
                else:
                    outcome[message.pk] = f"no PUBACK within {ack_timeout:g} s"
            return outcome
        finally:
            close(client)


# --- Inbound --------------------------------------------------------------------------------------


def _when(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value.replace("Z", "+00:00"))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


def machine_state_record(
    *, adapter: Adapter, site_code: str, machine: str, state: str, detail: dict, reported_at: dt.datetime
) -> MachineState:
    """Keep the latest state of a machine; a report older than the one kept changes nothing."""
    now = timezone.now()
    for _ in range(2):  # a second try when a parallel consumer created the row first
        try:
            with transaction.atomic():
                row = MachineState.objects.select_for_update().filter(site_code=site_code, machine=machine).first()
                if row is None:
                    return MachineState.objects.create(
                        adapter=adapter,
                        site_code=site_code,
                        machine=machine,
                        state=state,
                        detail=detail,
                        reported_at=reported_at,
                        received_at=now,
                    )
                if row.reported_at > reported_at:
                    return row
                row.adapter, row.state, row.detail = adapter, state, detail
                row.reported_at, row.received_at = reported_at, now
                row.save()
                return row
        except IntegrityError:
            continue
    raise DeliveryFailed(f"could not store the state of {site_code}/{machine}")


class Consumer:
    """The inbound side of one MQTT adapter: `handle` stores one message (testable without a broker);
    `start` connects with a persistent session and hands messages to a queue, which the caller's thread
    drains with `handle_next`, acknowledging each message only after it is stored."""

    def __init__(self, adapter: Adapter):
        self.adapter = adapter
        self.impl = Impl(adapter)
        self.prefix = self.impl.setting("inbound_prefix", INBOUND_PREFIX)
        self.client: paho.Client | None = None
        self.inbox: queue.Queue = queue.Queue()

    def topics(self) -> list[str]:
        site = topic_level(self.adapter.site.code) if self.adapter.site_id else "+"
        return [f"{self.prefix}/{site}/workorders", f"{self.prefix}/{site}/machines/+/state"]

    # -- storing one message
    def handle(self, topic: str, payload: bytes) -> str:
        """Store one message; returns what happened, in words (for the log)."""
        levels = topic.removeprefix(self.prefix + "/").split("/")
        text = payload.decode("utf-8", "replace")
        if len(levels) == 2 and levels[1] == "workorders":
            return self._work_orders(topic, text)
        if len(levels) == 4 and levels[1] == "machines" and levels[3] == "state":
            return self._machine_state(unquote(levels[0]), unquote(levels[2]), text)
        return f"ignored {topic}: not a topic Traveler reads"

    def _work_orders(self, topic: str, text: str) -> str:
        from integrations.inbox import inbox_process, inbox_receive

        external_id, version = json_orders.identity(text)
        message, created = inbox_receive(
            adapter=self.adapter,
            source=topic,
            external_id=external_id,
            version=version,
            message_type=json_orders.MESSAGE_TYPE,
            payload=text,
        )
        if not created:
            return f"repeat of inbox message {message.pk}: nothing changed"
        message = inbox_process(message.pk)
        return f"inbox message {message.pk}: {message.status} {message.reason}".strip()

    def _machine_state(self, site_code: str, machine: str, text: str) -> str:
        try:
            document = json.loads(text)
        except ValueError:
            document = {"state": text.strip()}
        if not isinstance(document, dict):
            document = {"state": str(document)}
        state = str(document.get("state") or "").strip()[:40]
        if not state:
            return f"ignored state of {site_code}/{machine}: no state in {text[:80]!r}"
        reported_at = _when(document.get("time") or document.get("since")) or timezone.now()
        row = machine_state_record(
            adapter=self.adapter,
            site_code=site_code[:20],
            machine=machine[:60],
            state=state,
            detail=document,
            reported_at=reported_at,
        )
        return f"{site_code}/{machine}: {row.state}"

    def sweep(self) -> int:
        """Process what was stored but not processed (a consumer stopped between the two)."""
        from integrations.inbox import inbox_process

        pending = InboxMessage.objects.filter(adapter=self.adapter, status=InboxMessage.Status.PENDING)
        ids = list(pending.order_by("received_at").values_list("pk", flat=True))
        for pk in ids:
            inbox_process(pk)
        return len(ids)

    # -- the connection
    def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe; returns once the broker acknowledged the subscriptions."""
        subscribed = threading.Event()
        refused: list[str] = []

        def subscribe(client):
            client.subscribe([(topic, 1) for topic in self.topics()])

        def on_subscribe(client, userdata, mid, reason_codes, properties):
            refused.extend(str(code) for code in reason_codes if code.is_failure)
            subscribed.set()

        def on_message(client, userdata, message):
            self.inbox.put(message)

        self.client = self.impl.connect(
            client_id=self.impl.setting("client_id", f"traveler-{self.adapter.name}")[:64],
            clean_start=False,
            session_expiry=int(self.impl.setting("session_expiry", 86400)),
            manual_ack=True,
            on_connect=subscribe,  # again after every reconnect
            on_subscribe=on_subscribe,
            on_message=on_message,
        )
        if not subscribed.wait(timeout) or refused:
            self.stop()
            raise DeliveryFailed(
                f"MQTT broker refused the subscriptions of {self.adapter.name}: {refused or 'no answer'}"
            )

    def handle_next(self, timeout: float = 0.5) -> str | None:
        try:
            message = self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None
        outcome = self.handle(message.topic, message.payload)  # raises only when storing failed: no ack
        if self.client is not None:
            self.client.ack(message.mid, message.qos)
        return outcome

    def stop(self) -> None:
        if self.client is not None:
            close(self.client)
            self.client = None


def consume(adapters: list[Adapter], stop_event: threading.Event, *, on_outcome=None) -> int:
    """Run consumers for `adapters` until `stop_event` is set; returns the number of messages handled."""
    consumers = [Consumer(adapter) for adapter in adapters]
    handled = 0
    try:
        for consumer in consumers:
            consumer.sweep()
            consumer.start()
        while not stop_event.is_set():
            idle = True
            for consumer in consumers:
                outcome = consumer.handle_next(timeout=0.2 if len(consumers) == 1 else 0.05)
                if outcome is not None:
                    idle = False
                    handled += 1
                    log.info("mqtt: %s", outcome, extra={"adapter": consumer.adapter.name})
                    if on_outcome is not None:
                        on_outcome(outcome)
            if idle and len(consumers) > 1:
                stop_event.wait(0.1)
    finally:
        for consumer in consumers:
            consumer.stop()
    return handled
