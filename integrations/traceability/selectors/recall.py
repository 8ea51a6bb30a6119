"""Recall: from a suspect component lot (or serial), or from a characteristic measured in a time window
(a gauge found out of calibration), every finished unit it may have gone into.

The walk goes up the active genealogy (WITH RECURSIVE over travelers_consumption, components still
installed) to the items nothing consumes any more: the finished units — or the suspect itself when it
was never built into anything (still in stock). Counts per site cover the whole recall; the list of
units is paginated by keyset (item id, then archived traveler number). Travelers that left the live
database are found through the archive: by their values in the data lake (characteristic recalls);
their own genealogy is in their packages, which the archive index does not search."""

# ruff: noqa: S608 - SQL is assembled from this module's constant fragments only; every value that comes
# from a user is a bound parameter (psycopg / DuckDB placeholders), never text in the statement.

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django.utils.translation import gettext

from integrations.traceability import lake as lake_module
from integrations.traceability import links

from .query import clean_text
from .sources import ARCHIVE_INDEX, LAKE, LIVE, Completeness, SearchTooSlow, guarded

MAX_DEPTH = 12
PAGE_SIZE = 100
MAX_PAGE_SIZE = 5000


@dataclass
class RecallUnit:
    source: str  # live | archive
    identifier: str
    tracking: str
    part_number: str
    part_revision: str
    traveler_number: str | None
    traveler_status: str | None
    site_code: str | None
    item_id: int | None = None
    depth: int = 0
    via: list[str] = field(default_factory=list)  # from the suspect up to this unit
    in_stock: bool = False  # the suspect itself, built into nothing
    archive_number: str | None = None
    archive_uri: str | None = None

    @property
    def key(self) -> str:
        return f"L{self.item_id}" if self.source == "live" else f"A{self.traveler_number}"

    @property
    def trace_url(self) -> str | None:
        if self.item_id:
            return links.item_trace_url(self.item_id)
        return links.archived_trace_url(self.traveler_number)

    @property
    def print_url(self) -> str | None:
        return links.print_url(self.traveler_number) if self.source == "live" else None

    @property
    def archive_url(self) -> str | None:
        return links.archive_url(self.archive_number)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "serial_or_lot": self.identifier,
            "tracking": self.tracking,
            "part": self.part_number,
            "revision": self.part_revision,
            "traveler": self.traveler_number,
            "traveler_status": self.traveler_status,
            "site": self.site_code,
            "levels_up": self.depth,
            "via": self.via,
            "in_stock": self.in_stock,
            "archived": self.archive_uri is not None,
            "archive_uri": self.archive_uri,
            "links": {"trace": self.trace_url, "print": self.print_url, "archive": self.archive_url},
        }


@dataclass
class Recall:
    suspects: list[str] = field(default_factory=list)
    units: list[RecallUnit] = field(default_factory=list)
    per_site: list[tuple[str, int]] = field(default_factory=list)
    total: int = 0
    next_cursor: str | None = None
    messages: list[str] = field(default_factory=list)
    completeness: Completeness = field(default_factory=Completeness)
    asked: bool = False

    def as_dict(self) -> dict:
        return {
            "suspects": self.suspects,
            "total": self.total,
            "per_site": [{"site": site, "units": n} for site, n in self.per_site],
            "units": [u.as_dict() for u in self.units],
            "next_cursor": self.next_cursor,
            "messages": self.messages,
            "completeness": self.completeness.as_dict(),
        }


UP_SQL = """
WITH RECURSIVE start AS ({start}),
up(item_id, depth, path) AS (
    SELECT id, 0, ARRAY[id] FROM start
  UNION ALL
    SELECT t.item_id, u.depth + 1, u.path || t.item_id
    FROM up u
    JOIN travelers_consumption c ON c.component_id = u.item_id AND c.active
    JOIN travelers_traveler t ON t.id = c.traveler_id
    WHERE u.depth < %(depth)s AND NOT t.item_id = ANY(u.path)
),
tops AS (
    SELECT DISTINCT ON (u.item_id) u.item_id, u.depth, u.path
    FROM up u
    WHERE u.depth >= %(depth)s
       OR NOT EXISTS (SELECT 1 FROM travelers_consumption c WHERE c.component_id = u.item_id AND c.active)
    ORDER BY u.item_id, u.depth
)
"""

COUNT_SQL = """
SELECT coalesce(s.code, '(no traveler)'), count(*), max(tops.depth)
FROM trace_recall_tops tops
LEFT JOIN travelers_traveler t ON t.item_id = tops.item_id
LEFT JOIN masterdata_site s ON s.id = t.site_id
GROUP BY 1 ORDER BY 1
"""

PAGE_SQL = """
SELECT i.identifier, i.tracking, p.number, pr.revision, t.number, t.status, s.code, i.id, tops.depth, tops.path,
       a.traveler_number, a.uri
FROM trace_recall_tops tops
JOIN travelers_item i ON i.id = tops.item_id
JOIN masterdata_part p ON p.id = i.part_id
JOIN masterdata_partrevision pr ON pr.id = i.part_revision_id
LEFT JOIN travelers_traveler t ON t.item_id = i.id
LEFT JOIN masterdata_site s ON s.id = t.site_id
LEFT JOIN archive_archiverecord a ON a.traveler_number = t.number
WHERE tops.item_id > %(after)s
ORDER BY tops.item_id
LIMIT %(limit)s
"""

