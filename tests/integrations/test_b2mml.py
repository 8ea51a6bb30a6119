"""B2MML in (V0401/V0500 production schedules, V0600+/V0700 operations schedules) and out (V0700
SyncOperationsPerformance, validated against the XSD)."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from integrations import b2mml
from integrations.completions import closed_travelers
from integrations.sim import legacy
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import V0401, close_traveler, order

NS = {"b": b2mml.NS_V0700}


def test_v0401_production_schedule_gives_neutral_work_orders():
    first, second = b2mml.parse_schedule(V0401)
    assert (first.number, first.part_number, first.part_revision, first.quantity) == ("WO-4401", "HSG-1", "A", 3)
    assert first.due_date == dt.date(2026, 12, 15)  # the date as the sender wrote it
    assert first.operation_codes == ["MC-10", "AS-80"]  # ProcessSegmentID, else ProductSegmentID
    assert first.site_code == "US10"  # from the schedule's Location at level Site
    assert first.where == "ProductionRequest[1]"
    # nested segments: the leaves are the operations; no EndTime: the latest LatestEndTime is the due date
    assert second.operation_codes == ["CT1", "QC-99"]
    assert second.due_date == dt.date(2026, 12, 20)
    assert b2mml.message_type_of(V0401) == "b2mml.SyncProductionSchedule"


@pytest.mark.parametrize("version", ["V0401", "V0500", "V0700"])
def test_each_version_written_by_the_legacy_mes_reads_back(version):
    document = legacy.schedule_document([order("WO-9", codes=["MC-10", "CT1"]), order("WO-10", quantity=7)], version)
    first, second = b2mml.parse_schedule(document)
    assert (first.number, first.quantity, first.operation_codes) == ("WO-9", 2, ["MC-10", "CT1"])
    assert (first.part_number, first.part_revision, first.site_code) == ("HSG-1", "A", "US10")
    assert first.due_date == dt.date(2026, 12, 18)
    assert second.where.endswith("Request[2]") and second.quantity == 7
    root = "SyncOperationsSchedule" if version == "V0700" else "SyncProductionSchedule"
    assert b2mml.message_type_of(document) == f"b2mml.{root}"


def test_v0700_schedule_from_the_simulator_validates_against_the_xsd():
    b2mml.validate(
        etree.fromstring(legacy.schedule_document([order()], "V0700")), version="V0700", document="OperationsSchedule"
    )


def test_v0700_reads_operations_segment_ids_and_ignores_consumed_material():
    document = f"""<SyncOperationsSchedule xmlns="{b2mml.NS_V0700}" releaseID="0700">
      <ApplicationArea><CreationDateTime>2026-11-30T06:00:00Z</CreationDateTime></ApplicationArea>
      <DataArea><Sync/><OperationsSchedule><OperationsRequest>
        <ID>WO-77</ID><EndTime>2026-12-01</EndTime>
        <SegmentRequirement><ID>1</ID><ProcessSegmentID>TURN</ProcessSegmentID>
          <OperationsSegmentID>MC-10</OperationsSegmentID>
          <MaterialRequirement><MaterialDefinitionID>BAR-7075</MaterialDefinitionID>
            <MaterialUse>Consumed</MaterialUse></MaterialRequirement>
          <MaterialRequirement><MaterialDefinitionID>HSG-1</MaterialDefinitionID><MaterialUse>Produced</MaterialUse>
            <Quantity><QuantityString>5.000</QuantityString></Quantity>
            <MaterialRequirementProperty><ID>Revision</ID><Value><ValueString>A</ValueString></Value>
            </MaterialRequirementProperty></MaterialRequirement>
        </SegmentRequirement>
      </OperationsRequest></OperationsSchedule></DataArea></SyncOperationsSchedule>"""
    (work_order,) = b2mml.parse_schedule(document)
    assert work_order.part_number == "HSG-1" and work_order.quantity == 5
    assert work_order.operation_codes == ["MC-10"]  # the site's code, not the process segment
    assert work_order.due_date == dt.date(2026, 12, 1)


GOOD = legacy.schedule_document([order("WO-1"), order("WO-2")], "V0500").decode()


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("<a><b></a>", "broken XML at line 1, column 11"),
        (GOOD.replace("</DataArea>", "</DataAreaX>"), "broken XML at line"),
        ("", "the file is empty"),
        (
            GOOD.replace(b2mml.NS_V0500, "http://www.wbf.org/xml/B2MML-V9999"),
            "namespace http://www.wbf.org/xml/B2MML-V9999 is not a B2MML",
        ),
        ("<SyncProductionSchedule/>", "has no namespace"),
        (
            GOOD.replace("SyncProductionSchedule", "SyncProductionPerformance"),
            "root element is SyncProductionPerformance",
        ),
        (GOOD.replace("<ID>WO-2</ID>", ""), "ProductionRequest[2]/ID is missing"),
        (
            GOOD.replace("<MaterialDefinitionID>HSG-1</MaterialDefinitionID>", "", 1),
            "ProductionRequest[1]/SegmentRequirement[4]/MaterialProducedRequirement[1]/MaterialDefinitionID is missing",
        ),
        (
            GOOD.replace("<QuantityString>2</QuantityString>", "<QuantityString>ten</QuantityString>", 1),
            "MaterialProducedRequirement[1]/Quantity/QuantityString 'ten' is not a number",
        ),
        (GOOD.replace("<QuantityString>2<", "<QuantityString>0<", 1), "'0' must be positive"),
        (
            GOOD.replace("<ValueString>A</ValueString>", "<ValueString>ABCDEFGHIJKL</ValueString>", 1),
            "revision 'ABCDEFGHIJKL' is too long",
        ),
        (GOOD.replace("2026-12-18T16:00:00Z", "next Friday", 1), "EndTime 'next Friday' is not an ISO 8601"),
        (
            GOOD.replace("<ProductionRequest>", "<ProductionRequestX>").replace(
                "</ProductionRequest>", "</ProductionRequestX>"
            ),
            "holds no ProductionRequest",
        ),
    ],
    ids=[
        "broken",
        "mismatched-tag",
        "empty",
        "wrong-namespace",
        "no-namespace",
        "wrong-root",
        "missing-id",
        "missing-part",
        "quantity-ten",
        "quantity-zero",
        "revision-too-long",
        "bad-date",
        "no-request",
    ],
)
def test_malformed_schedules_are_refused_naming_the_element(document, expected):
    with pytest.raises(b2mml.B2mmlError) as refused:
        b2mml.parse_schedule(document)
    assert expected in refused.value.message


def test_entities_are_never_expanded_nor_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY leak SYSTEM "file://{secret}"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>
<SyncOperationsSchedule xmlns="{b2mml.NS_V0700}"><DataArea><OperationsSchedule><OperationsRequest>
<ID>&leak;&b;</ID></OperationsRequest></OperationsSchedule></DataArea></SyncOperationsSchedule>"""
    with pytest.raises(b2mml.B2mmlError) as refused:
        b2mml.parse_schedule(xxe)
    assert "DOCTYPE" in refused.value.message and "TOP-SECRET" not in refused.value.message
    assert b2mml.message_type_of(xxe) == "b2mml.document"


