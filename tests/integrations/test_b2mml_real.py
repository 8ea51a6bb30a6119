"""B2MML as real systems send it: MESA's published V0401 examples (Courbon), a bare V0600
ProductionSchedule with nested segments, an SAP → Proficy schedule without revision, Change and Delete
action codes. First what the reader makes of each file, then what the import does with it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from integrations import b2mml
from integrations.adapters.file_drop import file_receive
from integrations.inbox import inbox_reprocess
from integrations.models import InboxMessage as Message
from integrations.models import WorkOrderProvenance
from integrations.sim import legacy
from mes.compliance.models import AuditEvent
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from mes.masterdata.models import UnmappedCode
from tests.factories import OperationFactory, PartFactory, PartRevisionFactory, release_routing
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import order
from travelers import services
from travelers.models import WorkOrder

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


# --- What the import does with each ------------------------------------------------------------------


def receive(adapter, tmp_path, name: str, content: str | bytes):
    """Take one file through the adapter's inbox, as the folder watcher does."""
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return file_receive(adapter=adapter, path=path)


def provenance(number: str):
    return list(WorkOrderProvenance.objects.filter(work_order__number=number).order_by("created_at", "id"))


def test_a_file_without_revision_imports_with_the_current_released_revision_said_in_its_provenance(drop, tmp_path):
    outcome = receive(drop, tmp_path, "sap.xml", NO_REVISION.read_bytes())
    assert outcome.status == "imported", outcome.reason
    work_order = WorkOrder.objects.get(number="1004711")
    assert (work_order.part_revision.revision, work_order.quantity, work_order.quantity_unit) == ("A", 2, "EA")
    assert work_order.ordered_operations == ["MACHINING", "ASSEMBLY", "MARKING", "INSPECTION"]
    (row,) = provenance("1004711")
    assert "revision A: the part's current released revision (the message named none)" in row.note
    assert "quantity 2 ST = 2 EA" in row.note and "route differs" not in row.note


def test_an_adapter_may_name_the_revision_or_require_one(drop, tmp_path, wic):
    PartRevisionFactory(part=wic.part_revision.part, revision="B")  # no routing: not the current one
    drop.settings = {**drop.settings, "revisions": {"HSG-1": "B"}}
    drop.save()
    assert receive(drop, tmp_path, "sap.xml", NO_REVISION.read_bytes()).status == "imported"
    assert WorkOrder.objects.get(number="1004711").part_revision.revision == "B"
    assert "revision B from the adapter's rule" in provenance("1004711")[0].note

    drop.settings = {**drop.settings, "revisions": {}, "revision_rule": "required"}
    drop.save()
    outcome = receive(drop, tmp_path, "again.xml", NO_REVISION.read_text().replace("1004711", "1004712"))
    assert outcome.status == "refused"
    assert "names no revision of HSG-1, and this adapter requires one" in outcome.reason


def test_a_bare_v0600_schedule_with_nested_segments_shows_where_its_route_differs(drop, tmp_path):
    drop.settings = {**drop.settings, "site_codes": {"MX30": "WIC"}}
    drop.save()
    document = NESTED.read_text().replace("<ProcessSegmentID>AS-80</ProcessSegmentID>", "")
    outcome = receive(drop, tmp_path, "nested.xml", document)
    assert outcome.status == "imported", outcome.reason
    assert WorkOrder.objects.get(number="60017734").ordered_operations == ["MACHINING", "MARKING", "INSPECTION"]
    note = provenance("60017734")[0].note
    assert (
        "route differs: the order lists MACHINING, MARKING, INSPECTION; routing r1 has MACHINING, ASSEMBLY, "
        "MARKING, INSPECTION; not in the order: ASSEMBLY"
    ) in note
    assert "segments naming no operation: ProductionRequest[1]/SegmentRequirement[1]/SegmentRequirement[2]" in note


def test_a_serialized_part_ordered_in_kg_is_refused_plainly(drop, tmp_path):
    drop.settings = {**drop.settings, "site_codes": {"MX30": "WIC"}}
    drop.save()
    outcome = receive(drop, tmp_path, "kg.xml", NESTED.read_text().replace(">PCS<", ">KG<"))
    assert outcome.status == "refused"
    assert (
        "HSG-1 is serialized (one traveler per unit): an order of 3 KG cannot be made of units; the order must be "
        "in pieces (EA)"
    ) in outcome.reason
    assert not WorkOrder.objects.filter(number="60017734").exists()