LABELS_SQL = """
SELECT i.id, p.number || ' ' || CASE WHEN i.tracking = 'serial' THEN 'S/N ' ELSE 'lot ' END || i.identifier
FROM travelers_item i JOIN masterdata_part p ON p.id = i.part_id WHERE i.id = ANY(%s)
"""

ARCHIVED_SQL = """
SELECT a.identifier, a.tracking, a.part_number, a.part_revision, a.traveler_number, a.site_code, a.uri
FROM archive_archiverecord a
WHERE a.traveler_number = ANY(%(numbers)s) AND a.traveler_number > %(after)s
  AND NOT EXISTS (SELECT 1 FROM travelers_traveler t WHERE t.number = a.traveler_number)
ORDER BY a.traveler_number
LIMIT %(limit)s
"""

ARCHIVED_COUNT_SQL = """
SELECT a.site_code, count(*) FROM archive_archiverecord a
WHERE a.traveler_number = ANY(%(numbers)s)
  AND NOT EXISTS (SELECT 1 FROM travelers_traveler t WHERE t.number = a.traveler_number)
GROUP BY 1
"""


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _start(lot, part, characteristic, date_from, date_to, out_of_spec_only):
    """The SQL selecting the suspect item ids, its parameters, and the lake question (or None)."""
    params: dict = {}
    if lot:
        params["lot"] = lot
        sql = "SELECT i.id FROM travelers_item i WHERE i.identifier = %(lot)s"
        if part:
            params["part"] = part
            sql += " AND i.part_id IN (SELECT id FROM masterdata_part WHERE upper(number) = upper(%(part)s))"
        return sql, params, None
    params.update(code=characteristic)
    sql = (
        "SELECT DISTINCT t.item_id AS id FROM travelers_travelercharacteristic c "
        "JOIN travelers_measurement m ON m.characteristic_id = c.id "
        "JOIN travelers_travelerstep st ON st.id = c.step_id "
        "JOIN travelers_traveler t ON t.id = st.traveler_id "
        "WHERE c.code = %(code)s "
        "AND NOT EXISTS (SELECT 1 FROM travelers_measurement m2 WHERE m2.supersedes_id = m.id)"
    )
    if date_from:
        params["from"] = dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC)
        sql += " AND m.recorded_at >= %(from)s"
    if date_to:
        params["to"] = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        sql += " AND m.recorded_at < %(to)s"
    if out_of_spec_only:
        sql += " AND m.judgment = 'out_of_spec'"
    if part:
        params["part"] = part
        sql += (
            " AND t.item_id IN (SELECT i.id FROM travelers_item i JOIN masterdata_part p ON p.id = i.part_id "
            "WHERE upper(p.number) = upper(%(part)s))"
        )
    return (
        sql,
        params,
        {"code": characteristic, "date_from": date_from, "date_to": date_to, "only_out_of_spec": out_of_spec_only},
    )


def _decode(cursor: str | None) -> tuple[str, object]:
    if cursor and cursor[:1] == "L" and cursor[1:].isdigit() and len(cursor) < 20:
        return "L", int(cursor[1:])
    if cursor and cursor[:1] == "A" and len(cursor) < 40 and "\x00" not in cursor:
        return "A", cursor[1:]
    return "L", 0


