"""A unit's (or lot's) as-built genealogy, down and up, with the values and signers of its travelers.

Down: the components consumed into the item's traveler, their components, and so on. Up: the
assemblies the item went into, theirs, and so on. Both are recursive CTEs (WITH RECURSIVE) over
travelers_consumption, with a depth limit and a path array that stops cycles, run as one statement;
then one query for the nodes, one for their archive records, one for the values and one for the
signatures — five queries whatever the size of the tree. Removed components are kept (flagged): the
history of what was ever installed is part of the record.

An archived traveler whose rows have left the live database is traced from its archive record: the
values come from the data lake's facts (DuckDB); its genealogy is in its package."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DatabaseError, connection
from django.utils.translation import gettext

from integrations.archive.models import ArchiveRecord
from integrations.traceability import lake as lake_module
from integrations.traceability import links
from mes.numbers import decimal_text
from travelers.records import value_in_units

from .sources import ARCHIVE_INDEX, LAKE, LIVE, Completeness, SearchTooSlow, guarded

DEFAULT_DEPTH = 6
MAX_DEPTH = 12
MAX_NODES = 2000
MAX_RECORD_TRAVELERS = 200


@dataclass
class Node:
    item_id: int
    identifier: str = ""
    tracking: str = ""
    part_number: str = ""
    part_name: str = ""
    part_revision: str = ""
    item_status: str = ""
    traveler_number: str | None = None
    traveler_status: str | None = None
    site_code: str | None = None
    time_zone: str = "UTC"
    archive_number: str | None = None
    archive_uri: str | None = None
    disposed: bool = False
    depth: int = 0
    # how it hangs on its parent (None for the root)
    consumed_quantity: Decimal | None = None
    consumed_at: dt.datetime | None = None
    consumed_by: str = ""
    step_sequence: int | None = None
    active: bool = True
    removed_at: dt.datetime | None = None
    children: list[Node] = field(default_factory=list)

    @property
    def label(self) -> str:
        kind = "S/N" if self.tracking == "serial" else "lot"
        return f"{self.part_number} rev {self.part_revision} {kind} {self.identifier}"

    @property
    def trace_url(self) -> str | None:
        return links.item_trace_url(self.item_id)

    @property
    def print_url(self) -> str | None:
        return links.print_url(self.traveler_number)

    @property
    def archive_url(self) -> str | None:
        return links.archive_url(self.archive_number)

    def as_dict(self) -> dict:
        return {
            "item_id": self.item_id,
            "serial_or_lot": self.identifier,
            "tracking": self.tracking,
            "part": self.part_number,
            "revision": self.part_revision,
            "part_name": self.part_name,
            "item_status": self.item_status,
            "traveler": self.traveler_number,
            "traveler_status": self.traveler_status,
            "site": self.site_code,
            "archived": self.archive_uri is not None,
            "archive_uri": self.archive_uri,
            "disposed": self.disposed,
            "depth": self.depth,
            "consumed_quantity": self.consumed_quantity,
            "consumed_at": self.consumed_at,
            "consumed_by": self.consumed_by or None,
            "step": self.step_sequence,
            "active": self.active,
            "removed_at": self.removed_at,
            "links": {"trace": self.trace_url, "print": self.print_url, "archive": self.archive_url},
            "children": [child.as_dict() for child in self.children],
        }


@dataclass
class Value:
    traveler: str
    step: int | None
    operation: str
    operation_alias: str
    code: str
    name: str
    value: str
    unit: str
    judgment: str
    lower: Decimal | None
    upper: Decimal | None
    recorded_at: dt.datetime | None
    recorded_by: str
    superseded: bool
    converted: Decimal | None = None  # the value in the spec's unit (live values; the lake keeps what was entered)
    spec_unit: str = ""
    decimals: int | None = None

    def as_dict(self) -> dict:
        return dict(vars(self))

    def shown(self) -> str:
        """As entered and, entered in another unit, converted: 1.5 in → 38.100 mm."""
        return value_in_units(self.value, self.unit, self.converted, self.spec_unit, self.decimals or 0)


@dataclass
class SignatureRow:
    traveler: str
    step: int | None
    what: str
    meaning: str
    printed_name: str
    username: str
    badge: str
    signed_at: dt.datetime

    @property
    def manifestation(self) -> str:
        return f"{self.printed_name} — {self.meaning} — {self.signed_at:%Y-%m-%d %H:%M:%S} UTC"

    def as_dict(self) -> dict:
        return {**vars(self), "manifestation": self.manifestation}


@dataclass
class Trace:
    root: Node | None = None
    down: list[Node] = field(default_factory=list)  # the root's components (a tree)
    up: list[Node] = field(default_factory=list)  # where the root went (a tree)
    values: list[Value] = field(default_factory=list)
    signatures: list[SignatureRow] = field(default_factory=list)
    depth: int = DEFAULT_DEPTH
    messages: list[str] = field(default_factory=list)
    completeness: Completeness = field(default_factory=Completeness)
    archived_only: bool = False  # traced from the archive record: the traveler left the live database

    def as_dict(self) -> dict:
        return {
            "root": self.root.as_dict() if self.root else None,
            "archived_only": self.archived_only,
            "depth_limit": self.depth,
            "down": [n.as_dict() for n in self.down],
            "up": [n.as_dict() for n in self.up],
            "values": [v.as_dict() for v in self.values],
            "signatures": [s.as_dict() for s in self.signatures],
            "messages": self.messages,
            "completeness": self.completeness.as_dict(),
        }


EDGES_SQL = """
WITH RECURSIVE down(item_id, parent_id, consumption_id, depth, path) AS (
    SELECT %(root)s::bigint, NULL::bigint, NULL::bigint, 0, ARRAY[%(root)s::bigint]
  UNION ALL
    SELECT c.component_id, d.item_id, c.id, d.depth + 1, d.path || c.component_id
    FROM down d
    JOIN travelers_traveler t ON t.item_id = d.item_id
    JOIN travelers_consumption c ON c.traveler_id = t.id
    WHERE d.depth < %(depth)s AND NOT c.component_id = ANY(d.path)
), up(item_id, parent_id, consumption_id, depth, path) AS (
    SELECT %(root)s::bigint, NULL::bigint, NULL::bigint, 0, ARRAY[%(root)s::bigint]
  UNION ALL
    SELECT t.item_id, u.item_id, c.id, u.depth + 1, u.path || t.item_id
    FROM up u
    JOIN travelers_consumption c ON c.component_id = u.item_id
    JOIN travelers_traveler t ON t.id = c.traveler_id
    WHERE u.depth < %(depth)s AND NOT t.item_id = ANY(u.path)
), edges AS (
    (SELECT 'down' AS direction, * FROM down WHERE depth > 0 LIMIT %(max)s)
  UNION ALL
    (SELECT 'up' AS direction, * FROM up WHERE depth > 0 LIMIT %(max)s)
)
SELECT e.direction, e.item_id, e.parent_id, e.depth, c.quantity, c.consumed_at, c.active, c.removed_at,
       st.sequence, coalesce(nullif(pf.printed_name, ''), u.username)