def test_units_are_mapped_per_adapter_and_lots_converted(drop, tmp_path, wic):
    routing = md.routing_create_draft(part_revision=wic.bush_part.revisions.get())
    md.routing_step_add(routing=routing, sequence=10, operation=wic.ops["machining"], work_center=wic.wc, title="Turn")
    release_routing(routing=routing)
    drop.settings = {**drop.settings, "site_codes": {"MX30": "WIC"}, "units": {"CS": {"unit": "EA", "factor": 12}}}
    drop.save()
    document = NESTED.read_text().replace(">HSG-1<", ">BUSH-1<").replace(">PCS<", ">CS<")
    document = document.replace("<ProcessSegmentID>AS-80</ProcessSegmentID>", "")
    assert receive(drop, tmp_path, "cases.xml", document).status == "imported"
    work_order = WorkOrder.objects.get(number="60017734")
    assert (work_order.quantity, work_order.quantity_unit) == (36, "EA")  # 3 cases of 12
    assert "quantity 3 CS = 36 EA" in provenance("60017734")[0].note

    unknown = receive(drop, tmp_path, "drums.xml", document.replace(">CS<", ">DRM<").replace("60017734", "60017735"))
    assert unknown.status == "refused" and "unit of measure 'DRM' is not known" in unknown.reason


def test_mesas_v0401_example_imports_once_its_part_and_operations_are_mapped(drop, tmp_path, wic):
    outcome = receive(drop, tmp_path, COURBON.name, COURBON.read_bytes())
    assert outcome.status == "refused"
    assert "part 'SO1215' from legacy-wic (site WIC) is not a known part" in outcome.reason
    queued = {(u.kind, u.code) for u in UnmappedCode.objects.filter(resolved_at__isnull=True)}
    assert queued == {("part", "SO1215")}  # the operations are looked at once the part is known

    # The engineer adds the part (weighed in kg) with its routing, and maps the ERP's codes.
    part = PartFactory(number="CRB-1215", name="Courbon final 1215", tracking="lot", quantity_unit="kg")
    revision = PartRevisionFactory(part=part, revision="A")
    weighing, container = OperationFactory(code="WEIGHING"), OperationFactory(code="CONTAINER")
    routing = md.routing_create_draft(part_revision=revision)
    md.routing_step_add(routing=routing, sequence=10, operation=weighing, work_center=wic.wc, title="Weigh")
    md.routing_step_add(routing=routing, sequence=20, operation=container, work_center=wic.wc, title="Fill")
    release_routing(routing=routing)
    md.unmapped_code_map(entry=UnmappedCode.objects.get(code="SO1215"), part=part)

    message = inbox_reprocess(outcome.message_id)
    assert message.status == "dead" and "operation code 'Weighing'" in message.reason
    md.unmapped_code_map(entry=UnmappedCode.objects.get(code="Weighing", resolved_at=None), operation=weighing)
    md.unmapped_code_map(entry=UnmappedCode.objects.get(code="Contenair", resolved_at=None), operation=container)

    message = inbox_reprocess(outcome.message_id)
    assert message.status == "processed", message.reason
    work_order = WorkOrder.objects.get(number="258456")
    assert (work_order.part_revision, work_order.quantity, work_order.quantity_unit) == (revision, 1, "kg")
    assert work_order.ordered_operations == ["WEIGHING", "CONTAINER"]
    assert "revision A: the part's current released revision" in provenance("258456")[0].note


def import_order(drop, tmp_path, number="WO-7001", quantity=1, name=None):
    document = legacy.schedule_document([order(number, quantity=quantity)], "V0700")
    outcome = receive(drop, tmp_path, name or f"{number}-{quantity}.xml", document)
    assert outcome.status == "imported", outcome.reason
    return WorkOrder.objects.get(number=number)


def test_a_change_before_work_begins_updates_the_order_audited_and_announced(drop, tmp_path):
    work_order = import_order(drop, tmp_path, quantity=1)
    outcome = receive(drop, tmp_path, "change.xml", CHANGE.read_bytes())
    assert outcome.status == "imported", outcome.reason
    work_order.refresh_from_db()
    assert (work_order.quantity, str(work_order.due_date)) == (3, "2026-12-20")
    row = provenance("WO-7001")[-1]
    assert row.action == "changed"
    assert row.note.startswith("changed: quantity 1 EA → 3 EA; due date 2026-12-18 → 2026-12-20")
    audit = AuditEvent.objects.get(action="workorder.changed")
    assert audit.changes["quantity"] == ["1 EA", "3 EA"] and "inbox message" in audit.reason
    event = OutboxMessage.objects.get(event_type="work_order.changed").payload
    assert event["data"]["quantity"] == "3" and event["data"]["changes"]["quantity"] == ["1 EA", "3 EA"]
    assert Message.objects.get(pk=outcome.message_id).produced["actions"] == {"WO-7001": "changed"}


