"""OPC UA (asyncua client): reading one value from a gauge. A characteristic names its gauge by
device_endpoint (opc.tcp://host:port/path) and device_node (e.g. ns=2;s=Bore.Diameter); the tablet's
"read from gauge" button reads it through integrations.gauges.gauge_read.

An Adapter row of kind opcua is optional: its settings may give a default `endpoint` for
characteristics that name only a node, a `timeout` (seconds, default 3), and the security plants run
gauges with: `security_policy` "Basic256Sha256", `security_mode` "SignAndEncrypt" (or "Sign"),
`certificate` and `private_key` (this client's, files; relative paths are under var/),
`server_certificate` (optional: the gauge's, to pin it). The private key's password, if any, is the
adapter's secret (secret_env).

A reading keeps the raw value as the gauge sent it (a 32-bit float 12.7012 arrives as
12.701199531555176); a bad or uncertain status is said in plain words (BadSensorFailure: "the sensor
reports a failure"). A configuration that cannot work (endpoint, node id, unknown node, security
files or policy) is GaugeConfigError; a gauge that does not answer or gives no usable value is
GaugeReadFailed."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings as django_settings

from integrations.errors import IntegrationError

from .base import AdapterImpl

DEFAULT_TIMEOUT = 3.0


class GaugeReadFailed(IntegrationError):
    """The gauge could not be read: unreachable, silent, a bad or uncertain status, or not a number."""


class GaugeConfigError(GaugeReadFailed):
    """The gauge's configuration cannot work: endpoint, node id, unknown node, security files or policy."""


# OPC UA status codes a gauge reports, in words an operator can act on (Part 4, 7.34; Part 8 for data access).
STATUS_WORDS = {
    "BadSensorFailure": "the sensor reports a failure",
    "BadDeviceFailure": "the gauge reports a device failure",
    "BadNotConnected": "the sensor is not connected to the gauge",
    "BadOutOfService": "the gauge is out of service",
    "BadCommunicationError": "the gauge cannot reach its sensor",
    "BadWaitingForInitialData": "the gauge has no reading yet",
    "BadConfigurationError": "the gauge reports a configuration error",
    "BadNoCommunication": "the gauge has lost contact with its sensor",
    "UncertainSensorNotAccurate": "the sensor says its reading is not accurate (calibration?)",
    "UncertainLastUsableValue": "the gauge gives its last usable value, not a new one",
    "UncertainEngineeringUnitsExceeded": "the reading is outside the gauge's range",
    "UncertainSubNormal": "the gauge's reading is of reduced quality",
    "UncertainInitialValue": "the gauge gives its initial value, not a measurement",
}
UNKNOWN_NODE = {"BadNodeIdUnknown", "BadNodeIdInvalid", "BadAttributeIdInvalid", "BadNotReadable"}


def status_in_words(name: str) -> str:
    words = STATUS_WORDS.get(name)
    if words:
        return f"{words} ({name})"
    kind = "uncertain" if name.startswith("Uncertain") else "bad"
    return f"the gauge reports a {kind} status ({name})"


@dataclass(frozen=True)
class Security:
    certificate: str
    private_key: str
    mode: str = "SignAndEncrypt"
    policy: str = "Basic256Sha256"
    server_certificate: str | None = None
    password: str | None = None


@dataclass
class Reading:
    value: Decimal
    node: str
    endpoint: str
    source_time: object = None
    raw: str = ""  # the value exactly as the gauge sent it (its repr), before any scaling or rounding


async def _secure(client, security: Security) -> None:
    from asyncua import ua  # noqa: PLC0415 — asyncua takes ~1 s to import: only a gauge read pays it
    from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256  # noqa: PLC0415 — as above

    if security.policy != "Basic256Sha256":
        raise GaugeConfigError(
            f"security_policy {security.policy} is not supported: use Basic256Sha256", field="security_policy"
        )
    modes = {"SignAndEncrypt": ua.MessageSecurityMode.SignAndEncrypt, "Sign": ua.MessageSecurityMode.Sign}
    if security.mode not in modes:
        raise GaugeConfigError(
            f"security_mode {security.mode} is neither SignAndEncrypt nor Sign", field="security_mode"
        )
    try:
        await client.set_security(
            SecurityPolicyBasic256Sha256,
            security.certificate,
            security.private_key,
            private_key_password=security.password,
            server_certificate=security.server_certificate,
            mode=modes[security.mode],
        )
    except (OSError, ValueError, TypeError) as exc:
        raise GaugeConfigError(
            f"the gauge client's certificate or key cannot be loaded: {exc}", field="security"
        ) from exc