FROM edges e
JOIN travelers_consumption c ON c.id = e.consumption_id
JOIN travelers_travelerstep st ON st.id = c.step_id
JOIN auth_user u ON u.id = c.consumed_by_id
LEFT JOIN compliance_profile pf ON pf.user_id = u.id
ORDER BY e.direction, e.depth, c.consumed_at, c.id
"""

NODES_SQL = """
SELECT i.id, i.identifier, i.tracking, p.number, p.name, pr.revision, i.status, t.number, t.status, s.code,
       s.time_zone
FROM travelers_item i
JOIN masterdata_part p ON p.id = i.part_id
JOIN masterdata_partrevision pr ON pr.id = i.part_revision_id
LEFT JOIN travelers_traveler t ON t.item_id = i.id
LEFT JOIN masterdata_site s ON s.id = t.site_id
WHERE i.id = ANY(%s)
"""

ARCHIVE_SQL = """
SELECT traveler_number, part_number, identifier, uri, disposed_at IS NOT NULL, site_code
FROM archive_archiverecord
WHERE traveler_number = ANY(%s) OR identifier = ANY(%s)
ORDER BY closed_at
"""

VALUES_SQL = """
SELECT t.number, st.sequence, o.code, st.operation_alias, c.code, c.name, m.entered_value,
       coalesce(nullif(m.entered_unit, ''), c.unit), m.judgment, m.spec_lower, m.spec_upper, m.recorded_at,
       coalesce(nullif(pf.printed_name, ''), u.username),
       EXISTS (SELECT 1 FROM travelers_measurement m2 WHERE m2.supersedes_id = m.id),
       m.value_numeric, m.spec_unit, c.decimals
