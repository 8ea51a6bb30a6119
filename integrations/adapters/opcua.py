"""OPC UA (asyncua client): reading one value from a gauge. A characteristic names its gauge by
device_endpoint (opc.tcp://host:port/path) and device_node (e.g. ns=2;s=Bore.Diameter); the tablet's
"read from gauge" button reads it through integrations.gauges.gauge_read.

An Adapter row of kind opcua is optional: its settings may give a default `endpoint` for
characteristics that name only a node, and a `timeout` (seconds, default 3)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from integrations.errors import IntegrationError

from .base import AdapterImpl

DEFAULT_TIMEOUT = 3.0


class GaugeReadFailed(IntegrationError):
    """The gauge could not be read: unreachable, no such node, a bad status, or not a number."""


@dataclass
class Reading:
    value: Decimal
    node: str
    endpoint: str
    source_time: object = None


async def _read(endpoint: str, node_id: str, timeout: float) -> Reading:
    from asyncua import Client, ua

    logging.getLogger("asyncua").setLevel(logging.ERROR)
    client = Client(endpoint, timeout=timeout)
    await client.connect()
    try:
        try:
            node = client.get_node(node_id)
        except Exception as exc:  # noqa: BLE001 - asyncua raises several kinds for a malformed node id
            raise GaugeReadFailed(f"'{node_id}' is not an OPC UA node id: {exc}", field="device_node") from exc
        try:
            data = await node.read_data_value()
        except ua.UaStatusCodeError as exc:
            raise GaugeReadFailed(
                f"gauge {endpoint} has no readable node {node_id}: {exc}", field="device_node"
            ) from exc
        if data.StatusCode is not None and not data.StatusCode.is_good():
            raise GaugeReadFailed(f"gauge {endpoint} reports {node_id} as {data.StatusCode.name}", field="device_node")
        raw = data.Value.Value if data.Value is not None else None
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise GaugeReadFailed(f"gauge {endpoint} gave {raw!r} for {node_id}, not a number", field="device_node")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise GaugeReadFailed(f"gauge {endpoint} gave {raw!r} for {node_id}", field="device_node") from None
        if not value.is_finite():
            raise GaugeReadFailed(f"gauge {endpoint} gave {raw!r} for {node_id}", field="device_node")
        return Reading(value=value, node=node_id, endpoint=endpoint, source_time=data.SourceTimestamp)
    finally:
        try:
            await asyncio.wait_for(client.disconnect(), timeout)
        except Exception:  # noqa: BLE001, S110 - the value was read; a slow goodbye changes nothing
            pass


def read_value(endpoint: str, node_id: str, *, timeout: float = DEFAULT_TIMEOUT) -> Reading:
    """Read one numeric value; GaugeReadFailed with a plain reason otherwise. Bounded by `timeout` in all."""
    if not endpoint.startswith("opc.tcp://"):
        raise GaugeReadFailed(
            f"'{endpoint}' is not an OPC UA endpoint (opc.tcp://host:port/path)", field="device_endpoint"
        )

    async def bounded():
        return await asyncio.wait_for(_read(endpoint, node_id, timeout), timeout)

    try:
        return asyncio.run(bounded())
    except GaugeReadFailed:
        raise
    except TimeoutError:
        raise GaugeReadFailed(
            f"gauge {endpoint} did not answer within {timeout:g} s: is it switched on and connected?",
            field="device_endpoint",
        ) from None
    except OSError as exc:
        raise GaugeReadFailed(
            f"gauge {endpoint} is unreachable ({exc.strerror or exc}): is it switched on and connected?",
            field="device_endpoint",
        ) from None
    except Exception as exc:  # noqa: BLE001 - a protocol failure is a failed read, said plainly
        raise GaugeReadFailed(f"gauge {endpoint} could not be read: {type(exc).__name__}: {exc}") from None


class Impl(AdapterImpl):
    """Gauges are read on demand (gauge_read): a scheduled poll has nothing to fetch."""

    def poll(self) -> int:
        return 0

    def read(self, node_id: str, endpoint: str = "") -> Reading:
        return read_value(
            endpoint or self.setting("endpoint", ""), node_id, timeout=float(self.setting("timeout", DEFAULT_TIMEOUT))
        )
