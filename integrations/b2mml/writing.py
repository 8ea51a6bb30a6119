"""Writing completions as B2MML: V0700 SyncOperationsPerformance, validated against the XSD shipped in
xsd/ before it leaves."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone
from lxml import etree

from mes.compliance.canonical import decimal_text

from .reading import NS_V0700
from .schemas import validate
from .xml import parse_xml, to_bytes

# --- Writing: SyncOperationsPerformance V0700 -------------------------------------------------------


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Writer:
    def __init__(self):
        self.ns = NS_V0700

    def el(self, parent, name: str, text=None, **attrs):
        node = etree.SubElement(parent, f"{{{self.ns}}}{name}", {k: str(v) for k, v in attrs.items()})
        if text is not None:
            node.text = str(text)
        return node

    def scope(self, parent, equipment: str, level: str):
        node = self.el(parent, "HierarchyScope")
        self.el(node, "EquipmentID", equipment)
        self.el(node, "EquipmentElementLevel", level)
        return node

    def value(self, parent, text: str, data_type: str, unit: str = ""):
        node = self.el(parent, "Value")
        self.el(node, "ValueString", text)
        self.el(node, "DataType", data_type)
        if unit:
            self.el(node, "UnitOfMeasure", unit)
        return node

    def data(self, parent, ident: str, text: str, data_type: str, unit: str = "", description: str = ""):
        node = self.el(parent, "SegmentData")
        self.el(node, "ID", ident)
        if description:
            self.el(node, "Description", description)
        self.value(node, text, data_type, unit)
        return node

    def material(self, parent, *, part, revision, identifier, tracking, quantity, use, description=""):
        node = self.el(parent, "MaterialActual")
        self.el(node, "MaterialDefinitionID", part)
        self.el(node, "MaterialLotID", identifier)
        if description:
            self.el(node, "Description", description)
        self.el(node, "MaterialUse", use)
        q = self.el(node, "Quantity")
        self.el(q, "QuantityString", decimal_text(Decimal(quantity)))
        self.el(q, "DataType", "decimal")
        self.el(q, "UnitOfMeasure", "EA" if tracking == "serial" else "LOT")
        for prop_id, prop_value in (
            ("Revision", revision),
            ("SerialNumber" if tracking == "serial" else "LotNumber", identifier),
        ):
            prop = self.el(node, "MaterialActualProperty")
            self.el(prop, "ID", prop_id)
            self.value(prop, prop_value, "string")
        return node

    def person(self, parent, person, use: str):
        node = self.el(parent, "PersonnelActual")
        self.el(node, "PersonID", person.username)
        self.el(node, "Description", f"{person.printed_name}, signed {_iso(person.signed_at)}")
        self.el(node, "PersonnelUse", use)
        return node


STEP_STATES = {"completed": ("Completed", None), "skipped": ("Other", "Skipped")}


def performance_document(travelers, *, work_order, sender: str = "Traveler", created_at: dt.datetime | None = None):
    """The SyncOperationsPerformance V0700 element tree for closed travelers (integrations.completions
    records) of one work order. Serialise with `to_bytes`; check with `validate_performance`."""
    w = _Writer()
    now = created_at or timezone.now()
    root = etree.Element(f"{{{w.ns}}}SyncOperationsPerformance", nsmap={None: w.ns}, releaseID="0700")
    area = w.el(root, "ApplicationArea")
    sender_el = w.el(area, "Sender")
    w.el(sender_el, "LogicalID", sender)
    w.el(sender_el, "ComponentID", "traveler")
    w.el(area, "CreationDateTime", _iso(now))
    w.el(area, "BODID", str(uuid.uuid4()))
    data_area = w.el(root, "DataArea")
    w.el(data_area, "Sync")
    perf = w.el(data_area, "OperationsPerformance")
    w.el(perf, "ID", work_order.external_id or work_order.number)
    w.el(
        perf,
        "Description",
        f"Work order {work_order.number}: {len(travelers)} closed traveler(s) of "
        f"{decimal_text(Decimal(work_order.quantity))} {work_order.quantity_unit} ordered",
    )
    w.scope(perf, work_order.site.code, "Site")
    w.el(perf, "OperationsType", "Production")
    if travelers:
        w.el(perf, "StartTime", _iso(min(t.started_at for t in travelers)))
        w.el(perf, "EndTime", _iso(max(t.closed_at for t in travelers)))
    w.el(perf, "PerformanceState", "Completed" if work_order.status == "completed" else "Running")
    w.el(perf, "PublishedDate", _iso(now))
    for t in travelers:
        _traveler_response(w, perf, t)
    return root


def _traveler_response(w: _Writer, perf, t) -> None:
    response = w.el(perf, "OperationsResponse")
    w.el(response, "ID", t.number)
    approved = f"; approved by {t.approved_by.printed_name}" if t.approved_by else ""
    kind = "S/N" if t.tracking == "serial" else "lot"
    w.el(
        response,
        "Description",
        f"Traveler {t.number}: {t.part_number} rev {t.part_revision} {kind} {t.identifier}, closed {_iso(t.closed_at)}"
        f"{approved}",
    )
    w.scope(response, t.site_code, "Site")
    w.el(response, "OperationsType", "Production")
    w.el(response, "OperationsRequestID", t.work_order_external_id)
    w.el(response, "StartTime", _iso(t.started_at))
    w.el(response, "EndTime", _iso(t.closed_at))
    w.el(response, "ResponseState", "Completed")
    last = len(t.steps) - 1
    for index, s in enumerate(t.steps):
        segment = w.el(response, "SegmentResponse")
        w.el(segment, "ID", f"{t.number}-{s.sequence}")
        alias = f" (site code {s.site_alias})" if s.site_alias else ""
        w.el(segment, "Description", f"{s.sequence} {s.title}: {s.operation_name}{alias}")
        if s.work_center:
            w.scope(segment, s.work_center, "WorkCenter")
        w.el(segment, "OperationsType", "Production")
        w.el(segment, "ProcessSegmentID", s.operation_code)
        if s.started_at:
            w.el(segment, "ActualStartTime", _iso(s.started_at))
        if s.completed_at:
            w.el(segment, "ActualEndTime", _iso(s.completed_at))
        if s.site_alias:
            w.el(segment, "OperationsSegmentID", s.site_alias)
        state, other = STEP_STATES.get(s.status, ("Other", s.status))
        if other:
            w.el(segment, "SegmentState", state, OtherValue=other)
        else:
            w.el(segment, "SegmentState", state)
        for v in s.values:
            node = w.data(segment, v.code, v.value, v.data_type, v.unit, description=v.name)
            w.data(node, "Judgment", v.judgment, "string")
            for ident, limit in (("Nominal", v.nominal), ("LowerLimit", v.lower_limit), ("UpperLimit", v.upper_limit)):
                if limit is not None:
                    w.data(node, ident, limit, "decimal", v.unit)
            w.data(node, "RecordedAt", _iso(v.recorded_at), "dateTime")
            if v.corrected:
                w.data(node, "Corrected", "true", "boolean")
        if s.skip_reason:
            w.data(segment, "SkipReason", s.skip_reason, "string")
        if s.performed_by:
            w.person(segment, s.performed_by, "Performed")
        if s.inspected_by:
            w.person(segment, s.inspected_by, "Inspected")
        for c in s.components:
            w.material(
                segment,
                part=c.part_number,
                revision=c.revision,
                identifier=c.identifier,
                tracking=c.tracking,
                quantity=c.quantity,
                use="Consumed",
            )
        if index == last:
            w.material(
                segment,
                part=t.part_number,
                revision=t.part_revision,
                identifier=t.identifier,
                tracking=t.tracking,
                quantity=t.quantity,
                use="Produced",
                description=f"{'Serial number' if t.tracking == 'serial' else 'Lot'} {t.identifier}",
            )


# --- Validation against the XSDs shipped in xsd/ -------------------------------------------------


def validate_performance(document: bytes | etree._Element) -> None:
    """DocumentInvalid listing what does not conform to B2MML-OperationsPerformance.xsd (V0700)."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    validate(root, version="V0700", document="OperationsPerformance")


def performance_bytes(travelers: Iterable, *, work_order, validate: bool = True) -> bytes:
    """The serialised V0700 document, validated first unless told not to."""
    root = performance_document(list(travelers), work_order=work_order)
    if validate:
        validate_performance(root)
    return to_bytes(root)
