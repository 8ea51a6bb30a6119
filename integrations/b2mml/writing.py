"""Writing completions as B2MML, in the version the consumer reads, validated against that version's
schema (shipped in xsd/) before it leaves:

  V0700                 SyncOperationsPerformance: OperationsResponse per traveler, SegmentResponse per step
                        with the canonical operation (ProcessSegmentID) and the site's code for it
                        (OperationsSegmentID), test results as SegmentData;
  V0401, V0500, V0600   SyncProductionPerformance, as legacy systems of those years read it:
                        ProductionResponse per traveler, SegmentResponse per step with the site's own code
                        in ProcessSegmentID (the canonical one as ProductionData "Operation"), test results as
                        ProductionData; V0401 places things by Location, later versions by HierarchyScope.

Everything else is the same in every version: actual start and end, who performed and inspected (with the
printed name and when they signed), the components consumed and, on the last step, the unit or lot
produced — each quantity with its unit of measure (EA for pieces, else the lot's unit: kg, m…).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.utils import timezone
from lxml import etree

from mes.numbers import decimal_text

from .reading import NAMESPACE_OF
from .schemas import validate
from .xml import B2mmlError, parse_xml, to_bytes

VERSIONS = ("V0401", "V0500", "V0600", "V0700")
STEP_STATES = {"completed": ("Completed", None), "skipped": ("Other", "Skipped")}


def document_of(version: str) -> str:
    """The performance document a consumer of `version` reads."""
    if version not in VERSIONS:
        raise B2mmlError(
            f"performance_version {version} is not one Traveler writes ({', '.join(VERSIONS)})",
            field="performance_version",
        )
    return "OperationsPerformance" if version == "V0700" else "ProductionPerformance"


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Writer:
    """Elements of one version; `operations` tells the V0700 names from the older Production ones."""

    def __init__(self, version: str):
        self.version = version
        self.ns = NAMESPACE_OF[version]
        self.operations = version == "V0700"
        self.family = "Operations" if self.operations else "Production"
        self.data_name = "SegmentData" if self.operations else "ProductionData"
        self.full_values = not self.operations  # older Value/Quantity types require every child

    def el(self, parent, name: str, text=None, **attrs):
        node = etree.SubElement(parent, f"{{{self.ns}}}{name}", {k: str(v) for k, v in attrs.items()})
        if text is not None:
            node.text = str(text)
        return node

    def scope(self, parent, equipment: str, level: str):
        if self.version == "V0401":
            node = self.el(parent, "Location")
        else:
            node = self.el(parent, "HierarchyScope")
        self.el(node, "EquipmentID", equipment)
        self.el(node, "EquipmentElementLevel", level)
        return node

    def value(self, parent, text: str, data_type: str, unit: str = "", name: str = "Value"):
        node = self.el(parent, name)
        self.el(node, "QuantityString" if name == "Quantity" else "ValueString", text)
        self.el(node, "DataType", data_type)
        if unit or self.full_values:
            self.el(node, "UnitOfMeasure", unit)
        return node

    def data(self, parent, ident: str, text: str, data_type: str, unit: str = "", description: str = ""):
        node = self.el(parent, self.data_name)
        self.el(node, "ID", ident)
        if description:
            self.el(node, "Description", description)
        self.value(node, text, data_type, unit)
        return node

    def person(self, parent, person, use: str):
        node = self.el(parent, "PersonnelActual")
        self.el(node, "PersonID", person.username)
        self.el(node, "Description", f"{use}: {person.printed_name}, signed {_iso(person.signed_at)}")
        if self.operations:
            self.el(node, "PersonnelUse", use)
        else:  # no PersonnelUse before V0700: a property says what the person did
            prop = self.el(node, "PersonnelActualProperty")
            self.el(prop, "ID", "PersonnelUse")
            self.value(prop, use, "string")
        return node

    def material(self, parent, *, part, revision, identifier, tracking, quantity, unit, use, description=""):
        node = self.el(parent, "MaterialActual")
        self.el(node, "MaterialDefinitionID", part)
        self.el(node, "MaterialLotID", identifier)
        if description:
            self.el(node, "Description", description)
        self.el(node, "MaterialUse", use)
        self.value(node, decimal_text(Decimal(quantity)), "decimal", unit, name="Quantity")
        for prop_id, prop_value in (
            ("Revision", revision),
            ("SerialNumber" if tracking == "serial" else "LotNumber", identifier),
        ):
            prop = self.el(node, "MaterialActualProperty")
            self.el(prop, "ID", prop_id)
            self.value(prop, prop_value, "string")
        return node

    def state(self, parent, name: str, status: str):
        state, other = STEP_STATES.get(status, ("Other", status))
        if other:
            self.el(parent, name, state, OtherValue=other)
        else:
            self.el(parent, name, state)


def performance_document(
    travelers,
    *,
    work_order,
    version: str = "V0700",
    sender: str = "Traveler",
    created_at: dt.datetime | None = None,
):
    """The Sync…Performance element tree of `version` for closed travelers (integrations.completions
    records) of one work order. Serialise with `to_bytes`; check with `validate_performance`."""
    document_of(version)
    w = _Writer(version)
    now = created_at or timezone.now()
    root = etree.Element(f"{{{w.ns}}}Sync{w.family}Performance", nsmap={None: w.ns}, releaseID=version[1:])
    area = w.el(root, "ApplicationArea")
    sender_el = w.el(area, "Sender")
    w.el(sender_el, "LogicalID", sender)
    w.el(sender_el, "ComponentID", "traveler")
    w.el(area, "CreationDateTime", _iso(now))
    w.el(area, "BODID", str(uuid.uuid4()))
    data_area = w.el(root, "DataArea")
    w.el(data_area, "Sync")
    perf = w.el(data_area, f"{w.family}Performance")
    w.el(perf, "ID", work_order.external_id or work_order.number)
    w.el(
        perf,
        "Description",
        f"Work order {work_order.number}: {len(travelers)} closed traveler(s) of "
        f"{decimal_text(Decimal(work_order.quantity))} {work_order.quantity_unit} ordered",
    )
    w.scope(perf, work_order.site.code, "Site")
    if w.operations:
        w.el(perf, "OperationsType", "Production")
    else:
        w.el(perf, "PublishedDate", _iso(now))
    if travelers:
        w.el(perf, "StartTime", _iso(min(t.started_at for t in travelers)))
        w.el(perf, "EndTime", _iso(max(t.closed_at for t in travelers)))
    if w.operations:
        w.el(perf, "PerformanceState", "Completed" if work_order.status == "completed" else "Running")
        w.el(perf, "PublishedDate", _iso(now))
    for t in travelers:
        _traveler_response(w, perf, t)
    if not w.operations:
        w.el(perf, "PerformanceState", "Completed" if work_order.status == "completed" else "Running")
    return root


def _traveler_response(w: _Writer, perf, t) -> None:
    response = w.el(perf, f"{w.family}Response")
    w.el(response, "ID", t.number)
    approved = f"; approved by {t.approved_by.printed_name}" if t.approved_by else ""
    kind = "S/N" if t.tracking == "serial" else "lot"
    if w.operations:
        w.el(
            response,
            "Description",
            f"Traveler {t.number}: {t.part_number} rev {t.part_revision} {kind} {t.identifier}, "
            f"closed {_iso(t.closed_at)}{approved}",
        )
        w.scope(response, t.site_code, "Site")
        w.el(response, "OperationsType", "Production")
        w.el(response, "OperationsRequestID", t.work_order_external_id)
    else:
        w.el(response, "ProductionRequestID", t.work_order_external_id)
        w.scope(response, t.site_code, "Site")
    w.el(response, "StartTime", _iso(t.started_at))
    w.el(response, "EndTime", _iso(t.closed_at))
    if w.operations:
        w.el(response, "ResponseState", "Completed")
    last = len(t.steps) - 1
    for index, s in enumerate(t.steps):
        _segment_response(w, response, t, s, produced=index == last)
    if not w.operations:
        w.el(response, "ResponseState", "Completed")


def _segment_response(w: _Writer, response, t, s, *, produced: bool) -> None:
    segment = w.el(response, "SegmentResponse")
    w.el(segment, "ID", f"{t.number}-{s.sequence}")
    alias = f" (site code {s.site_alias})" if s.site_alias else ""
    description = f"{s.sequence} {s.title}: {s.operation_name}{alias}"
    if w.operations:
        w.el(segment, "Description", description)
        if s.work_center:
            w.scope(segment, s.work_center, "WorkCenter")
        w.el(segment, "OperationsType", "Production")
        w.el(segment, "ProcessSegmentID", s.operation_code)
    else:  # the legacy system's own code first: it is what that system reads
        w.el(segment, "ProcessSegmentID", s.site_alias or s.operation_code)
        w.el(segment, "Description", description)
        if s.work_center:
            w.scope(segment, s.work_center, "WorkCenter")
    if s.started_at:
        w.el(segment, "ActualStartTime", _iso(s.started_at))
    if s.completed_at:
        w.el(segment, "ActualEndTime", _iso(s.completed_at))
    if w.operations:
        if s.site_alias:
            w.el(segment, "OperationsSegmentID", s.site_alias)
        w.state(segment, "SegmentState", s.status)
    else:
        w.data(segment, "Operation", s.operation_code, "string", description=s.operation_name)
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
            unit=c.unit,
            use="Consumed",
        )
    if produced:
        w.material(
            segment,
            part=t.part_number,
            revision=t.part_revision,
            identifier=t.identifier,
            tracking=t.tracking,
            quantity=t.quantity,
            unit=t.quantity_unit,
            use="Produced",
            description=f"{'Serial number' if t.tracking == 'serial' else 'Lot'} {t.identifier}",
        )
    if not w.operations:
        w.state(segment, "SegmentState", s.status)


def validate_performance(document: bytes | etree._Element, version: str = "V0700") -> None:
    """DocumentInvalid listing what does not conform to the performance schema of `version`."""
    root = parse_xml(document) if isinstance(document, bytes) else document
    validate(root, version=version, document=document_of(version))


def performance_bytes(travelers: Iterable, *, work_order, version: str = "V0700", validate: bool = True) -> bytes:
    """The serialised document of `version`, validated first unless told not to."""
    root = performance_document(list(travelers), work_order=work_order, version=version)
    if validate:
        validate_performance(root, version)
    return to_bytes(root)
