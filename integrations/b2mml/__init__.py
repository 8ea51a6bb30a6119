"""B2MML (ISA-95 Business To Manufacturing Markup Language) beside the legacy MES.

In: production schedules, parsed into the neutral WorkOrderIn —
  * V0401 / V0500 `SyncProductionSchedule` (namespace http://www.wbf.org/xml/B2MML-V0401 or -V0500):
    ProductionSchedule / ProductionRequest / SegmentRequirement / MaterialProducedRequirement;
  * V0600 / V0700 `SyncOperationsSchedule` (V0700: http://www.mesa.org/xml/B2MML, V0600: …/B2MML-V0600):
    OperationsSchedule / OperationsRequest / SegmentRequirement / MaterialRequirement (MaterialUse Produced).
  Per request: ID → work order number; the produced material's MaterialDefinitionID → part number, its
  property "Revision" → part revision, its Quantity/QuantityString → quantity; the request's EndTime (else
  the latest LatestEndTime of its segments) → due date; each leaf segment's legacy code → an operation
  code (V0401/V0500: ProcessSegmentID, else ProductSegmentID; V0600+: OperationsSegmentID, else
  ProcessSegmentID); a HierarchyScope (V0401: Location) at level Site → site code.

Out: V0700 `SyncOperationsPerformance` for a work order's closed travelers, validated against
B2MML-OperationsPerformance.xsd (shipped in xsd/): one OperationsResponse per traveler, one SegmentResponse
per step with the canonical operation (ProcessSegmentID) and the site's code for it (OperationsSegmentID), actual
start/end, who performed and inspected it, the unit produced and the components consumed (MaterialActual,
serial or lot), and the test results (SegmentData: value, unit, judgment, limits).

The XML parser is hardened: no network, no entity expansion, no DTD, no huge trees.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from lxml import etree

from mes.compliance.canonical import decimal_text

from ..errors import MessageRefused
from ..orders import WorkOrderIn
from .schemas import DocumentInvalid, SchemaMissing, schema_for, validate

NS_V0401 = "http://www.wbf.org/xml/B2MML-V0401"
NS_V0500 = "http://www.wbf.org/xml/B2MML-V0500"
NS_V0600 = "http://www.mesa.org/xml/B2MML-V0600"
NS_V0700 = "http://www.mesa.org/xml/B2MML"
NAMESPACES = {NS_V0401: "V0401", NS_V0500: "V0500", NS_V0600: "V0600", NS_V0700: "V0700"}
PRODUCTION_FAMILY = {NS_V0401, NS_V0500}  # "Production…" names; V0600 on: "Operations…"

# Message types the inbox knows B2MML by (integrations.adapters.file_drop registers their parser).
SYNC_ROOTS = ("SyncProductionSchedule", "SyncOperationsSchedule")
MESSAGE_TYPES = tuple(f"b2mml.{root}" for root in SYNC_ROOTS) + ("b2mml.document",)
PRODUCED_USES = {"Produced", "Material Produced", "Yield Produced", "Co-product Produced"}
REVISION_PROPERTY_IDS = {"revision", "partrevision", "materialrevision", "rev"}


class B2mmlError(MessageRefused):
    """A B2MML document that cannot be taken as it is; `field` names the element path."""


# --- Reading ---------------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    # Hardened: nothing fetched, no entity expanded, no DTD loaded, no tree larger than libxml2's limits.
    # The text is always handed over as UTF-8 bytes, whatever its declaration says.
    return etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(payload: str | bytes) -> etree._Element:
    """The document's root element, or B2mmlError saying where the XML is broken (line, column)."""
    data = payload.encode("utf-8") if isinstance(payload, str) else _as_utf8(payload)
    data = data.removeprefix(b"\xef\xbb\xbf")
    if not data.strip():
        raise B2mmlError("the file is empty", field="payload")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        raise B2mmlError(f"broken XML at line {line}, column {column}: {exc.msg}", field="payload") from None
    if root.getroottree().docinfo.doctype:
        raise B2mmlError("a DOCTYPE declaration is not accepted in a B2MML document", field="payload")
    return root


