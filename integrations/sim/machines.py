"""Simulated machines: each publishes its state now and then, as a legacy MES or a shop-floor gateway
would, to legacy/v1/<site>/machines/<machine>/state (QoS 1, retained, so a consumer that connects
later still learns the latest state):

    {"state": "running", "time": "2026-11-30T08:15:02.123456Z", "machine": "MC-01", "program": "O1234"}

    publish_machine_states("mqtt://127.0.0.1:1883", ["WIC"], stop_event, interval=5)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid

from integrations.adapters.mqtt import INBOUND_PREFIX, close, connect, parse_broker, topic_level

MACHINES = ("MC-01", "MC-02", "LATHE-1", "CMM-1")
STATES = (("running", 0.6), ("idle", 0.25), ("setup", 0.1), ("down", 0.05))


def machine_topic(site_code: str, machine: str, prefix: str = INBOUND_PREFIX) -> str:
    return f"{prefix}/{topic_level(site_code)}/machines/{topic_level(machine)}/state"


def publish_machine_states(
    mqtt_url: str,
    site_codes: list[str],
    stop_event,
    interval: float = 5,
    *,
    machines: tuple[str, ...] = MACHINES,
    prefix: str = INBOUND_PREFIX,
    seed: int | None = None,
    max_rounds: int | None = None,
    retain: bool = True,
) -> int:
    """Publish every machine's state each `interval` seconds until `stop_event` is set (or after
    `max_rounds`); returns how many states were published. A machine keeps its state for a while."""
    rng = random.Random(seed)
    current: dict[tuple[str, str], str] = {}
    client = connect(parse_broker(mqtt_url), client_id=f"sim-machines-{uuid.uuid4().hex[:8]}")
    published = rounds = 0
    try:
        while not stop_event.is_set() and (max_rounds is None or rounds < max_rounds):
            infos = []
            for site in site_codes:
                for machine in machines:
                    key = (site, machine)
                    if key not in current or rng.random() < 0.3:
                        current[key] = rng.choices([s for s, _ in STATES], weights=[w for _, w in STATES])[0]
                    report = {
                        "state": current[key],
                        "time": dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z"),
                        "machine": machine,
                    }
                    if current[key] == "running":
                        report["program"] = f"O{rng.randint(1000, 9999)}"
                    body = json.dumps(report).encode()
                    infos.append(client.publish(machine_topic(site, machine, prefix), body, qos=1, retain=retain))
            for info in infos:
                info.wait_for_publish(10)
            published += len(infos)
            rounds += 1
            if max_rounds is None or rounds < max_rounds:
                stop_event.wait(interval)
    finally:
        close(client)
    return published