def test_a_change_after_work_began_is_a_conflict_shown_not_applied(drop, tmp_path, wic):
    work_order = import_order(drop, tmp_path, quantity=1)
    traveler = services.traveler_release(work_order=work_order, identifier="SN-7001", actor=wic.supervisor)
    services.step_start(step=traveler.steps.get(sequence=10), actor=wic.operator)

    outcome = receive(drop, tmp_path, "change.xml", CHANGE.read_bytes())
    assert outcome.status == "imported"  # the message is fine: the conflict is the shop's to settle
    work_order.refresh_from_db()
    assert work_order.quantity == 1
    row = provenance("WO-7001")[-1]
    assert row.action == "conflict"
    assert row.note.startswith("not applied: work on order WO-7001 has begun")
    assert "quantity 3 EA (was 1 EA)" in row.note


def test_a_resent_order_with_a_new_quantity_is_updated_not_ignored(drop, tmp_path):
    import_order(drop, tmp_path, quantity=1)
    work_order = import_order(drop, tmp_path, quantity=3)
    assert work_order.quantity == 3
    assert provenance("WO-7001")[-1].note.startswith("sent again: quantity 1 EA → 3 EA")
    import_order(drop, tmp_path, quantity=3, name="again.xml")
    assert provenance("WO-7001")[-1].action == "unchanged"


def test_a_lower_quantity_cancels_the_travelers_no_longer_needed(drop, tmp_path, wic):
    work_order = import_order(drop, tmp_path, quantity=2)
    first = services.traveler_release(work_order=work_order, identifier="SN-1", actor=wic.supervisor)
    second = services.traveler_release(work_order=work_order, identifier="SN-2", actor=wic.supervisor)
    import_order(drop, tmp_path, quantity=1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("active", "cancelled")  # the newest goes
    assert f"travelers cancelled none → {second.number}" in provenance("WO-7001")[-1].note


def test_delete_cancels_an_unstarted_order_and_its_travelers(drop, tmp_path, wic):
    work_order = import_order(drop, tmp_path)
    traveler = services.traveler_release(work_order=work_order, identifier="SN-7001", actor=wic.supervisor)
    outcome = receive(drop, tmp_path, "delete.xml", DELETE.read_bytes())
    assert outcome.status == "imported", outcome.reason
    work_order.refresh_from_db()
    traveler.refresh_from_db()
    assert (work_order.status, traveler.status, traveler.item.status) == ("cancelled", "cancelled", "cancelled")
    assert provenance("WO-7001")[-1].note == f"cancelled; travelers cancelled: {traveler.number}"
    assert OutboxMessage.objects.filter(event_type="traveler.cancelled", aggregate_id=traveler.number).exists()
    assert OutboxMessage.objects.get(event_type="work_order.cancelled").payload["data"]["travelers_cancelled"] == [
        traveler.number
    ]
    again = receive(drop, tmp_path, "delete-again.xml", DELETE.read_text().replace("2026-12-03", "2026-12-04"))
    assert again.status == "imported" and provenance("WO-7001")[-1].action == "unchanged"


def test_delete_after_work_began_is_a_conflict_and_of_an_unknown_order_nothing(drop, tmp_path, wic):
    outcome = receive(drop, tmp_path, "delete.xml", DELETE.read_bytes())
    assert Message.objects.get(pk=outcome.message_id).produced["nothing_to_cancel"] == ["WO-7001"]

    work_order = import_order(drop, tmp_path)
    traveler = services.traveler_release(work_order=work_order, identifier="SN-7001", actor=wic.supervisor)
    services.step_start(step=traveler.steps.get(sequence=10), actor=wic.operator)
    receive(drop, tmp_path, "delete-2.xml", DELETE.read_text().replace("2026-12-03", "2026-12-05"))
    work_order.refresh_from_db()
    assert work_order.status == "in_progress"
    assert provenance("WO-7001")[-1].action == "conflict"


def test_a_conflict_is_listed_on_the_sync_status_page_until_settled(drop, tmp_path, wic, client):
    work_order = import_order(drop, tmp_path, quantity=1)
    traveler = services.traveler_release(work_order=work_order, identifier="SN-7001", actor=wic.supervisor)
    services.step_start(step=traveler.steps.get(sequence=10), actor=wic.operator)
    receive(drop, tmp_path, "change.xml", CHANGE.read_bytes())
    client.force_login(wic.supervisor)
    page = client.get("/integrations/status").content.decode()
    assert "Conflicts with the legacy MES" in page and "not applied: work on order WO-7001 has begun" in page
    import_order(drop, tmp_path, quantity=1, name="settled.xml")  # the legacy MES sends what Traveler has
    assert "Conflicts with the legacy MES" not in client.get("/integrations/status").content.decode()