def _as_utf8(data: bytes) -> bytes:
    encoding = declared_encoding(data)
    if encoding.lower().replace("-", "").replace("_", "") in {"utf8"}:
        return data
    try:
        return data.decode(encoding).encode("utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise B2mmlError(f"the document is not valid {encoding} text: {exc}", field="payload") from None


_DECLARATION = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")


def declared_encoding(data: bytes) -> str:
    """The encoding an XML file declares (UTF-8 when it declares none)."""
    match = _DECLARATION.match(data[:200])
    return match.group(1).decode("ascii") if match else "utf-8"


def decode_document(data: bytes) -> str:
    """A file's text, decoded as it declares itself; B2mmlError when it is not that encoding."""
    encoding = declared_encoding(data)
    try:
        return data.decode("utf-8-sig" if encoding.lower() in {"utf-8", "utf8"} else encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise B2mmlError(f"the file is not valid {encoding} text: {exc}", field="payload") from None


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _namespace(tag) -> str:
    return etree.QName(tag).namespace or "" if isinstance(tag, str) else ""


def message_type_of(payload: str | bytes) -> str:
    """What the inbox should call this document: b2mml.<SyncRoot> when recognised, else b2mml.document
    (whose parser then says exactly what is wrong)."""
    try:
        root = parse_xml(payload)
    except B2mmlError:
        return "b2mml.document"
    name = _local(root.tag)
    return f"b2mml.{name}" if name in SYNC_ROOTS and _namespace(root.tag) in NAMESPACES else "b2mml.document"


class _Reader:
    """Walks one schedule document of one B2MML version, naming element paths in its errors."""

    def __init__(self, ns: str):
        self.ns = ns
        self.version = NAMESPACES[ns]
        production = ns in PRODUCTION_FAMILY
        self.family = "Production" if production else "Operations"
        self.schedule = f"{self.family}Schedule"
        self.request = f"{self.family}Request"
        self.material = "MaterialProducedRequirement" if production else "MaterialRequirement"
        self.property = f"{self.material}Property"
        self.segment_codes = (
            ("ProcessSegmentID", "ProductSegmentID")
            if production
            else (
                "OperationsSegmentID",
                "ProcessSegmentID",
            )
        )
        self.scope = "Location" if ns == NS_V0401 else "HierarchyScope"

    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def children(self, el, name: str) -> list:
        return el.findall(self.q(name))

    def text(self, el, name: str) -> str | None:
        child = el.find(self.q(name))
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    def path(self, el, base, base_path: str) -> str:
        """'ProductionRequest[2]/SegmentRequirement[1]/…' from `base` (named base_path) down to `el`."""
        parts = []
        while el is not None and el is not base:
            parent = el.getparent()
            name = _local(el.tag)
            siblings = list(parent.iterchildren(el.tag)) if parent is not None else [el]
            repeats = len(siblings) > 1 or name.endswith(("Request", "Requirement", "Property"))
            parts.append(f"{name}[{siblings.index(el) + 1}]" if repeats else name)
            el = parent
        return "/".join([base_path, *reversed(parts)])

    # -- the document --

    def schedules(self, root) -> list:
        name = _local(root.tag)
        if name == self.schedule:
            return [root]
        if name in (f"Sync{self.schedule}", f"Process{self.schedule}"):
            data_area = root.find(self.q("DataArea"))
            if data_area is None:
                raise B2mmlError(f"{name}/DataArea is missing", field=f"{name}/DataArea")
            found = self.children(data_area, self.schedule)
            if not found:
                raise B2mmlError(f"{name}/DataArea/{self.schedule} is missing", field=f"{name}/DataArea")
            return found
        expected = f"Sync{self.schedule}"
        raise B2mmlError(
            f"the root element is {name}, not {expected}: a B2MML {self.version} "
            f"{self.family.lower()} schedule is sent as {expected}",
            field="root",
        )

    def orders(self, root) -> list[WorkOrderIn]:
        schedules = self.schedules(root)
        orders = []
        for s_index, schedule in enumerate(schedules, start=1):
            prefix = f"{self.schedule}[{s_index}]/" if len(schedules) > 1 else ""
            schedule_site = self.site(schedule, base=schedule, base_path=prefix.rstrip("/") or self.schedule)
            for r_index, request in enumerate(self.children(schedule, self.request), start=1):
                orders.append(self.order(request, f"{prefix}{self.request}[{r_index}]", schedule_site))
        if not orders:
            raise B2mmlError(f"the document holds no {self.request}", field=self.request)
        return orders

    def order(self, request, where: str, schedule_site: str | None) -> WorkOrderIn:
        number = self.text(request, "ID")
        if number is None:
            raise B2mmlError(f"{where}/ID is missing: the work order needs a number", field=f"{where}/ID")
        if len(number) > 40:
            raise B2mmlError(f"{where}/ID '{number[:50]}…' is longer than 40 characters", field=f"{where}/ID")
        material = self.produced_material(request, where)
        material_path = self.path(material, request, where)
        part = self.text(material, "MaterialDefinitionID")
        if part is None:
            raise B2mmlError(
                f"{material_path}/MaterialDefinitionID is missing: which part is to be made?",
                field=f"{material_path}/MaterialDefinitionID",
            )
        return WorkOrderIn(
            number=number,
            external_id=number,
            part_number=part,
            part_revision=self.revision(material, material_path),
            quantity=self.quantity(material, material_path),
            due_date=self.due(request, where),
            site_code=self.site(request, base=request, base_path=where) or schedule_site,
            operation_codes=self.operation_codes(request, where),
            where=where,
        )

    def produced_material(self, request, where: str):
        candidates = []
        for material in request.iter(self.q(self.material)):
            if self.material == "MaterialRequirement":
                use = self.text(material, "MaterialUse")
                if use not in PRODUCED_USES:
                    continue
            candidates.append(material)
        if not candidates:
            what = (
                self.material
                if self.material != "MaterialRequirement"
                else "MaterialRequirement with MaterialUse Produced"
            )
            raise B2mmlError(
                f"{where}/SegmentRequirement/{self.material} is missing: no {what} says which part to make",
                field=f"{where}/SegmentRequirement/{self.material}",
            )
        parts = {self.text(m, "MaterialDefinitionID") for m in candidates} - {None}
        if len(parts) > 1:
            raise B2mmlError(
                f"{where} produces several materials ({', '.join(sorted(parts))}): a work order makes one part",
                field=f"{where}/{self.material}",
            )
        return candidates[0]

    def revision(self, material, material_path: str) -> str:
        for prop in self.children(material, self.property):
            prop_id = (self.text(prop, "ID") or "").replace(" ", "").replace("_", "").lower()
            if prop_id in REVISION_PROPERTY_IDS:
                prop_path = self.path(prop, material, material_path)
                value = prop.find(self.q("Value"))
                text = self.text(value, "ValueString") if value is not None else None
                if text is None:
                    raise B2mmlError(
                        f"{prop_path}/Value/ValueString is missing: the revision has no value",
                        field=f"{prop_path}/Value/ValueString",
                    )
                if len(text) > 10:
                    raise B2mmlError(f"{prop_path}: revision '{text[:20]}' is too long", field=prop_path)
                return text
        raise B2mmlError(
            f"{material_path}/{self.property} with ID 'Revision' is missing: which revision of the part?",
            field=f"{material_path}/{self.property}",
        )

    def quantity(self, material, material_path: str) -> int:
        quantity = material.find(self.q("Quantity"))
        raw = self.text(quantity, "QuantityString") if quantity is not None else None
        field = f"{material_path}/Quantity/QuantityString"
        if raw is None:
            raise B2mmlError(f"{field} is missing: how many to make?", field=field)
        try:
            value = Decimal(raw.replace(" ", ""))
        except InvalidOperation:
            raise B2mmlError(f"{field} '{raw}' is not a number", field=field) from None
        if not value.is_finite() or value != value.to_integral_value():
            raise B2mmlError(f"{field} '{raw}' is not a whole number", field=field)
        if value <= 0:
            raise B2mmlError(f"{field} '{raw}' must be positive", field=field)
        if value > 2**31 - 1:
            raise B2mmlError(f"{field} '{raw}' is too large", field=field)
        return int(value)

    def due(self, request, where: str) -> dt.date | None:
        end = request.find(self.q("EndTime"))
        if end is not None and (end.text or "").strip():
            return parse_datetime(end.text, field=f"{where}/EndTime")
        latest = None
        for segment in request.iter(self.q("SegmentRequirement")):
            raw = self.text(segment, "LatestEndTime")
            if raw is not None:
                day = parse_datetime(raw, field=f"{self.path(segment, request, where)}/LatestEndTime")
                latest = day if latest is None or day > latest else latest
        return latest

    def site(self, el, *, base, base_path: str) -> str | None:
        scope = el.find(self.q(self.scope))
        while scope is not None:
            level = self.text(scope, "EquipmentElementLevel") or self.text(scope, "EquipmentLevel")
            if level == "Site":
                site = self.text(scope, "EquipmentID")
                if site is None:
                    field = f"{self.path(scope, base, base_path)}/EquipmentID"
                    raise B2mmlError(f"{field} is missing: which site?", field=field)
                return site
            scope = scope.find(self.q(self.scope))
        return None

    def operation_codes(self, request, where: str) -> list[str]:
        codes = []
        for segment in request.iter(self.q("SegmentRequirement")):
            if segment.find(self.q("SegmentRequirement")) is not None:
                continue  # a grouping segment: its leaves are the operations
            code = next((c for name in self.segment_codes if (c := self.text(segment, name))), None)
            if code is None:
                field = self.path(segment, request, where)
                raise B2mmlError(
                    f"{field}/{self.segment_codes[0]} is missing: which operation is this segment?",
                    field=f"{field}/{self.segment_codes[0]}",
                )
            codes.append(code)
        return codes


def parse_datetime(raw: str, *, field: str) -> dt.date:
    """The calendar date of an xsd:dateTime (or xsd:date), as the sender wrote it."""
    text = raw.strip()
    try:
        if "T" in text:
            return dt.datetime.fromisoformat(text.replace("z", "Z")).date()
        return dt.date.fromisoformat(text[:10] if re.match(r"^\d{4}-\d\d-\d\d(Z|[+-]\d\d:\d\d)$", text) else text)
    except ValueError:
        raise B2mmlError(
            f"{field} '{raw.strip()}' is not an ISO 8601 date-time (e.g. 2026-07-01T16:00:00Z)", field=field
        ) from None


def parse_schedule(payload: str | bytes) -> list[WorkOrderIn]:
    """Every work order of a B2MML production/operations schedule, or B2mmlError naming what is wrong."""
    root = parse_xml(payload)
    ns, name = _namespace(root.tag), _local(root.tag)
    if ns not in NAMESPACES:
        known = ", ".join(NAMESPACES)
        if not ns:
            raise B2mmlError(
                f"the root element {name} has no namespace: a B2MML document declares one of {known}",
                field="namespace",
            )
        raise B2mmlError(f"namespace {ns} is not a B2MML namespace this importer reads ({known})", field="namespace")
    return _Reader(ns).orders(root)


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
        f"Work order {work_order.number}: {len(travelers)} closed traveler(s) of {work_order.quantity} ordered",
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


def to_bytes(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


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


__all__ = [
    "B2mmlError",
    "DocumentInvalid",
    "SchemaMissing",
    "message_type_of",
    "parse_schedule",
    "parse_xml",
    "performance_bytes",
    "performance_document",
    "schema_for",
    "to_bytes",
    "validate",
    "validate_performance",
]