FROM travelers_measurement m
JOIN travelers_travelerstep st ON st.id = m.step_id
JOIN travelers_traveler t ON t.id = st.traveler_id
JOIN masterdata_operation o ON o.id = st.operation_id
JOIN travelers_travelercharacteristic c ON c.id = m.characteristic_id
JOIN auth_user u ON u.id = m.recorded_by_id
LEFT JOIN compliance_profile pf ON pf.user_id = u.id
WHERE st.traveler_id = ANY(%(travelers)s)
ORDER BY t.number, st.sequence, c.sequence, c.id, m.recorded_at, m.id
"""

SIGNATURES_SQL = """
WITH signed(traveler_id, step, what, signature_id) AS (
    SELECT st.traveler_id, st.sequence, st.title, x.signature_id
    FROM travelers_travelerstep st
    CROSS JOIN LATERAL (VALUES (st.performed_signature_id), (st.inspected_signature_id), (st.skip_signature_id))
         AS x(signature_id)
    WHERE st.traveler_id = ANY(%(travelers)s) AND x.signature_id IS NOT NULL
  UNION ALL
    SELECT t.id, NULL::integer, 'final sign-off', t.final_signature_id
    FROM travelers_traveler t WHERE t.id = ANY(%(travelers)s) AND t.final_signature_id IS NOT NULL
  UNION ALL
    SELECT st.traveler_id, st.sequence, 'correction of ' || c.code, m.correction_signature_id
    FROM travelers_measurement m
    JOIN travelers_travelerstep st ON st.id = m.step_id
    JOIN travelers_travelercharacteristic c ON c.id = m.characteristic_id
    WHERE st.traveler_id = ANY(%(travelers)s) AND m.correction_signature_id IS NOT NULL
  UNION ALL
    SELECT n.traveler_id, NULL::integer, 'disposition of ' || n.number, n.disposition_signature_id
    FROM travelers_nonconformance n
    WHERE n.traveler_id = ANY(%(travelers)s) AND n.disposition_signature_id IS NOT NULL
  UNION ALL
    SELECT c.traveler_id, st.sequence, 'removal of a component', c.removal_signature_id
    FROM travelers_consumption c JOIN travelers_travelerstep st ON st.id = c.step_id
    WHERE c.traveler_id = ANY(%(travelers)s) AND c.removal_signature_id IS NOT NULL
)
SELECT t.number, x.step, x.what, g.meaning, g.printed_name, u.username, coalesce(pf.employee_number, ''),
       g.signed_at
