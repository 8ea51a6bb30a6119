"""B2MML as real systems send it: MESA's published V0401 examples (Courbon), a bare V0600
ProductionSchedule with nested segments, an SAP → Proficy schedule without revision, Change and Delete
action codes. First what the reader makes of each file, then what the import does with it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from integrations import b2mml

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "b2mml"
COURBON = FIXTURES / "PRO-20121210181416-27942.xml"
NESTED = FIXTURES / "V0600-ProductionSchedule-nested.xml"
NO_REVISION = FIXTURES / "V0600-SyncOperationsSchedule-no-revision.xml"
CHANGE = FIXTURES / "V0700-SyncOperationsSchedule-change.xml"
DELETE = FIXTURES / "V0401-SyncProductionSchedule-delete.xml"

SCHEMA_OF = {
    COURBON: ("V0401", "ProductionSchedule"),
    NESTED: ("V0600", "ProductionSchedule"),
    NO_REVISION: ("V0600", "OperationsSchedule"),
    CHANGE: ("V0700", "OperationsSchedule"),
    DELETE: ("V0401", "ProductionSchedule"),
}


@pytest.mark.parametrize("path", list(SCHEMA_OF), ids=lambda p: p.name)
def test_every_fixture_is_valid_b2mml_of_its_version(path):
    version, document = SCHEMA_OF[path]
    b2mml.validate(b2mml.parse_xml(path.read_bytes()), version=version, document=document)


# --- What the reader makes of each ---------------------------------------------------------------------


def test_mesas_v0401_example_is_read_from_material_requirement_with_its_unit():
    (order,) = b2mml.parse_schedule(COURBON.read_bytes())
    assert (order.number, order.part_number, order.part_revision) == ("258456", "SO1215", None)
    assert (order.quantity, order.unit) == (Decimal("1.000"), "KG")  # not "one serialized unit"
    assert order.operation_codes == ["Weighing", "Contenair"]  # nested in the order-level segment 0010
    assert order.action == "add"
    assert b2mml.message_type_of(COURBON.read_bytes()) == "b2mml.SyncProductionSchedule"


def test_a_bare_v0600_production_schedule_with_nested_segments_is_read():
    (order,) = b2mml.parse_schedule(NESTED.read_bytes())
    assert (order.number, order.part_number, order.part_revision) == ("60017734", "HSG-1", "A")
    assert (order.quantity, order.unit, order.site_code) == (3, "PCS", "MX30")
    assert order.operation_codes == ["MC-10", "AS-80", "MK-90", "QC-99"]  # VB-6630 is the order itself
    assert str(order.due_date) == "2026-12-11"


def test_a_schedule_without_revision_is_read_with_none():
    (order,) = b2mml.parse_schedule(NO_REVISION.read_bytes())
    assert (order.number, order.part_number, order.part_revision) == ("1004711", "HSG-1", None)
    assert (order.quantity, order.unit) == (Decimal("2.000"), "ST")
    assert order.operation_codes == ["MC-10", "AS-80", "MK-90", "QC-99"]


def test_action_codes_are_read_from_the_verb():
    (change,) = b2mml.parse_schedule(CHANGE.read_bytes())
    assert (change.action, change.number, change.quantity) == ("change", "WO-7001", 3)
    (delete,) = b2mml.parse_schedule(DELETE.read_bytes())
    assert (delete.action, delete.number, delete.part_number, delete.quantity) == ("delete", "WO-7001", None, None)


@pytest.mark.parametrize(
    ("code", "action"), [("Add", "add"), ("Replace", "change"), ("Replaced", "change"), ("delete", "delete")]
)
def test_each_action_code_means_what_it_says(code, action):
    document = CHANGE.read_text().replace('actionCode="Change"', f'actionCode="{code}"')
    assert b2mml.parse_schedule(document)[0].action == action


def test_an_acknowledgement_code_is_not_taken_for_an_instruction():
    document = CHANGE.read_text().replace('actionCode="Change"', 'actionCode="Accepted"')
    with pytest.raises(b2mml.B2mmlError, match="actionCode 'Accepted' is not an instruction"):
        b2mml.parse_schedule(document)


def test_a_change_verb_without_action_code_is_a_change_and_the_process_verb_an_add():
    text = NESTED.read_text()
    body = text[text.index("<ProductionSchedule") :].replace(' xmlns="http://www.mesa.org/xml/B2MML-V0600"', "")
    ns = b2mml.NS_V0600
    for verb, action in (("Change", "change"), ("Process", "add"), ("Sync", "add")):
        document = (
            f'<{verb}ProductionSchedule xmlns="{ns}"><ApplicationArea><CreationDateTime>2026-12-01T00:00:00Z'
            f"</CreationDateTime></ApplicationArea><DataArea><{verb}/>{body}</DataArea></{verb}ProductionSchedule>"
        )
        (order,) = b2mml.parse_schedule(document)
        assert (order.action, order.number) == (action, "60017734"), verb
        assert b2mml.message_type_of(document) == f"b2mml.{verb}ProductionSchedule"


def test_segments_are_identified_as_the_adapter_says():
    document = NESTED.read_text()
    for code in ("MC-10", "AS-80", "MK-90", "QC-99"):
        document = document.replace(f"<ProcessSegmentID>{code}</ProcessSegmentID>", "")
    (order,) = b2mml.parse_schedule(document)
    assert order.operation_codes == [] and order.unnamed_segments == []  # none named: the routing's route
    (order,) = b2mml.parse_schedule(document, segment_codes=["ProcessSegmentID", "ID"])
    assert order.operation_codes == ["0010", "0020", "0030", "0040"]  # their own IDs, as the adapter says


def test_a_segment_that_names_no_operation_among_others_is_reported():
    document = NESTED.read_text().replace("<ProcessSegmentID>AS-80</ProcessSegmentID>", "")
    (order,) = b2mml.parse_schedule(document)
    assert order.operation_codes == ["MC-10", "MK-90", "QC-99"]
    assert order.unnamed_segments == ["ProductionRequest[1]/SegmentRequirement[1]/SegmentRequirement[2]"]


def test_serial_and_lot_numbers_in_the_message_are_read():
    document = NESTED.read_text().replace(
        "</MaterialProducedRequirement>",
        "<MaterialProducedRequirementProperty><ID>SerialNumber</ID><Value><ValueString>VB-1, VB-2</ValueString>"
        "</Value></MaterialProducedRequirementProperty></MaterialProducedRequirement>",
    )
    assert b2mml.parse_schedule(document)[0].serials == ["VB-1", "VB-2"]
    document = CHANGE.read_text().replace(
        "<MaterialUse>Produced", "<MaterialLotID>L-77</MaterialLotID><MaterialUse>Produced"
    )
    assert b2mml.parse_schedule(document)[0].lot == "L-77"


def test_the_published_v0500_namespace_is_read():
    assert b2mml.NS_V0500 == "http://www.wbf.org/xml/B2MML-V05"  # MESA's V0500 schemas, not "-V0500"
    document = NESTED.read_text().replace(b2mml.NS_V0600, b2mml.NS_V0500)
    assert b2mml.parse_schedule(document)[0].number == "60017734"


def test_a_document_that_is_no_schedule_is_refused_plainly():
    with pytest.raises(b2mml.B2mmlError) as refused:
        b2mml.parse_schedule((FIXTURES / "MAT-20121210170256-CRBN0001.xml").read_bytes())
    assert refused.value.message.startswith("the root element is SyncMaterialDefinition: Traveler takes work orders")