# --- Out: SyncOperationsPerformance V0700 -------------------------------------------------------------


def test_performance_of_a_closed_traveler_validates_and_tells_everything(wic):
    traveler = close_traveler(wic, wic.order)
    records = closed_travelers(work_order=wic.order, source_system="legacy-wic")
    document = b2mml.performance_bytes(records, work_order=wic.order)  # validated against the XSD
    b2mml.validate_performance(document)
    root = etree.fromstring(document)
    assert root.tag == f"{{{b2mml.NS_V0700}}}SyncOperationsPerformance"
    (response,) = root.findall(".//b:OperationsResponse", NS)
    assert response.findtext("b:ID", namespaces=NS) == traveler.number
    assert response.findtext("b:OperationsRequestID", namespaces=NS) == "WO-1"
    segments = response.findall("b:SegmentResponse", NS)
    assert [s.findtext("b:ProcessSegmentID", namespaces=NS) for s in segments] == [
        "MACHINING",
        "ASSEMBLY",
        "MARKING",
        "INSPECTION",
    ]  # canonical operations …
    assert [s.findtext("b:OperationsSegmentID", namespaces=NS) for s in segments] == [
        "MC-10",
        "AS-80",
        "MK-90",
        "QC-99",
    ]
    first = segments[0]  # … with the site's alias; actual start and end; who did it
    assert first.findtext("b:ActualStartTime", namespaces=NS) and first.findtext("b:ActualEndTime", namespaces=NS)
    assert first.findtext("b:SegmentState", namespaces=NS) == "Completed"
    assert first.findtext("b:PersonnelActual/b:PersonID", namespaces=NS) == "olga"
    bore = first.find("b:SegmentData[b:ID='BORE_DIA']", NS)
    assert bore.findtext("b:Value/b:ValueString", namespaces=NS) == "12.701"
    assert bore.findtext("b:Value/b:UnitOfMeasure", namespaces=NS) == "mm"
    assert bore.findtext("b:SegmentData[b:ID='Judgment']/b:Value/b:ValueString", namespaces=NS) == "in_spec"
    assert bore.findtext("b:SegmentData[b:ID='UpperLimit']/b:Value/b:ValueString", namespaces=NS) == "12.713"
    surface = first.find("b:SegmentData[b:ID='SURFACE']", NS)
    assert surface.findtext("b:Value/b:ValueString", namespaces=NS) == "true"
    assert segments[1].findtext("b:PersonnelActual[b:PersonnelUse='Inspected']/b:PersonID", namespaces=NS) == "ines"
    produced = segments[-1].find("b:MaterialActual[b:MaterialUse='Produced']", NS)
    assert produced.findtext("b:MaterialDefinitionID", namespaces=NS) == "HSG-1"
    assert produced.findtext("b:MaterialLotID", namespaces=NS) == "SN-0001"
    assert produced.findtext("b:MaterialActualProperty[b:ID='SerialNumber']/b:Value/b:ValueString", namespaces=NS)


