"""Simulated OPC UA gauges (asyncua server), for the tablets' "read from gauge" button on a laptop and
for tests. Nodes, in namespace 2 ("urn:traveler:sim:gauges"):

    ns=2;s=Bore.Diameter       12.700 mm  (a bore gauge)
    ns=2;s=Bore.DiameterRaw    12700      (the same, in counts of 1 um: device_scale 0.001, unit mm)
    ns=2;s=Caliper.Length      0.5000 in  (a caliper set to inches)
    ns=2;s=Torque.Cover        25.0 N*m   (a torque wrench)
    ns=2;s=Temperature.Oven    180.0 degC
    ns=2;s=Bore.DiameterFloat  12.7012 mm as a 32-bit float, as most gauges send it (read: 12.701199531555176)
    ns=2;s=Bore.Sensor         no value: status BadSensorFailure (a broken probe)

Values wander a little around these unless `values` fixes them (tests do). With `security` (a certificate
and private key of the server) the endpoint takes Basic256Sha256 Sign&Encrypt only, as plants run it.

    async def serve_gauges(endpoint, stop_event, *, values=None, jitter=True)
    with GaugeServer("opc.tcp://127.0.0.1:4840/traveler/gauges", values={...}) as server: ...
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading

from asyncua import Server, ua

NAMESPACE = "urn:traveler:sim:gauges"
GAUGES: dict[str, tuple[float, float]] = {  # node name -> (nominal, spread)
    "Bore.Diameter": (12.700, 0.004),
    "Bore.DiameterRaw": (12700, 4),
    "Caliper.Length": (0.5000, 0.0003),
    "Torque.Cover": (25.0, 0.6),
    "Temperature.Oven": (180.0, 1.5),
    "Bore.DiameterFloat": (12.7012, 0.004),
}
FAILED_SENSORS = {"Bore.Sensor": "BadSensorFailure"}  # node -> the status code it reports


def _variant(name: str, value):
    if name.endswith("Raw"):
        return ua.Variant(int(value), ua.VariantType.Int32)
    if name.endswith("Float"):
        return ua.Variant(float(value), ua.VariantType.Float)
    return ua.Variant(float(value))


async def serve_gauges(
    endpoint: str,
    stop_event,
    *,
    values: dict[str, float] | None = None,
    jitter: bool = True,
    interval: float = 0.5,
    started: threading.Event | None = None,
    security: tuple[str, str] | None = None,
) -> None:
    """Serve the gauges at `endpoint` (opc.tcp://host:port/path) until `stop_event` (a threading or
    asyncio Event) is set. `values` fixes some readings; with `jitter`, the others wander."""
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    server = Server()
    await server.init()
    server.set_endpoint(endpoint)
    server.set_server_name("Traveler simulated gauges")
    if security:  # (certificate, private key) files of the server: Sign&Encrypt only
        certificate, private_key = security
        await server.load_certificate(certificate)
        await server.load_private_key(private_key)
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
    else:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    index = await server.register_namespace(NAMESPACE)
    fixed = dict(values or {})
    nodes = {}
    folder = await server.nodes.objects.add_folder(ua.NodeId("Gauges", index), "Gauges")
    for name, (nominal, _spread) in GAUGES.items():
        value = fixed.get(name, nominal)
        nodes[name] = await folder.add_variable(ua.NodeId(name, index), name, _variant(name, value))
    for name, code in FAILED_SENSORS.items():
        node = await folder.add_variable(ua.NodeId(name, index), name, ua.Variant(0.0))
        status = ua.StatusCode(getattr(ua.StatusCodes, code))
        await node.write_value(ua.DataValue(ua.Variant(0.0), StatusCode=status))
    rng = random.Random(4840)
    async with server:
        if started is not None:
            started.set()
        while not stop_event.is_set():
            await asyncio.sleep(interval)
            if not jitter:
                continue
            for name, (nominal, spread) in GAUGES.items():
                if name in fixed:
                    continue
                await nodes[name].write_value(_variant(name, nominal + rng.uniform(-spread, spread)))


class GaugeServer:
    """serve_gauges in a thread of its own (its own event loop), for tests and the demo."""

    def __init__(
        self,
        endpoint: str,
        *,
        values: dict[str, float] | None = None,
        jitter: bool = False,
        security: tuple[str, str] | None = None,
    ):
        self.endpoint = endpoint
        self.values = values
        self.jitter = jitter
        self.security = security
        self._stop = threading.Event()
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sim-gauges", daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(
                serve_gauges(
                    self.endpoint,
                    self._stop,
                    values=self.values,
                    jitter=self.jitter,
                    started=self._started,
                    security=self.security,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - reported to the thread that started it
            self._error = exc
            self._started.set()

    def start(self, timeout: float = 20) -> GaugeServer:
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError(f"the simulated gauges did not start at {self.endpoint} within {timeout} s")
        if self._error is not None:
            raise RuntimeError(f"the simulated gauges could not start: {self._error}") from self._error
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> GaugeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
