"""MQTT (paho-mqtt 2, protocol 5): Traveler's events out, the legacy MES's work orders and machine
states in. Topics are in docs/integrations.md. One module per side:

    client.py    the broker (settings "url" or MQTT_URL), connect/close, MqttAdapter: what both sides share
    publish.py   out: the relay's sink, `Impl` (the adapter of kind "mqtt"), the ISA-95 topics of events
    consume.py   in: the subscriber of `manage.py mqtt_consume`, storing work orders in the inbox and
                 machine states through integrations.services.machine_state_record

The package re-exports what the adapter registry (`Impl`), the simulator and the benches use."""

from .client import OFF, Broker, MqttAdapter, broker_url, close, connect, describe, parse_broker, topic_level
from .consume import INBOUND_PREFIX
from .publish import Impl

__all__ = [
    "INBOUND_PREFIX",
    "OFF",
    "Broker",
    "Impl",
    "MqttAdapter",
    "broker_url",
    "close",
    "connect",
    "describe",
    "parse_broker",
    "topic_level",
]
