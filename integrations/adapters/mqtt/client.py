"""An MQTT adapter's broker and a connection to it (paho-mqtt 2, protocol 5): what publishing
(integrations.adapters.mqtt.publish) and consuming (integrations.adapters.mqtt.consume) share, with
the one rule for writing a code as a topic level.

The broker is the adapter's settings["url"], else MQTT_URL (mqtt://host:1883, mqtts://host:8883);
without either MQTT is off. A password comes from the adapter's secret (or the URL's user info)."""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import paho.mqtt.client as paho
from django.conf import settings
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from integrations.errors import DeliveryFailed
from integrations.models import Adapter

from ..base import AdapterImpl

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


# --- Topic levels ---------------------------------------------------------------------------------


def topic_level(code: str) -> str:
    """A code as one topic level: "-" when empty; "/", "+" and "#" percent-encoded (they are MQTT syntax)."""
    return quote(code, safe=" .-_~@!$&'()*,;=:") if code else "-"


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


# --- The adapter's side of it ---------------------------------------------------------------------


class MqttAdapter(AdapterImpl):
    """An MQTT adapter and its broker. settings: url, username, connect_timeout (5 s), max_inflight (20);
    publishing and consuming read theirs (topic_template, ack_timeout; inbound_prefix, client_id,
    session_expiry)."""

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
