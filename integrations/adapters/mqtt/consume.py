"""Consuming (`manage.py mqtt_consume`): the legacy MES's work orders and machine states in. A persistent
session (fixed client id, clean start off), so messages published while the consumer is down wait at
the broker; each is acknowledged only after it is stored.

    legacy/v1/<site>/workorders                 JSON work order(s) -> the inbox ("json.work_order")
    legacy/v1/<site>/machines/<machine>/state   {"state": "running", "time": "...Z"} -> MachineState

settings: inbound_prefix (legacy/v1), client_id (traveler-<adapter>), session_expiry (86400 s)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
from urllib.parse import unquote

import paho.mqtt.client as paho
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from integrations.errors import DeliveryFailed
from integrations.formats import json_orders
from integrations.inbox import inbox_process, inbox_receive
from integrations.models import Adapter, InboxMessage
from integrations.services import machine_state_record

from .client import MqttAdapter, close, topic_level

log = logging.getLogger(__name__)

INBOUND_PREFIX = "legacy/v1"


def _when(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    parsed = parse_datetime(value.replace("Z", "+00:00"))
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return parsed


class Consumer:
    """The inbound side of one MQTT adapter: `handle` stores one message (testable without a broker);
    `start` connects with a persistent session and hands messages to a queue, which the caller's thread
    drains with `handle_next`, acknowledging each message only after it is stored."""

    def __init__(self, adapter: Adapter):
        self.adapter = adapter
        self.impl = MqttAdapter(adapter)
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
