"""Publishing (the relay's MQTT sink): each outbox message is published at QoS 1 to a topic of the
ISA-95 hierarchy plants use for their "unified namespace" (settings "topic_template", default below; a
level that does not apply is "-"):

    <enterprise>/<site>/<area>/<work center>/traveler/<event type>
    e.g. meridian/WIC/machining/LATHE-01/traveler/step.started

as its CloudEvents 1.0 JSON (content type application/cloudevents+json), `type`, `source` and
`dataschema` resolved as it leaves (mes.events.services.cloudevent). One relay
run is one connection: connect, publish the batch, wait for every PUBACK, disconnect. A message is
delivered when its PUBACK came back with a success code; anything else is an error the relay retries."""

from __future__ import annotations

import socket
import time
import uuid

from django.conf import settings
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from mes.events.services import cloudevent_json
from mes.masterdata.models import WorkCenter

from .client import MqttAdapter, close, topic_level

TOPIC_PREFIX = "traveler/v1"  # the layout before the ISA-95 hierarchy: see topic_template
TOPIC_TEMPLATE = "{enterprise}/{site}/{area}/{work_center}/traveler/{event_type}"  # the unified namespace
CONTENT_TYPE = "application/cloudevents+json"


# --- Topics ---------------------------------------------------------------------------------------


def work_center_areas() -> dict[tuple[str, str], str]:
    """(site code, work center code) -> its ISA-95 area, for every work center that names one."""
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


# --- The adapter ----------------------------------------------------------------------------------


def quick_ack(client) -> None:
    """Have the kernel acknowledge what the broker sends at once, not up to 40 ms later (Linux's
    TCP_QUICKACK, which the kernel drops again by itself: set anew after each PUBACK read). A broker
    that does not set TCP_NODELAY — Mosquitto by default — holds each small PUBACK back until the one
    before it is acknowledged, and with delayed acknowledgements every batch stalled ~40 ms a window of
    in-flight messages: a batch of 200 took 63 ms against Mosquitto on loopback, 21 ms with this. Where
    the platform has no such option (macOS), or the client has no socket, nothing happens."""
    option = getattr(socket, "TCP_QUICKACK", None)
    sock = client.socket()
    if option is None or sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, option, 1)
    except (OSError, AttributeError):  # closed meanwhile, or not a TCP socket (a websocket wrapper)
        pass


class Impl(MqttAdapter):
    """An MQTT adapter (the relay publishes through it). settings: those of MqttAdapter, topic_template
    (ISA-95, above; or the older topic_prefix layout), ack_timeout (10 s)."""

    def publish(self, messages) -> dict[int, str | None]:
        template = topic_template(self.adapter.settings or {})
        areas = work_center_areas()
        ack_timeout = float(self.setting("ack_timeout", 10))
        client = self.connect(client_id=f"traveler-relay-{self.adapter.name}-{uuid.uuid4().hex[:8]}")
        refused: dict[int, str] = {}
        quick_ack(client)

        def on_publish(cl, userdata, mid, reason_code, properties):
            quick_ack(cl)  # a PUBACK was just read: acknowledge the next one at once
            if reason_code.is_failure:
                refused[mid] = str(reason_code)

        client.on_publish = on_publish
        try:
            properties = Properties(PacketTypes.PUBLISH)
            properties.ContentType = CONTENT_TYPE
            sent = []
            for message in messages:
                body = cloudevent_json(message)
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