def recall(
    *,
    lot: str | None = None,
    part: str | None = None,
    characteristic: str | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    out_of_spec_only: bool = False,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    depth: int = MAX_DEPTH,
    counts: bool = True,
) -> Recall:
    """Every finished unit a suspect lot (or the units measured in a window) went into; never raises
    for what was typed."""
    result = Recall()
    lot = clean_text(lot or "")[:100]
    part = clean_text(part or "")[:100]
    characteristic = clean_text(characteristic or "")[:100]
    if not lot and not characteristic:
        result.messages.append("name a suspect lot or serial, or a characteristic with a time window")
        return result
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
        result.messages.append("the date range ends before it starts: from and to were swapped")
    result.asked = True
    limit = max(1, min(int(limit or PAGE_SIZE), MAX_PAGE_SIZE))
    depth = max(1, min(int(depth), MAX_DEPTH))
    kind, after = _decode(cursor)
    c = result.completeness
    for name in (LIVE, ARCHIVE_INDEX, LAKE):
        c.source(name)
    start_sql, params, lake_question = _start(lot, part, characteristic, date_from, date_to, out_of_spec_only)
    archived_numbers: list[str] = []
    per_site: dict[str, int] = {}
    rows: list[tuple] = []
    if lake_question is None:
        c.source(LAKE).state = "not_needed"
        c.notes.append(
            gettext(
                "Assemblies archived and removed from the live database keep their genealogy in their "
                "packages only: they are not in this answer."
            )
        )
    else:
        with c.timing(LAKE) as source:
            try:
                with lake_module.Lake() as lake:
                    archived_numbers, cut = lake.measured_in_window(**lake_question)
                    if lake.empty:
                        source.detail = gettext("no facts archived yet")
                if cut:
                    c.notes.append(
                        gettext("Only the first %(n)s archived travelers were considered.")
                        % {"n": lake_module.MAX_NUMBERS}
                    )
            except lake_module.LakeUnavailable as exc:
                c.unreachable(LAKE, str(exc), gettext("archived units measured in that window are"))
    params.update(depth=depth, limit=limit + 1, numbers=archived_numbers)
    try:
        with guarded():
            with c.timing(LIVE):
                suspects = (
                    _fetch(
                        "SELECT p.number, i.tracking, i.identifier, i.quantity, i.quantity_available, i.status "
                        f"FROM travelers_item i JOIN masterdata_part p ON p.id = i.part_id WHERE i.id IN ({start_sql}) "
                        "ORDER BY p.number LIMIT 20",
                        params,
                    )
                    if lot
                    else []
                )
                for part_number, tracking, identifier, qty, available, _status in suspects:
                    kind_label = "S/N" if tracking == "serial" else "lot"
                    text = f"{part_number} {kind_label} {identifier}"
                    if tracking == "lot":
                        text += f" ({available.normalize():f} of {qty.normalize():f} not consumed)"
                    result.suspects.append(text)
                if lot and not suspects:
                    result.messages.append(f"no unit or lot {lot}{' of ' + part if part else ''} is known")
                if lot and len({s[0] for s in suspects}) > 1 and not part:
                    result.messages.append(
                        f"{lot} exists for several parts; all are recalled — add the part number to narrow it"
                    )
                if characteristic:
                    window = f"{date_from or 'the beginning'} to {date_to or 'now'}"
                    which = "out-of-spec values" if out_of_spec_only else "values"
                    result.suspects.append(f"units with current {which} of {characteristic} recorded {window} (UTC)")
                # the walk runs once into a temporary table (dropped with the transaction); the counts
                # and the page read it
                _fetch("DROP TABLE IF EXISTS trace_recall_tops", [])
                _fetch(
                    "CREATE TEMP TABLE trace_recall_tops ON COMMIT DROP AS "
                    + UP_SQL.format(start=start_sql)
                    + " SELECT item_id, depth, path FROM tops",
                    params,
                )
                head = ""
                if counts:
                    for site, n, deepest in _fetch(head + COUNT_SQL, params):
                        per_site[site] = n
                        if deepest >= depth:
                            result.messages.append(f"the walk up reached the depth limit ({depth} levels)")
                if kind == "L":
                    rows = _fetch(head + PAGE_SQL, {**params, "after": after})
            labels = {}
            if rows:
                ids = {i for row in rows for i in row[9]}
                labels = dict(_fetch(LABELS_SQL, [list(ids)]))
            units = [
                RecallUnit(
                    "live",
                    *row[:7],
                    item_id=row[7],
                    depth=row[8],
                    via=[labels.get(i, str(i)) for i in row[9]],
                    in_stock=row[8] == 0,
                    archive_number=row[10],
                    archive_uri=row[11],
                )
                for row in rows
            ]
            if archived_numbers:
                with c.timing(ARCHIVE_INDEX):
                    if counts:
                        for site, n in _fetch(ARCHIVED_COUNT_SQL, params):
                            per_site[site] = per_site.get(site, 0) + n
                    if len(units) <= limit:
                        arch_after = after if kind == "A" else ""
                        rows = _fetch(ARCHIVED_SQL, {**params, "after": arch_after, "limit": limit + 1 - len(units)})
                        units += [
                            RecallUnit(
                                "archive",
                                *row[:4],
                                row[4],
                                "archived",
                                row[5],
                                archive_number=row[4],
                                archive_uri=row[6],
                            )
                            for row in rows
                        ]
            else:
                c.drop(ARCHIVE_INDEX)
                c.notes.append(
                    gettext("Archive records of the units found were read with them (links to their packages).")
                )
    except SearchTooSlow as exc:
        result.messages.append(str(exc))
        c.unreachable(LIVE, gettext("stopped at the statement timeout"), gettext("the recall is"))
        return result
    except DatabaseError as exc:
        c.unreachable(LIVE, type(exc).__name__, gettext("the recall is"))
        return result
    if counts:
        result.per_site = sorted(per_site.items())
        result.total = sum(per_site.values())
    result.units = units[:limit]
    if len(units) > limit:
        result.next_cursor = result.units[-1].key
    return result


def recall_all(**kwargs):
    """Every unit of a recall, page after page (for the CSV and Excel exports)."""
    cursor = None
    first = True
    while True:
        page = recall(**kwargs, cursor=cursor, limit=MAX_PAGE_SIZE, counts=first)
        if first:
            yield page
            first = False
        yield from page.units
        if not page.next_cursor:
            return
        cursor = page.next_cursor
