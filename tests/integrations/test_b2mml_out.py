"""Completions out in the version the consumer reads: V0700 OperationsPerformance, or
ProductionPerformance for V0401, V0500 and V0600 consumers, each validated against its own shipped schema,
quantities with their unit of measure."""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from integrations import b2mml
from integrations.adapters import impl_for
from integrations.completions import closed_travelers
from integrations.relay import relay_run
from mes.masterdata import services as md
from tests.factories import release_routing
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import close_traveler
from tests.travelers.conftest import PASSWORD
from travelers import services


def ns_of(version):
    return {"b": b2mml.NAMESPACE_OF[version]}


def closed_lot(shop, quantity=Decimal(200)):
    """A closed traveler of a 200-piece lot of the shop's bushing."""
    revision = shop.bush_part.revisions.get()
    routing = md.routing_create_draft(part_revision=revision)
    md.routing_step_add(
        routing=routing, sequence=10, operation=shop.ops["machining"], work_center=shop.wc, title="Turn"
    )
    release_routing(routing=routing)
    order = services.work_order_create(number="WO-LOT", part_revision=revision, quantity=quantity, site=shop.site)
    traveler = services.traveler_release(
        work_order=order, identifier="L-0412", quantity=quantity, actor=shop.supervisor
    )
    step = services.step_start(step=traveler.steps.get(), actor=shop.operator)
    services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    traveler.refresh_from_db()
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    return order


def test_a_lot_is_exported_in_its_unit_of_measure_not_as_lot(wic):
    order = closed_lot(wic)
    root = b2mml.performance_document(closed_travelers(work_order=order), work_order=order)
    produced = root.find(".//b:MaterialActual[b:MaterialUse='Produced']", ns_of("V0700"))
    assert produced.findtext("b:Quantity/b:QuantityString", namespaces=ns_of("V0700")) == "200"
    assert produced.findtext("b:Quantity/b:UnitOfMeasure", namespaces=ns_of("V0700")) == "EA"
    b2mml.validate_performance(root)


@pytest.mark.parametrize("version", ["V0401", "V0500", "V0600"])
def test_production_performance_for_older_consumers_validates_against_its_schema(wic, version):
    traveler = close_traveler(wic, wic.order)
    records = closed_travelers(work_order=wic.order, source_system="legacy-wic")
    document = b2mml.performance_bytes(records, work_order=wic.order, version=version)  # validated
    root = etree.fromstring(document)
    ns = ns_of(version)
    assert root.tag == f"{{{ns['b']}}}SyncProductionPerformance" and root.get("releaseID") == version[1:]
    b2mml.validate(root, version=version, document="ProductionPerformance")
    (response,) = root.findall(".//b:ProductionResponse", ns)
    assert response.findtext("b:ID", namespaces=ns) == traveler.number
    assert response.findtext("b:ProductionRequestID", namespaces=ns) == "WO-1"
    segments = response.findall("b:SegmentResponse", ns)
    # the legacy system's own operation codes, where it has them (MC-10 is mapped at WIC), else canonical
    assert [s.findtext("b:ProcessSegmentID", namespaces=ns) for s in segments][0] == "MC-10"
    bore = segments[0].find("b:ProductionData[b:ID='BORE_DIA']", ns)
    assert bore.findtext("b:Value/b:ValueString", namespaces=ns) == "12.701"
    assert bore.findtext("b:Value/b:UnitOfMeasure", namespaces=ns) == "mm"
    produced = segments[-1].find("b:MaterialActual[b:MaterialUse='Produced']", ns)
    assert produced.findtext("b:MaterialLotID", namespaces=ns) == "SN-0001"
    assert produced.findtext("b:Quantity/b:UnitOfMeasure", namespaces=ns) == "EA"


def test_each_adapter_writes_the_version_its_consumer_reads(drop, wic):
    drop.settings = {**drop.settings, "performance_version": "V0401"}
    drop.save()
    close_traveler(wic, wic.order)
    assert relay_run().failed == 0
    (path,) = impl_for(drop).folder("outbox").glob("*.xml")
    root = b2mml.parse_xml(path.read_bytes())
    assert root.tag == f"{{{b2mml.NS_V0401}}}SyncProductionPerformance"
    b2mml.validate(root, version="V0401", document="ProductionPerformance")


def test_a_version_no_consumer_reads_is_named(drop, wic):
    drop.settings = {**drop.settings, "performance_version": "V0300"}
    drop.save()
    close_traveler(wic, wic.order)
    relay_run()
    drop.refresh_from_db()
    assert "performance_version V0300 is not one Traveler writes (V0401, V0500, V0600, V0700)" in drop.last_error
