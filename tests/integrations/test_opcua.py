"""OPC UA gauges: the simulated asyncua server (integrations/sim/gauges.py) in a thread on 127.0.0.1; a
reading is scaled, converted and recorded as source=device; an unreachable or silent gauge fails
within its timeout, plainly; the tablet's endpoint answers 201 or 503."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from decimal import Decimal

import pytest
from asyncua.crypto.cert_gen import setup_self_signed_certificate
from cryptography.x509.oid import ExtendedKeyUsageOID

from integrations.gauges import GaugeNotConfigured, GaugeUnreachable, gauge_read
from integrations.models import Adapter
from integrations.sim.gauges import GaugeServer
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from mes.masterdata.models import Characteristic
from tests.factories import PartFactory, PartRevisionFactory, release_routing
from tests.integrations.sync_support import free_port
from tests.travelers import conftest as travelers_conftest
from travelers import services
from travelers.errors import NotAuthorized

shop = travelers_conftest.shop

VALUES = {"Bore.Diameter": 12.701, "Bore.DiameterRaw": 12702, "Caliper.Length": 0.5003, "Torque.Cover": 25.4}


@pytest.fixture(scope="module")
def gauges():
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/traveler/gauges"
    with GaugeServer(endpoint, values=VALUES):
        yield endpoint


def gauged_traveler(shop, gauges, *, number="GAUGED-1", devices: dict | None = None):
    """A traveler whose first step reads three gauges: one in mm, one in counts, one set to inches. The
    gauges are part of the released spec (a traveler's copy never changes), so `devices` may replace
    any of them: code -> (endpoint, node, unit, scale)."""
    revision = PartRevisionFactory(part=PartFactory(number=number), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    step = md.routing_step_add(
        routing=routing, sequence=10, operation=shop.ops["machining"], work_center=shop.wc, title="Gauge the bore"
    )
    limits = {
        "unit": "mm",
        "nominal": Decimal("12.700"),
        "lower_limit": Decimal("12.690"),
        "upper_limit": Decimal("12.710"),
    }
    for code in ("BORE_DIA", "BORE_RAW"):
        md.characteristic_add(step=step, code=code, name=code.replace("_", " ").title(), **limits)
    md.characteristic_add(
        step=step, code="LENGTH", name="Length", unit="mm", lower_limit=Decimal("12.6"), upper_limit=Decimal("12.8")
    )
    md.characteristic_add(step=step, code="HAND", name="Entered by hand", **limits)
    settings = {
        "BORE_DIA": (gauges, "ns=2;s=Bore.Diameter", "mm", Decimal(1)),
        "BORE_RAW": (gauges, "ns=2;s=Bore.DiameterRaw", "mm", Decimal("0.001")),
        "LENGTH": (gauges, "ns=2;s=Caliper.Length", "in", Decimal(1)),
    } | (devices or {})
    for code, (endpoint, node, unit, scale) in settings.items():  # still a draft: the gauge is part of the spec
        Characteristic.objects.filter(step=step, code=code).update(
            device_endpoint=endpoint, device_node=node, device_unit=unit, device_scale=scale
        )
    release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-{number}", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier=f"SN-{number}", actor=shop.supervisor)
    return services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)


@pytest.fixture
def gauged(shop, gauges):
    return gauged_traveler(shop, gauges)


@pytest.mark.regulation("21 CFR 11.10(h)")
@pytest.mark.django_db
def test_opcua_gauge_read_records_the_value_as_a_device_reading(shop, gauged):
    m = gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
    assert (m.source, m.device, m.entered_value, m.entered_unit) == ("device", "ns=2;s=Bore.Diameter", "12.701", "mm")
    assert m.value_numeric == Decimal("12.701") and m.judgment == "in_spec"
    event = OutboxMessage.objects.filter(event_type="measurement.recorded").latest("id").payload["data"]["value"]
    assert (event["source"], event["device"], event["value"]) == ("device", "ns=2;s=Bore.Diameter", "12.701")


@pytest.mark.django_db
def test_opcua_gauge_read_scales_counts_and_converts_inches(shop, gauged):
    raw = gauge_read(step=gauged, characteristic_code="BORE_RAW", actor=shop.operator)
    assert (raw.entered_value, raw.entered_unit, raw.value_numeric) == ("12.702", "mm", Decimal("12.702"))
    length = gauge_read(step=gauged, characteristic_code="LENGTH", actor=shop.operator)
    assert (length.entered_value, length.entered_unit) == ("12.708", "mm")  # 0.5003 in, in mm, at 3 places
    assert length.device_raw == "0.5003" and length.value_numeric == Decimal("12.708") and length.judgment == "in_spec"


@pytest.mark.django_db
def test_opcua_gauge_read_refuses_what_no_gauge_measures(shop, gauged):
    with pytest.raises(GaugeNotConfigured, match="not read from a gauge"):
        gauge_read(step=gauged, characteristic_code="HAND", actor=shop.operator)
    with pytest.raises(NotAuthorized):
        gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.inspector)
    assert not gauged.measurements.exists()


@pytest.mark.django_db
def test_opcua_unreachable_gauge_fails_plainly_and_fast(shop, gauges):
    gauged = gauged_traveler(
        shop,
        gauges,
        devices={
            "BORE_DIA": (f"opc.tcp://127.0.0.1:{free_port()}/nothing", "ns=2;s=Bore.Diameter", "mm", Decimal(1)),
            "BORE_RAW": (gauges, "ns=2;s=No.Such.Gauge", "mm", Decimal(1)),
        },
    )
    started = time.monotonic()
    with pytest.raises(GaugeUnreachable, match="is unreachable") as failed:
        gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
    assert time.monotonic() - started < 3.5 and failed.value.status_code == 503
    assert not gauged.measurements.exists()


@pytest.mark.django_db
def test_opcua_silent_gauge_times_out(shop, gauges):
    Adapter.objects.create(name="gauges", kind=Adapter.Kind.OPCUA, source_system="shop", settings={"timeout": 0.5})
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        silent_gauge = (f"opc.tcp://127.0.0.1:{port}/silent", "ns=2;s=Bore.Diameter", "mm", Decimal(1))
        gauged = gauged_traveler(shop, gauges, devices={"BORE_DIA": silent_gauge})
        started = time.monotonic()
        with pytest.raises(GaugeUnreachable, match="did not answer within 0.5 s"):
            gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
    assert time.monotonic() - started < 2


@pytest.mark.django_db
def test_opcua_read_from_gauge_endpoint(client, shop, gauges):
    off = (f"opc.tcp://127.0.0.1:{free_port()}/off", "ns=2;s=Bore.DiameterRaw", "mm", Decimal("0.001"))
    gauged = gauged_traveler(shop, gauges, devices={"BORE_RAW": off})
    client.force_login(shop.operator)  # the tablet's session

    def read(characteristic):
        payload = {"traveler": gauged.traveler.number, "step": 10, "characteristic": characteristic}
        return client.post("/api/integrations/gauges/read", data=json.dumps(payload), content_type="application/json")

    response = read("BORE_DIA")
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["measurement"]["source"] == "device" and answer["measurement"]["device"] == "ns=2;s=Bore.Diameter"
    down = read("BORE_RAW")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "gauge_unreachable" and "switched on" in down.json()["error"]["message"]
    hand = read("HAND")
    assert hand.status_code == 400 and hand.json()["error"]["field"] == "characteristic"
    misnamed = (gauges, "ns=2;x=Bore", "mm", Decimal(1))
    gauged = gauged_traveler(shop, gauges, number="GAUGED-2", devices={"BORE_DIA": misnamed})
    bad_node = read("BORE_DIA")  # a configuration error: 400, not "the gauge is down"
    assert bad_node.status_code == 400 and "is not an OPC UA node id" in bad_node.json()["error"]["message"]


@pytest.mark.django_db
def test_opcua_a_float32_reading_is_recorded_at_the_characteristics_resolution_raw_kept(shop, gauges):
    float32 = (gauges, "ns=2;s=Bore.DiameterFloat", "mm", Decimal(1))
    gauged = gauged_traveler(shop, gauges, devices={"BORE_DIA": float32})
    m = gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
    assert (m.entered_value, m.entered_unit, m.value_numeric) == ("12.701", "mm", Decimal("12.701"))  # not 12.7011995…
    assert m.device_raw == "12.701199531555176" and m.device_endpoint == gauges
    event = OutboxMessage.objects.filter(event_type="measurement.recorded").latest("id").payload["data"]["value"]
    assert event["value"] == "12.701" and event["device"] == "ns=2;s=Bore.DiameterFloat"
    assert event["gauge"] == {
        "endpoint": gauges,
        "node": "ns=2;s=Bore.DiameterFloat",
        "raw_value": "12.701199531555176",
        "raw_unit": "mm",
        "scale": "1",
    }


@pytest.mark.django_db
def test_opcua_a_failed_sensor_is_said_in_plain_words(shop, gauges):
    gauged = gauged_traveler(shop, gauges, devices={"BORE_DIA": (gauges, "ns=2;s=Bore.Sensor", "mm", Decimal(1))})
    with pytest.raises(GaugeUnreachable, match=r"the sensor reports a failure \(BadSensorFailure\)") as failed:
        gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
    assert failed.value.status_code == 503


@pytest.mark.django_db
def test_opcua_an_unknown_or_malformed_node_is_a_configuration_error(shop, gauges):
    unknown = (gauges, "ns=2;s=No.Such.Gauge", "mm", Decimal(1))
    not_opcua = ("http://gauge/", "ns=2;s=Bore.Diameter", "mm", Decimal(1))
    gauged = gauged_traveler(shop, gauges, devices={"BORE_RAW": unknown, "BORE_DIA": not_opcua})
    with pytest.raises(GaugeNotConfigured, match=r"no readable node ns=2;s=No.Such.Gauge \(BadNodeIdUnknown\)") as bad:
        gauge_read(step=gauged, characteristic_code="BORE_RAW", actor=shop.operator)
    assert bad.value.status_code == 400
    with pytest.raises(GaugeNotConfigured, match="is not an OPC UA endpoint"):
        gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
    assert not gauged.measurements.exists()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """A self-signed certificate and key for the gauge server and for Traveler's client (DER + PEM)."""
    folder = tmp_path_factory.mktemp("pki")

    async def make():
        for who, use in (("server", ExtendedKeyUsageOID.SERVER_AUTH), ("client", ExtendedKeyUsageOID.CLIENT_AUTH)):
            await setup_self_signed_certificate(
                folder / f"{who}-key.pem",
                folder / f"{who}-cert.der",
                f"urn:traveler:test:{who}",
                "127.0.0.1",
                [use],
                {"commonName": f"traveler test {who}"},
            )

    asyncio.run(make())
    return folder


@pytest.mark.django_db
def test_opcua_basic256sha256_sign_and_encrypt_with_certificates(shop, certificates):
    endpoint = f"opc.tcp://127.0.0.1:{free_port()}/secure/gauges"
    security = (str(certificates / "server-cert.der"), str(certificates / "server-key.pem"))
    gauged = gauged_traveler(
        shop,
        endpoint,
        devices={
            "BORE_DIA": (endpoint, "ns=2;s=Bore.Diameter", "mm", Decimal(1)),
            "BORE_RAW": (endpoint, "ns=2;s=Bore.DiameterRaw", "mm", Decimal("0.001")),
        },
    )
    with GaugeServer(endpoint, values=VALUES, security=security):
        adapter = Adapter.objects.create(name="gauges", kind=Adapter.Kind.OPCUA, source_system="shop", settings={})
        with pytest.raises(GaugeNotConfigured, match="offers no endpoint with no security"):
            gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)  # it takes no plain text
        adapter.settings = {
            "security_policy": "Basic256Sha256",
            "security_mode": "SignAndEncrypt",
            "certificate": str(certificates / "client-cert.der"),
            "private_key": str(certificates / "client-key.pem"),
        }
        adapter.save()
        m = gauge_read(step=gauged, characteristic_code="BORE_DIA", actor=shop.operator)
        assert (m.entered_value, m.device_endpoint) == ("12.701", endpoint)
    adapter.settings = {"security_policy": "Basic256Sha256"}
    adapter.save()
    with pytest.raises(GaugeNotConfigured, match="names no certificate and no private_key"):
        gauge_read(step=gauged, characteristic_code="BORE_RAW", actor=shop.operator)