def test_a_document_that_does_not_conform_is_reported(wic):
    close_traveler(wic, wic.order)
    root = b2mml.performance_document(closed_travelers(work_order=wic.order), work_order=wic.order)
    del root.attrib["releaseID"]
    etree.SubElement(root.find("b:DataArea/b:OperationsPerformance", NS), f"{{{b2mml.NS_V0700}}}Colour")
    with pytest.raises(b2mml.DocumentInvalid) as invalid:
        b2mml.validate_performance(root)
    assert len(invalid.value.errors) >= 2 and "releaseID" in " ".join(invalid.value.errors)


def test_a_schema_that_is_not_shipped_is_named():
    with pytest.raises(b2mml.SchemaMissing, match="ships no B2MML V0300 ProductionSchedule schema"):
        b2mml.schema_for("V0300", "ProductionSchedule")


def test_a_bare_schedule_or_the_process_verb_is_read_too():
    document = legacy.schedule_document([order("WO-3")], "V0500").decode()
    process = document.replace("SyncProductionSchedule", "ProcessProductionSchedule").replace("<Sync/>", "<Process/>")
    bare = etree.tostring(etree.fromstring(document.encode()).find(f".//{{{b2mml.NS_V0500}}}ProductionSchedule"))
    for variant in (process, bare):
        assert [o.number for o in b2mml.parse_schedule(variant)] == ["WO-3"]
    assert b2mml.message_type_of(process) == "b2mml.ProcessProductionSchedule"
    assert b2mml.message_type_of(bare) == "b2mml.document"  # the generic parser takes it