async def _read(endpoint: str, node_id: str, timeout: float, security: Security | None = None) -> Reading:
    from asyncua import Client, ua  # noqa: PLC0415 — asyncua takes ~1 s to import: only a gauge read pays it

    logging.getLogger("asyncua").setLevel(logging.ERROR)
    client = Client(endpoint, timeout=timeout)
    if security is not None:
        await _secure(client, security)
    try:
        await client.connect()
    except ua.UaError as exc:
        if "No matching endpoints" in str(exc):
            wanted = f"{security.policy} {security.mode}" if security else "no security"
            raise GaugeConfigError(
                f"gauge {endpoint} offers no endpoint with {wanted}: set the adapter's security_policy and "
                "security_mode to what the gauge requires",
                field="security",
            ) from exc
        raise
    try:
        try:
            node = client.get_node(node_id)
        except Exception as exc:  # noqa: BLE001 - asyncua raises several kinds for a malformed node id
            raise GaugeConfigError(f"'{node_id}' is not an OPC UA node id: {exc}", field="device_node") from exc
        try:
            data = await node.read_data_value(raise_on_bad_status=False)
        except ua.UaStatusCodeError as exc:
            name = type(exc).__name__
            if name in UNKNOWN_NODE:
                raise GaugeConfigError(
                    f"gauge {endpoint} has no readable node {node_id} ({name}): check the characteristic's device_node",
                    field="device_node",
                ) from exc
            raise GaugeReadFailed(f"gauge {endpoint}, {node_id}: {status_in_words(name)}", field="device") from exc
        if data.StatusCode is not None and not data.StatusCode.is_good():
            name = data.StatusCode.name
            if name in UNKNOWN_NODE:
                raise GaugeConfigError(
                    f"gauge {endpoint} has no readable node {node_id} ({name}): check the characteristic's device_node",
                    field="device_node",
                )
            raise GaugeReadFailed(f"gauge {endpoint}, {node_id}: {status_in_words(name)}", field="device")
        raw = data.Value.Value if data.Value is not None else None
        if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal):
            raise GaugeReadFailed(f"gauge {endpoint} gave {raw!r} for {node_id}, not a number", field="device_node")
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            raise GaugeReadFailed(f"gauge {endpoint} gave {raw!r} for {node_id}", field="device_node") from None
        if not value.is_finite():
            raise GaugeReadFailed(f"gauge {endpoint} gave {raw!r} for {node_id}", field="device_node")
        return Reading(value=value, node=node_id, endpoint=endpoint, source_time=data.SourceTimestamp, raw=str(raw))
    finally:
        try:
            await asyncio.wait_for(client.disconnect(), timeout)
        except Exception:  # noqa: BLE001, S110 - the value was read; a slow goodbye changes nothing
            pass


def read_value(
    endpoint: str, node_id: str, *, timeout: float = DEFAULT_TIMEOUT, security: Security | None = None
) -> Reading:
    """Read one numeric value; GaugeConfigError or GaugeReadFailed with a plain reason otherwise. Bounded
    by `timeout` in all (a secure handshake included)."""
    if not endpoint.startswith("opc.tcp://"):
        raise GaugeConfigError(
            f"'{endpoint}' is not an OPC UA endpoint (opc.tcp://host:port/path)", field="device_endpoint"
        )

    async def bounded():
        return await asyncio.wait_for(_read(endpoint, node_id, timeout, security), timeout)

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

    def security(self) -> Security | None:
        """The adapter's security settings, or None for a gauge without security."""
        policy = self.setting("security_policy", "") or ""
        if not policy or policy == "None":
            return None
        files = {}
        for key in ("certificate", "private_key", "server_certificate"):
            value = self.setting(key, "") or ""
            if value:
                path = Path(value).expanduser()
                files[key] = str(path if path.is_absolute() else Path(django_settings.VAR_DIR) / path)
        missing = [k for k in ("certificate", "private_key") if k not in files]
        if missing:
            raise GaugeConfigError(
                f"OPC UA adapter {self.adapter.name} uses {policy} but names no {' and no '.join(missing)}",
                field="security",
            )
        return Security(
            certificate=files["certificate"],
            private_key=files["private_key"],
            server_certificate=files.get("server_certificate"),
            mode=self.setting("security_mode", "SignAndEncrypt"),
            policy=policy,
            password=self.adapter.secret() or None,
        )

    def read(self, node_id: str, endpoint: str = "") -> Reading:
        return read_value(
            endpoint or self.setting("endpoint", ""),
            node_id,
            timeout=float(self.setting("timeout", DEFAULT_TIMEOUT)),
            security=self.security(),
        )