FROM signed x
JOIN travelers_traveler t ON t.id = x.traveler_id
JOIN compliance_signature g ON g.id = x.signature_id
JOIN auth_user u ON u.id = g.signer_id
LEFT JOIN compliance_profile pf ON pf.user_id = u.id
ORDER BY t.number, g.signed_at, g.id
"""


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tree(edges: list[tuple], nodes: dict[int, Node], root_id: int, direction: str) -> list[Node]:
    """Nested copies of the nodes along the edges of one direction (a node reached twice — a lot
    consumed into two sub-assemblies of one unit — appears under each parent)."""
    children: dict[int, list[tuple]] = {}
    for edge in edges:
        if edge[0] == direction:
            children.setdefault(edge[2], []).append(edge)

    def build(parent_id: int, depth: int, seen: frozenset) -> list[Node]:
        out = []
        for _, item_id, _, _, qty, at, active, removed_at, seq, by in children.get(parent_id, []):
            if item_id in seen or item_id not in nodes:
                continue
            base = nodes[item_id]
            node = Node(**{k: v for k, v in vars(base).items() if k != "children"})
            node.depth, node.consumed_quantity, node.consumed_at, node.active = depth, qty, at, active
            node.removed_at, node.step_sequence, node.consumed_by = removed_at, seq, by
            node.children = build(item_id, depth + 1, seen | {item_id})
            out.append(node)
        return out

    return build(root_id, 1, frozenset({root_id}))


def _walk(nodes: list[Node]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def trace_item(item_id: int, *, depth: int = DEFAULT_DEPTH) -> Trace | None:
    """The genealogy of a live item, both ways, with values and signers; None if there is no such item."""
    depth = max(1, min(int(depth), MAX_DEPTH))
    result = Trace(depth=depth)
    c = result.completeness
    for name in (LIVE, ARCHIVE_INDEX, LAKE):
        c.source(name)
    c.source(LAKE).state = "not_needed"
    try:
        with guarded():
            with c.timing(LIVE):
                edges = _fetch(EDGES_SQL, {"root": item_id, "depth": depth, "max": MAX_NODES})
                ids = {item_id} | {e[1] for e in edges}
                nodes = {row[0]: Node(*row[:10], time_zone=row[10] or "UTC") for row in _fetch(NODES_SQL, [list(ids)])}
            if item_id not in nodes:
                return None
            with c.timing(ARCHIVE_INDEX):
                numbers = [n.traveler_number for n in nodes.values() if n.traveler_number]
                orphans = [n.identifier for n in nodes.values() if not n.traveler_number]
                for number, part, identifier, uri, disposed, site in _fetch(ARCHIVE_SQL, [numbers, orphans]):
                    for node in nodes.values():
                        if node.traveler_number == number or (
                            not node.traveler_number and (node.part_number, node.identifier) == (part, identifier)
                        ):
                            node.archive_number, node.archive_uri, node.disposed = number, uri, disposed
                            node.site_code = node.site_code or site
            result.root = nodes[item_id]
            result.down = _tree(edges, nodes, item_id, "down")
            result.up = _tree(edges, nodes, item_id, "up")
            for direction in ("down", "up"):
                count = sum(1 for e in edges if e[0] == direction)
                if count >= MAX_NODES:
                    result.messages.append(f"the tree {direction} was cut at {MAX_NODES} nodes")
                if any(e[3] >= depth for e in edges if e[0] == direction):
                    result.messages.append(f"the tree {direction} reaches the depth limit ({depth} levels)")
            with c.timing(LIVE):
                travelers = _record_travelers(result, item_id)
                if travelers:
                    result.values = [Value(*row) for row in _fetch(VALUES_SQL, {"travelers": travelers})]
                    result.signatures = [SignatureRow(*row) for row in _fetch(SIGNATURES_SQL, {"travelers": travelers})]
    except SearchTooSlow as exc:
        result.messages.append(str(exc))
        c.unreachable(LIVE, gettext("stopped at the statement timeout"), gettext("part of the trace is"))
    except DatabaseError as exc:
        c.unreachable(LIVE, f"{type(exc).__name__}", gettext("the trace is"))
    if result.root is not None and result.root.archive_uri:
        c.notes.append("This traveler is archived too: its package is linked.")
    return result


def _record_travelers(result: Trace, item_id: int) -> list[int]:
    """Traveler ids whose values and signatures the trace shows: the root's and its components' (the
    as-built record of this unit), at most MAX_RECORD_TRAVELERS."""
    numbers = [result.root.traveler_number] if result.root.traveler_number else []
    numbers += [n.traveler_number for n in _walk(result.down) if n.traveler_number]
    numbers = list(dict.fromkeys(numbers))
    if len(numbers) > MAX_RECORD_TRAVELERS:
        result.messages.append(f"values and signatures are shown for the first {MAX_RECORD_TRAVELERS} travelers")
        numbers = numbers[:MAX_RECORD_TRAVELERS]
    if not numbers:
        return []
    return [row[0] for row in _fetch("SELECT id FROM travelers_traveler WHERE number = ANY(%s)", [numbers])]


def items_by_identifier(identifier: str, part_number: str | None = None) -> list[tuple]:
    """(item id, part number, tracking, traveler number) of live items with this serial or lot number."""
    sql = (
        "SELECT i.id, p.number, i.tracking, t.number FROM travelers_item i "
        "JOIN masterdata_part p ON p.id = i.part_id LEFT JOIN travelers_traveler t ON t.item_id = i.id "
        "WHERE i.identifier = %s"
    )
    params: list = [identifier]
    if part_number:
        sql += " AND upper(p.number) = upper(%s)"
        params.append(part_number)
    with guarded():
        return _fetch(sql + " ORDER BY p.number LIMIT 50", params)


def archived_by_identifier(identifier: str, part_number: str | None = None) -> list[tuple]:
    """(traveler number, part number) of archive records of travelers no longer in the live database."""
    sql = (
        "SELECT a.traveler_number, a.part_number FROM archive_archiverecord a WHERE a.identifier = %s "
        "AND NOT EXISTS (SELECT 1 FROM travelers_traveler t WHERE t.number = a.traveler_number)"
    )
    params: list = [identifier]
    if part_number:
        sql += " AND upper(a.part_number) = upper(%s)"
        params.append(part_number)
    with guarded():
        return _fetch(sql + " ORDER BY a.closed_at DESC LIMIT 50", params)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def trace_archived(number: str) -> Trace | None:
    """An archived traveler traced from its archive record: its values from the lake's facts, and where
    its item went if that item is still in the live database. None without such a record."""
    result = Trace()
    c = result.completeness
    for name in (LIVE, ARCHIVE_INDEX, LAKE):
        c.source(name)
    with c.timing(ARCHIVE_INDEX):
        record = ArchiveRecord.objects.filter(traveler_number=number).first()
    if record is None:
        return None
    result.archived_only = True
    result.root = Node(
        item_id=0,
        identifier=record.identifier,
        tracking=record.tracking,
        part_number=record.part_number,
        part_revision=record.part_revision,
        traveler_number=record.traveler_number,
        traveler_status="archived",
        site_code=record.site_code,
        archive_number=record.traveler_number,
        archive_uri=record.uri,
        disposed=record.disposed_at is not None,
    )
    with c.timing(LIVE):
        live = items_by_identifier(record.identifier, record.part_number)
    if live:
        result.root.item_id = live[0][0]
        result.messages.append("its unit or lot is still in the live database: the trace up comes from there")
        traced = trace_item(live[0][0])
        if traced is not None:
            result.up = traced.up
    c.notes.append("The genealogy under an archived traveler is in its package, not in the archive index.")
    with c.timing(LAKE) as source:
        try:
            with lake_module.Lake() as lake:
                rows = lake.values_of(record.traveler_number, record.site_code, getattr(record, "facts_uri", ""))
                if lake.empty:
                    source.detail = "no facts archived yet"
        except lake_module.LakeUnavailable as exc:
            c.unreachable(LAKE, str(exc), gettext("the archived values are"))
            rows = []
    for row in rows:
        result.values.append(
            Value(
                traveler=record.traveler_number,
                step=None,
                operation=str(row.get("operation_code") or ""),
                operation_alias=str(row.get("operation_alias") or ""),
                code=str(row.get("characteristic_code") or ""),
                name=str(row.get("characteristic_name") or ""),
                value=_text(row.get("value")),
                unit=str(row.get("unit") or ""),
                judgment=str(row.get("judgment") or ""),
                lower=row.get("lower_limit"),
                upper=row.get("upper_limit"),
                recorded_at=row.get("recorded_at"),
                recorded_by=str(row.get("recorded_by") or ""),
                superseded=bool(row.get("superseded")),
            )
        )
    if record.disposed_at:
        result.messages.append(f"the package was disposed of on {record.disposed_at:%Y-%m-%d}")
    return result
