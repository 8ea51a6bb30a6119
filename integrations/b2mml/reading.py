"""Reading the B2MML schedules real systems send into the neutral WorkOrderIn, whatever their version.

Accepted, in every version V0401 through V0700 (the namespace gives the version):
  * a `ProductionSchedule` or `OperationsSchedule`, bare or inside a Sync, Process or Change verb
    (`SyncProductionSchedule`, `ProcessOperationsSchedule`, `ChangeProductionSchedule`, …);
  * the verb's action: `DataArea/<Verb>/ActionCriteria/ActionExpression/@actionCode` — Add (also no
    action), Change or Replace(d), Delete; a Change verb without an action code is a change;
  * per `ProductionRequest` / `OperationsRequest`: ID → work order number; the produced material →
    part, revision, quantity with its unit of measure, and serial or lot numbers when the sender gives
    them. The produced material is a `MaterialProducedRequirement` (V0401–V0600) or a
    `MaterialRequirement` whose `MaterialUse` is Produced (V0401 on: MESA's own V0401 examples use it);
  * the part revision is a material property with ID Revision (Rev, PartRevision…) and may be absent:
    the import then applies the adapter's rule or the part's current released revision;
  * the route: segment requirements at any depth. A top-level segment that holds others is the order
    itself (its code, often a product segment, is no operation); every other segment that names an
    operation is one, in document order — so the operations nested in a production request are read,
    not dropped. A segment is identified by the first of `segment_codes` it carries (default
    OperationsSegmentID, ProcessSegmentID, ProductSegmentID; an adapter may add "ID" for systems that
    put the operation in the segment's own ID). An innermost segment that names no operation is
    reported, not guessed;
  * due date: the request's EndTime, else the latest LatestEndTime of its segments; site: a Location or
    HierarchyScope at level Site, on the request or the schedule.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from ..orders import WorkOrderIn
from .xml import B2mmlError, local, namespace, parse_xml

NS_V0401 = "http://www.wbf.org/xml/B2MML-V0401"
NS_V0500 = "http://www.wbf.org/xml/B2MML-V05"  # the namespace of MESA's published V0500 schemas
NS_V0500_OLD = "http://www.wbf.org/xml/B2MML-V0500"  # written by Traveler's simulator before: still read
NS_V0600 = "http://www.mesa.org/xml/B2MML-V0600"
NS_V0700 = "http://www.mesa.org/xml/B2MML"
NAMESPACES = {NS_V0401: "V0401", NS_V0500: "V0500", NS_V0500_OLD: "V0500", NS_V0600: "V0600", NS_V0700: "V0700"}
NAMESPACE_OF = {"V0401": NS_V0401, "V0500": NS_V0500, "V0600": NS_V0600, "V0700": NS_V0700}

NOUNS = ("ProductionSchedule", "OperationsSchedule")
VERBS = ("Sync", "Process", "Change")
REQUEST_OF = {"ProductionSchedule": "ProductionRequest", "OperationsSchedule": "OperationsRequest"}
ACTIONS = {"add": "add", "change": "change", "replace": "change", "replaced": "change", "delete": "delete"}
PRODUCED_USES = {"produced", "material produced", "yield produced", "co-product produced", "by-product produced"}
REVISION_PROPERTY_IDS = {"revision", "partrevision", "materialrevision", "rev", "revisionlevel"}
SERIAL_PROPERTY_IDS = {"serialnumber", "serial", "serialnumbers", "serialno"}
DEFAULT_SEGMENT_CODES = ("OperationsSegmentID", "ProcessSegmentID", "ProductSegmentID")
SEGMENT_CODE_NAMES = (*DEFAULT_SEGMENT_CODES, "ID")

# Message types the inbox knows B2MML by (integrations.adapters.file_drop registers their parser).
SYNC_ROOTS = tuple(f"{verb}{noun}" for noun in NOUNS for verb in VERBS)
MESSAGE_TYPES = tuple(f"b2mml.{root}" for root in SYNC_ROOTS) + ("b2mml.document",)


def message_type_of(payload: str | bytes) -> str:
    """What the inbox should call this document: b2mml.<Verb><Noun> when recognised, else b2mml.document
    (whose parser then says exactly what is wrong)."""
    try:
        root = parse_xml(payload)
    except B2mmlError:
        return "b2mml.document"
    name = local(root.tag)
    return f"b2mml.{name}" if name in SYNC_ROOTS and namespace(root.tag) in NAMESPACES else "b2mml.document"


def _normal(text: str | None) -> str:
    return re.sub(r"[\s_-]+", "", text or "").lower()


class Reader:
    """Walks one schedule document, naming element paths in its errors."""

    def __init__(self, ns: str, *, segment_codes=None):
        self.ns = ns
        self.version = NAMESPACES[ns]
        codes = tuple(segment_codes or DEFAULT_SEGMENT_CODES)
        unknown = [c for c in codes if c not in SEGMENT_CODE_NAMES]
        if unknown:
            raise B2mmlError(
                f"the adapter's segment_codes name {', '.join(unknown)}; "
                f"a segment is identified by {', '.join(SEGMENT_CODE_NAMES)}",
                field="segment_codes",
            )
        self.segment_codes = codes

    # -- elements of this document's namespace
    def q(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def children(self, el, name: str) -> list:
        return el.findall(self.q(name))

    def text(self, el, name: str) -> str | None:
        if el is None:
            return None
        child = el.find(self.q(name))
        if child is None or child.text is None or not child.text.strip():
            return None
        return child.text.strip()

    def texts(self, el, name: str) -> list[str]:
        return [c.text.strip() for c in self.children(el, name) if c.text and c.text.strip()]

    def path(self, el, base, base_path: str) -> str:
        """'ProductionRequest[2]/SegmentRequirement[1]/…' from `base` (named base_path) down to `el`."""
        parts = []
        while el is not None and el is not base:
            parent = el.getparent()
            name = local(el.tag)
            siblings = list(parent.iterchildren(el.tag)) if parent is not None else [el]
            repeats = len(siblings) > 1 or name.endswith(("Request", "Requirement", "Property"))
            parts.append(f"{name}[{siblings.index(el) + 1}]" if repeats else name)
            el = parent
        return "/".join([base_path, *reversed(parts)])

    # -- the document and its action
    def schedules(self, root) -> tuple[str, str, list]:
        """(noun, action, schedule elements)."""
        name = local(root.tag)
        if name in NOUNS:
            return name, "add", [root]
        verb, noun = next(((v, name[len(v) :]) for v in VERBS if name.startswith(v)), (None, None))
        if noun not in NOUNS:
            raise B2mmlError(
                f"the root element is {name}: Traveler takes work orders from a ProductionSchedule or an "
                "OperationsSchedule, bare or in a Sync, Process or Change verb (e.g. SyncProductionSchedule)",
                field="root",
            )
        data_area = root.find(self.q("DataArea"))
        if data_area is None:
            raise B2mmlError(f"{name}/DataArea is missing", field=f"{name}/DataArea")
        action = self.action(name, data_area, verb)
        found = self.children(data_area, noun)
        if not found:
            raise B2mmlError(f"{name}/DataArea/{noun} is missing", field=f"{name}/DataArea")
        return noun, action, found

    def action(self, name: str, data_area, verb: str) -> str:
        verb_el = data_area.find(self.q(verb))
        codes = []
        if verb_el is not None:
            codes = [
                (e.get("actionCode") or "").strip()
                for criteria in self.children(verb_el, "ActionCriteria")
                for e in self.children(criteria, "ActionExpression")
            ]
            codes = [c for c in codes if c]
        if not codes:
            return "change" if verb == "Change" else "add"
        actions = {ACTIONS.get(c.lower()) for c in codes}
        if None in actions:
            bad = next(c for c in codes if ACTIONS.get(c.lower()) is None)
            raise B2mmlError(
                f"{name}/DataArea/{verb}/ActionCriteria/ActionExpression actionCode '{bad}' is not an instruction "
                "for a work order: Traveler acts on Add, Change, Replace and Delete",
                field=f"{name}/DataArea/{verb}/ActionCriteria",
            )
        if len(actions) > 1:
            raise B2mmlError(
                f"{name}/DataArea/{verb}/ActionCriteria holds several actions ({', '.join(codes)}): send one per "
                "message",
                field=f"{name}/DataArea/{verb}/ActionCriteria",
            )
        return actions.pop()

    def orders(self, root) -> list[WorkOrderIn]:
        noun, action, schedules = self.schedules(root)
        request_name = REQUEST_OF[noun]
        orders = []
        for s_index, schedule in enumerate(schedules, start=1):
            prefix = f"{noun}[{s_index}]/" if len(schedules) > 1 else ""
            schedule_site = self.site(schedule, base=schedule, base_path=prefix.rstrip("/") or noun)
            for r_index, request in enumerate(self.children(schedule, request_name), start=1):
                orders.append(self.order(request, f"{prefix}{request_name}[{r_index}]", schedule_site, action))
        if not orders:
            raise B2mmlError(f"the document holds no {request_name}", field=request_name)
        return orders

    # -- one request: one work order
    def order(self, request, where: str, schedule_site: str | None, action: str) -> WorkOrderIn:
        number = self.text(request, "ID")
        if number is None:
            raise B2mmlError(f"{where}/ID is missing: the work order needs a number", field=f"{where}/ID")
        if len(number) > 40:
            raise B2mmlError(f"{where}/ID '{number[:50]}…' is longer than 40 characters", field=f"{where}/ID")
        material = self.produced_material(request, where, required=action != "delete")
        part = revision = None
        quantity, unit, serials, lot = None, "", [], ""
        if material is not None:
            material_path = self.path(material, request, where)
            part = self.text(material, "MaterialDefinitionID")
            if part is None and action != "delete":
                raise B2mmlError(
                    f"{material_path}/MaterialDefinitionID is missing: which part is to be made?",
                    field=f"{material_path}/MaterialDefinitionID",
                )
            revision = self.revision(material, material_path)
            quantity, unit = self.quantity(material, material_path, required=action != "delete")
            serials = self.serials(material, material_path)
            lot = self.text(material, "MaterialLotID") or ""
        operations, unnamed = self.route(request, where)
        return WorkOrderIn(
            number=number,
            external_id=number,
            part_number=part,
            part_revision=revision,
            quantity=quantity,
            unit=unit,
            due_date=self.due(request, where),
            site_code=self.site(request, base=request, base_path=where) or schedule_site,
            operation_codes=operations,
            unnamed_segments=unnamed,
            action=action,
            serials=serials,
            lot=lot,
            where=where,
        )

    def properties(self, material) -> list:
        return [c for c in material if local(c.tag).endswith("Property") and namespace(c.tag) == self.ns]

    def produced_material(self, request, where: str, *, required: bool):
        candidates = []
        for el in request.iter(self.q("MaterialProducedRequirement"), self.q("MaterialRequirement")):
            if local(el.tag) == "MaterialRequirement" and _normal(self.text(el, "MaterialUse")) not in {
                _normal(u) for u in PRODUCED_USES
            }:
                continue
            candidates.append(el)
        if not candidates:
            if not required:
                return None
            raise B2mmlError(
                f"{where} says nothing about what to make: a MaterialRequirement with MaterialUse Produced "
                "(or a MaterialProducedRequirement) names the part",
                field=f"{where}/SegmentRequirement/MaterialRequirement",
            )
        parts = {self.text(m, "MaterialDefinitionID") for m in candidates} - {None}
        if len(parts) > 1:
            raise B2mmlError(
                f"{where} produces several materials ({', '.join(sorted(parts))}): a work order makes one part",
                field=f"{where}/MaterialRequirement",
            )
        return candidates[0]

    def property_values(self, material, material_path: str, ids: set[str]) -> list[tuple[str, str | None]]:
        """(path, ValueString) of each property of `material` whose ID is one of `ids` (normalised)."""
        found = []
        for prop in self.properties(material):
            if _normal(self.text(prop, "ID")) in ids:
                value = prop.find(self.q("Value"))
                found.append((self.path(prop, material, material_path), self.text(value, "ValueString")))
        return found

    def revision(self, material, material_path: str) -> str | None:
        for prop_path, text in self.property_values(material, material_path, REVISION_PROPERTY_IDS):
            if text is None:
                raise B2mmlError(
                    f"{prop_path}/Value/ValueString is missing: the revision has no value",
                    field=f"{prop_path}/Value/ValueString",
                )
            if len(text) > 10:
                raise B2mmlError(f"{prop_path}: revision '{text[:20]}' is too long", field=prop_path)
            return text
        return None  # the message names none: the import applies the adapter's rule

    def serials(self, material, material_path: str) -> list[str]:
        serials = []
        for _prop_path, text in self.property_values(material, material_path, SERIAL_PROPERTY_IDS):
            serials += [s for s in re.split(r"[,;\s]+", text or "") if s]
        serials += self.texts(material, "MaterialSubLotID")
        return list(dict.fromkeys(serials))

    def quantity(self, material, material_path: str, *, required: bool) -> tuple[Decimal | None, str]:
        quantity = material.find(self.q("Quantity"))
        raw = self.text(quantity, "QuantityString")
        field = f"{material_path}/Quantity/QuantityString"
        if raw is None:
            if not required:
                return None, ""
            raise B2mmlError(f"{field} is missing: how many to make?", field=field)
        try:
            value = Decimal(raw.replace(" ", ""))
        except InvalidOperation:
            raise B2mmlError(f"{field} '{raw}' is not a number", field=field) from None
        if not value.is_finite():
            raise B2mmlError(f"{field} '{raw}' is not a number", field=field)
        if value <= 0:
            raise B2mmlError(f"{field} '{raw}' must be positive", field=field)
        if value > 10**9:
            raise B2mmlError(f"{field} '{raw}' is too large", field=field)
        return value, self.text(quantity, "UnitOfMeasure") or ""

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
        for scope_name in ("HierarchyScope", "Location"):
            scope = el.find(self.q(scope_name))
            while scope is not None:
                level = self.text(scope, "EquipmentElementLevel") or self.text(scope, "EquipmentLevel")
                if level == "Site":
                    site = self.text(scope, "EquipmentID")
                    if site is None:
                        field = f"{self.path(scope, base, base_path)}/EquipmentID"
                        raise B2mmlError(f"{field} is missing: which site?", field=field)
                    return site
                scope = scope.find(self.q(scope_name))
        return None

    def route(self, request, where: str) -> tuple[list[str], list[str]]:
        """(operation codes in document order, paths of innermost segments that name none)."""
        codes, unnamed = [], []

        def walk(segment, depth: int):
            inner = self.children(segment, "SegmentRequirement")
            if not (depth == 0 and inner):  # not the order-level segment: it may be an operation
                code = next((c for name in self.segment_codes if (c := self.text(segment, name))), None)
                if code is not None:
                    codes.append(code)
                elif not inner:
                    unnamed.append(self.path(segment, request, where))
            for child in inner:
                walk(child, depth + 1)

        for segment in self.children(request, "SegmentRequirement"):
            walk(segment, 0)
        if not codes:
            unnamed = []  # no segment names an operation: the route is the routing's, nothing to report
        return codes, unnamed


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


def version_of(root) -> str:
    ns, name = namespace(root.tag), local(root.tag)
    if ns not in NAMESPACES:
        known = ", ".join(dict.fromkeys(NAMESPACE_OF.values()))
        if not ns:
            raise B2mmlError(
                f"the root element {name} has no namespace: a B2MML document declares one of {known}",
                field="namespace",
            )
        raise B2mmlError(f"namespace {ns} is not a B2MML namespace this importer reads ({known})", field="namespace")
    return NAMESPACES[ns]


def parse_schedule(payload: str | bytes, *, segment_codes=None) -> list[WorkOrderIn]:
    """Every work order of a B2MML production/operations schedule, or B2mmlError naming what is wrong.
    `segment_codes`: which elements identify a segment's operation, in order (the adapter's setting)."""
    root = parse_xml(payload)
    version_of(root)
    return Reader(namespace(root.tag), segment_codes=segment_codes).orders(root)
