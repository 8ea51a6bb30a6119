"""MQTT: events out at QoS 1 on the topic hierarchy (each valid against its JSON Schema), work orders and
machine states in, MQTT off without a broker URL. Tests that need the broker use Mosquitto on
127.0.0.1:1883 (skipped on a laptop without it, required under CI)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections import Counter
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from integrations.adapters.mqtt.client import OFF, close, parse_broker, topic_level
from integrations.adapters.mqtt.consume import Consumer, consume
from integrations.adapters.mqtt.publish import Impl, event_topic, quick_ack, topic_template
from integrations.errors import DeliveryFailed
from integrations.formats.event_schemas import event_types, validate_event
from integrations.models import Adapter, InboxMessage, MachineState, OutboxDelivery
from integrations.relay import relay_drain
from integrations.sim.machines import publish_machine_states
from mes.events.models import OutboxMessage
from mes.events.services import cloudevent
from tests.integrations.sync_support import (
    Subscriber,
    mqtt_adapter,
    publish,
    require_broker,
    tour,
    unique_prefix,
    wait_for,
)
from tests.travelers import conftest as travelers_conftest
from travelers.models import WorkOrder

shop, traveler = travelers_conftest.shop, travelers_conftest.traveler  # the traveler tests' small shop


def order(number="WO-7001", **extra) -> dict:
    return {"number": number, "part_number": "HSG-1", "part_revision": "A", "quantity": 3, **extra}


def inbound_adapter(shop, **fields) -> Adapter:
    return Adapter.objects.create(
        name=fields.pop("name", "legacy-mqtt"),
        kind=Adapter.Kind.MQTT,
        site=shop.site,
        source_system="legacy-wic",
        inbound=True,
        outbound=False,
        settings=fields.pop("settings", {}),
        **fields,
    )


# --- Topics and broker address -------------------------------------------------------------------------


def test_mqtt_topics_follow_site_work_center_and_event_type(settings):
    settings.ENTERPRISE_CODE = "meridian"
    message = SimpleNamespace(site_code="WIC", work_center_code="CELL-1", event_type="step.started")
    assert event_topic(message, areas={("WIC", "CELL-1"): "machining"}) == (
        "meridian/WIC/machining/CELL-1/traveler/step.started"
    )
    message = SimpleNamespace(site_code="WIC", work_center_code="", event_type="traveler.closed")
    layout = topic_template({"topic_prefix": "plant/traveler/v1"})  # an adapter set up before the hierarchy
    assert event_topic(message, layout, areas={}) == "plant/traveler/v1/WIC/-/traveler.closed"
    assert topic_level("A/B+#") == "A%2FB%2B%23"  # MQTT syntax in a code cannot split or widen a topic


def test_mqtt_broker_url_comes_from_the_adapter_or_mqtt_url(settings, db):
    settings.MQTT_URL = "mqtt://broker.example:1884"
    adapter = Adapter(name="bus", kind="mqtt", settings={})
    assert str(Impl(adapter).broker()) == "mqtt://broker.example:1884"
    adapter.settings = {"url": "mqtts://bridge:pw@10.0.0.5", "username": "traveler"}
    broker = Impl(adapter).broker()
    assert (broker.host, broker.port, broker.tls, broker.username) == ("10.0.0.5", 8883, True, "traveler")
    assert "pw" not in str(broker)
    with pytest.raises(DeliveryFailed, match="not an MQTT broker URL"):
        parse_broker("http://broker.example")


@pytest.mark.django_db
def test_mqtt_off_without_url_keeps_events_waiting(settings, shop, traveler):
    settings.MQTT_URL = ""
    adapter = Adapter.objects.create(name="bus", kind="mqtt", source_system="bus", outbound=True, inbound=False)
    result = relay_drain()
    assert result.delivered == 0 and result.failed == OutboxMessage.objects.count() > 0
    adapter.refresh_from_db()
    assert adapter.state == "failing" and OFF in adapter.last_error
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == OutboxMessage.objects.count()


def test_mqtt_consume_command_says_when_mqtt_is_off(settings, db, shop):
    settings.MQTT_URL = ""
    with pytest.raises(CommandError, match="no enabled inbound MQTT adapter"):
        call_command("mqtt_consume", seconds=0.1)
    inbound_adapter(shop)
    with pytest.raises(CommandError, match="MQTT off: set MQTT_URL"):
        call_command("mqtt_consume", seconds=0.1)


# --- Out: every event, once, valid against its schema ----------------------------------------------------


@pytest.mark.django_db
def test_mqtt_publishes_one_message_per_event_each_valid_against_its_schema(shop, traveler):
    url = require_broker()
    tour(shop, traveler)
    prefix = unique_prefix()
    adapter = mqtt_adapter(url=url, prefix=prefix)
    outbox = {str(m.message_id): m for m in OutboxMessage.objects.all()}
    with Subscriber(f"{prefix}/#") as subscriber:
        result = relay_drain(batch=50)
        events = subscriber.wait_count(len(outbox))
    assert result.delivered == len(outbox) and result.failed == 0
    ids = Counter(event["id"] for event in events)
    assert set(ids) == set(outbox) and max(ids.values()) == 1  # each event once
    assert {event["type"] for event in events} == set(event_types())  # all 22
    for topic, payload in subscriber.messages:
        event = json.loads(payload)
        message = outbox[event["id"]]
        assert event == cloudevent(message)
        assert topic == event_topic(message, topic_template(adapter.settings))
        assert validate_event(event) == [], (message.event_type, validate_event(event))
    step_event = next(e for e in events if e["type"] == "step.started")
    assert step_event["dataschema"].endswith("/api/schemas/step.started/v1.json")
    assert OutboxDelivery.objects.filter(adapter=adapter, delivered_at__isnull=False).count() == len(outbox)
    adapter.refresh_from_db()
    assert adapter.state == "ok" and adapter.last_success_at is not None


@pytest.mark.django_db
def test_mqtt_schemas_reject_an_event_that_does_not_match(shop, traveler):
    event = OutboxMessage.objects.get(event_type="traveler.released").payload
    assert validate_event(event) == []
    wrong = {**event, "data": {**event["data"], "quantity": 1, "colour": "red"}}
    problems = validate_event(wrong)
    assert any("quantity" in p for p in problems) and any("colour" in p for p in problems)
    assert validate_event({**event, "type": "traveler.teleported"}) == ["no schema traveler.teleported v1"]


# --- In: work orders and machine states --------------------------------------------------------------------


@pytest.mark.django_db
def test_mqtt_work_order_message_is_imported_once(shop):
    consumer = Consumer(inbound_adapter(shop))
    topic = "legacy/v1/WIC/workorders"
    body = json.dumps({"external_id": "REL-1", "version": "1", "work_orders": [order(operations=["MC-10"])]})
    outcome = consumer.handle(topic, body.encode())
    assert "processed" in outcome
    work_order = WorkOrder.objects.get(number="WO-7001")
    assert (work_order.quantity, work_order.source_system, work_order.site) == (3, "legacy-wic", shop.site)
    message = InboxMessage.objects.get()
    assert (message.source, message.external_id, message.version, message.payload) == (topic, "REL-1", "1", body)
    assert "repeat" in consumer.handle(topic, body.encode())
    assert InboxMessage.objects.count() == 1 and WorkOrder.objects.filter(number="WO-7001").count() == 1


@pytest.mark.django_db
def test_mqtt_bad_work_order_messages_become_dead_letters_with_a_reason(shop):
    consumer = Consumer(inbound_adapter(shop))
    consumer.handle("legacy/v1/WIC/workorders", b"{not json")
    consumer.handle("legacy/v1/WIC/workorders", json.dumps(order("WO-7002", part_number="NOPE")).encode())
    consumer.handle("legacy/v1/WIC/workorders", json.dumps(order("WO-7003", operations=["ZZ-99"])).encode())
    reasons = list(InboxMessage.objects.order_by("pk").values_list("status", "reason"))
    assert [status for status, _ in reasons] == ["dead", "dead", "dead"]
    assert "not JSON" in reasons[0][1]
    assert "part 'NOPE' from legacy-wic (site WIC) is not a known part" in reasons[1][1]
    assert "ZZ-99" in reasons[2][1]
    assert not WorkOrder.objects.filter(number__in=["WO-7002", "WO-7003"]).exists()


@pytest.mark.django_db
def test_mqtt_machine_state_keeps_the_latest_report(shop):
    consumer = Consumer(inbound_adapter(shop))
    topic = "legacy/v1/WIC/machines/MC-01/state"
    consumer.handle(topic, json.dumps({"state": "running", "time": "2026-11-30T08:00:00Z"}).encode())
    consumer.handle(topic, json.dumps({"state": "down", "time": "2026-11-30T08:05:00Z", "reason": "E-stop"}).encode())
    consumer.handle(topic, json.dumps({"state": "idle", "time": "2026-11-30T07:00:00Z"}).encode())  # late, older
    consumer.handle("legacy/v1/WIC/machines/LATHE%2F2/state", b"setup")  # plain text, encoded level
    states = {s.machine: s for s in MachineState.objects.all()}
    assert states["MC-01"].state == "down" and states["MC-01"].detail["reason"] == "E-stop"
    assert states["MC-01"].reported_at == dt.datetime(2026, 11, 30, 8, 5, tzinfo=dt.UTC)
    assert states["LATHE/2"].state == "setup"
    assert "ignored" in consumer.handle("legacy/v1/WIC/other", b"{}")


@pytest.mark.django_db(transaction=True)
def test_mqtt_consumer_receives_what_was_published_while_it_was_down(shop):
    url = require_broker()
    prefix = unique_prefix().replace("traveler/v1", "legacy/v1")
    client_id = f"traveler-{prefix[:17]}"
    adapter = inbound_adapter(shop, settings={"url": url, "inbound_prefix": prefix, "client_id": client_id})
    # first run: the persistent session is made (subscriptions kept at the broker)
    stop = threading.Event()
    stop.set()
    consume([adapter], stop)
    # while down: a release and machine states (the simulator) are published
    publish(url, f"{prefix}/WIC/workorders", {"external_id": "REL-9", "version": "2", **order("WO-7100")})
    published = publish_machine_states(url, ["WIC"], threading.Event(), prefix=prefix, max_rounds=1, retain=False)
    # second run: everything arrives, is stored and acknowledged
    stop = threading.Event()
    outcomes: list[str] = []

    def run():
        try:
            consume([adapter], stop, on_outcome=outcomes.append)
        finally:
            connection.close()  # this thread's own database connection

    worker = threading.Thread(target=run)
    worker.start()
    try:
        assert wait_for(lambda: len(outcomes) >= 1 + published, timeout=20), outcomes
    finally:
        stop.set()
        worker.join(10)
    assert WorkOrder.objects.filter(number="WO-7100", source_system="legacy-wic").count() == 1
    assert InboxMessage.objects.get().status == "processed"
    assert MachineState.objects.filter(site_code="WIC").count() == published == 4
    # a third run gets nothing again: each message was acknowledged once stored
    stop = threading.Event()
    again: list[str] = []
    timer = threading.Timer(1.5, stop.set)
    timer.start()
    consume([adapter], stop, on_outcome=again.append)
    assert again == []
    close(Consumer(adapter).impl.connect(client_id=client_id, clean_start=True))  # ends the broker's session


class _Client:
    """What quick_ack asks of a paho client: its socket (None before it connects and after it closes)."""

    def __init__(self, sock):
        self.sock = sock

    def socket(self):
        return self.sock


def test_quick_ack_sets_the_option_on_a_tcp_socket_and_is_harmless_where_it_cannot(monkeypatch):
    with socket.create_server(("127.0.0.1", 0)) as server:
        sock = socket.create_connection(server.getsockname())
        try:
            quick_ack(_Client(sock))
            if hasattr(socket, "TCP_QUICKACK"):  # Linux: acknowledging at once now
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) == 1
        finally:
            sock.close()
        quick_ack(_Client(sock))  # closed meanwhile: nothing raised, the batch goes on
    quick_ack(_Client(None))  # not connected
    monkeypatch.delattr(socket, "TCP_QUICKACK", raising=False)  # a platform without it (macOS)
    with socket.socket() as unconnected:
        quick_ack(_Client(unconnected))
