"""The traceability search: one query (selectors.query) over live travelers and archived ones.

How a search runs, in a fixed number of queries whatever the number of results:
1. each bare word is classified by one round trip of indexed EXISTS probes (serial/lot, traveler,
   work order, part, NCR — live and archived); a word no record number matches is read as master data
   (operation or alias, site, work center, person), else as part of a serial/lot number (trigram
   index);
2. keys resolve against master data (resolve.py); filters that archived travelers can only meet
   through their values (operation, person, value) ask the data lake's facts once, with DuckDB;
3. one page of live travelers and one of archived ones (archive records whose traveler left the live
   database), each in keyset order (released_at, number) descending, merged. Nothing is counted.

All database reads run inside `sources.guarded()` (statement timeout). The answer says what it read
and what it could not (`Completeness`)."""

# ruff: noqa: S608 - SQL is assembled from this module's constant fragments only; every value that comes
# from a user is a bound parameter (psycopg / DuckDB placeholders), never text in the statement.

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import DatabaseError, connection
from django.utils.translation import gettext

from integrations.traceability import lake as lake_module
from integrations.traceability import links

from . import resolve
from .query import Query, parse
from .sources import ARCHIVE_INDEX, LAKE, LIVE, Completeness, SearchTooSlow, guarded

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MIN_PARTIAL = 3

# --- Results ---------------------------------------------------------------------------------------------


@dataclass
class Hit:
    source: str  # live | archive
    traveler_number: str
    identifier: str
    tracking: str
    part_number: str
    part_revision: str
    work_order: str
    site_code: str
    released_at: dt.datetime
    closed_at: dt.datetime | None
    status: str = "archived"
    on_hold: bool = False
    part_name: str = ""
    item_id: int | None = None
    time_zone: str = "UTC"
    archive_uri: str | None = None
    disposed: bool = False

    @property
    def key(self) -> tuple:
        return (self.released_at, self.traveler_number)

    @property
    def print_url(self) -> str | None:
        return links.print_url(self.traveler_number) if self.source == "live" else None

    @property
    def archive_url(self) -> str | None:
        return links.archive_url(self.traveler_number) if self.archive_uri else None

    @property
    def trace_url(self) -> str | None:
        if self.item_id:
            return links.item_trace_url(self.item_id)
        return links.archived_trace_url(self.traveler_number)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "traveler": self.traveler_number,
            "serial_or_lot": self.identifier,
            "tracking": self.tracking,
            "part": self.part_number,
            "revision": self.part_revision,
            "part_name": self.part_name,
            "work_order": self.work_order,
            "site": self.site_code,
            "status": self.status,
            "on_hold": self.on_hold,
            "released_at": self.released_at,
            "closed_at": self.closed_at,
            "archived": self.archive_uri is not None,
            "archive_uri": self.archive_uri,
            "disposed": self.disposed,
            "links": {"trace": self.trace_url, "print": self.print_url, "archive": self.archive_url},
        }


@dataclass
class SearchResult:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    next_cursor: str | None = None
    readings: list[str] = field(default_factory=list)  # how the words were read
    messages: list[str] = field(default_factory=list)  # what could not be used, and why
    completeness: Completeness = field(default_factory=Completeness)
    searched: bool = False


# --- Cursor ------------------------------------------------------------------------------------------------


def encode_cursor(key: tuple) -> str:
    released_at, number = key
    raw = f"{released_at.isoformat()}|{number}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple | None:
    """(released_at, number) or None; ValueError for anything that is not a cursor of ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, number = raw.split("|", 1)
        released_at = dt.datetime.fromisoformat(when)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("the page marker is not valid; starting from the first page") from exc
    if released_at.tzinfo is None or "\x00" in number:
        raise ValueError("the page marker is not valid; starting from the first page")
    return released_at, number


# --- Filters -----------------------------------------------------------------------------------------------


@dataclass
class Condition:
    """One filter, as SQL over the live travelers (t, i) and over archive records (a). `archive` None:
    the archive index cannot answer it (then archived travelers are not searched)."""

    live: str
    live_params: list
    archive: str | None = None
    archive_params: list = field(default_factory=list)
    lake: bool = False  # archived travelers meet it through the data lake's facts
    what: str = ""  # what the archive index cannot answer (when `archive` is None and not `lake`)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%") if "*" in term else f"%{escaped}%"


def unit_condition(values):
    return Condition("i.identifier = ANY(%s)", [values], "a.identifier = ANY(%s)", [values])


def traveler_condition(values):
    return Condition("t.number = ANY(%s)", [values], "a.traveler_number = ANY(%s)", [values])


def work_order_condition(values):
    return Condition(
        "t.work_order_id IN (SELECT id FROM travelers_workorder WHERE number = ANY(%s))",
        [values],
        "a.work_order = ANY(%s)",
        [values],
    )


def part_condition(values):
    return Condition(
        "i.part_id IN (SELECT id FROM masterdata_part WHERE number = ANY(%s))",
        [values],
        "a.part_number = ANY(%s)",
        [values],
    )


def ncr_condition(values):
    return Condition(
        "t.id IN (SELECT traveler_id FROM travelers_nonconformance WHERE number = ANY(%s))", [values], what="NCR number"
    )


def any_of(conditions: list[Condition]) -> Condition:
    """Either condition: a union of traveler ids (each branch keeps its own index)."""
    if len(conditions) == 1:
        return conditions[0]
    live = " UNION ".join(
        f"SELECT t.id FROM travelers_traveler t JOIN travelers_item i ON i.id = t.item_id WHERE {c.live}"
        for c in conditions
    )
    live_params = [p for c in conditions for p in c.live_params]
    archived = [c for c in conditions if c.archive is not None]
    archive = None
    if archived:
        archive = (
            "a.id IN ("
            + " UNION ".join(f"SELECT a.id FROM archive_archiverecord a WHERE {c.archive}" for c in archived)
            + ")"
        )
    return Condition(
        f"t.id IN ({live})",
        live_params,
        archive,
        [p for c in archived for p in c.archive_params],
        what=" or ".join(c.what for c in conditions if c.archive is None),
    )


MAX_PARTIAL_IDS = 20_000
BUSY_SIGNER = 2_000  # signatures from which a person counts as busy (found along the keyset order)


def person_condition(user_ids: list[int]) -> Condition:
    """Travelers a person started a step of, recorded a value on, performed, inspected, skipped or signed
    off. Someone with few signatures: the sets of their travelers, each from its own index, hashed
    once and checked along the keyset order. Someone busy (a shift's operator): those sets are large
    but their travelers are everywhere, so each traveler in keyset order is probed instead and the
    first page comes after a few hundred probes."""
    busy = (
        bool(user_ids)
        and _fetch(
            "SELECT count(*) FROM (SELECT 1 FROM compliance_signature WHERE signer_id = ANY(%s) LIMIT %s) x",
            [user_ids, BUSY_SIGNER],
        )[0][0]
        >= BUSY_SIGNER
    )
    if busy:
        # OFFSET 0 keeps each EXISTS a per-traveler probe: PostgreSQL would otherwise turn it into a
        # hashed set, built in full before the first row — the slow path this branch avoids.
        sql = (
            "(EXISTS (SELECT 1 FROM travelers_travelerstep s WHERE s.traveler_id = t.id "
            "AND (s.started_by_id = ANY(%s) OR EXISTS (SELECT 1 FROM compliance_signature g "
            "WHERE g.signer_id = ANY(%s) AND g.id IN (s.performed_signature_id, s.inspected_signature_id, "
            "s.skip_signature_id) OFFSET 0)) OFFSET 0) "
            "OR EXISTS (SELECT 1 FROM compliance_signature g WHERE g.id = t.final_signature_id "
            "AND g.signer_id = ANY(%s) OFFSET 0) "
            "OR EXISTS (SELECT 1 FROM travelers_travelerstep s JOIN travelers_measurement m ON m.step_id = s.id "
            "WHERE s.traveler_id = t.id AND m.recorded_by_id = ANY(%s) OFFSET 0))"
        )
        return Condition(sql, [user_ids] * 4, lake=True)
    sets = [
        f"SELECT s.traveler_id FROM compliance_signature g JOIN travelers_travelerstep s ON s.{col} = g.id "
        "WHERE g.signer_id = ANY(%s)"
        for col in ("performed_signature_id", "inspected_signature_id", "skip_signature_id")
    ] + [
        "SELECT t2.id FROM compliance_signature g JOIN travelers_traveler t2 ON t2.final_signature_id = g.id "
        "WHERE g.signer_id = ANY(%s)",
        "SELECT traveler_id FROM travelers_travelerstep WHERE started_by_id = ANY(%s)",
        "SELECT s.traveler_id FROM travelers_measurement m JOIN travelers_travelerstep s ON s.id = m.step_id "
        "WHERE m.recorded_by_id = ANY(%s)",
    ]
    return Condition("(" + " OR ".join(f"t.id IN ({sql})" for sql in sets) + ")", [user_ids] * len(sets), lake=True)


def partial_condition(like: str) -> Condition:
    """Serial/lot numbers matching a pattern. The trigram index finds the matching items first; their
    ids then go to the page query as an array, so the planner knows how few they are (an ILIKE left
    in the page query is guessed at 1 % and checked row by row along the keyset order). More matches
    than MAX_PARTIAL_IDS: the pattern stays in the page query, where dense matches are found early."""
    found = []
    for sql in (
        "SELECT id FROM travelers_item WHERE identifier ILIKE %s LIMIT %s",
        "SELECT id FROM archive_archiverecord WHERE identifier ILIKE %s LIMIT %s",
    ):
        ids = [row[0] for row in _fetch(sql, [like, MAX_PARTIAL_IDS + 1])]
        found.append(ids if len(ids) <= MAX_PARTIAL_IDS else None)
    live, archived = found
    return Condition(
        "t.item_id = ANY(%s)" if live is not None else "i.identifier ILIKE %s",
        [live if live is not None else like],
        "a.id = ANY(%s)" if archived is not None else "a.identifier ILIKE %s",
        [archived if archived is not None else like],
    )


PROBES = (
    ("unit", "SELECT 1 FROM travelers_item WHERE identifier = %s"),
    ("traveler", "SELECT 1 FROM travelers_traveler WHERE number = %s"),
    ("work_order", "SELECT 1 FROM travelers_workorder WHERE number = %s"),
    ("part", "SELECT 1 FROM masterdata_part WHERE number = %s"),
    ("ncr", "SELECT 1 FROM travelers_nonconformance WHERE number = %s"),
    ("unit", "SELECT 1 FROM archive_archiverecord WHERE identifier = %s"),
    ("traveler", "SELECT 1 FROM archive_archiverecord WHERE traveler_number = %s"),
    ("work_order", "SELECT 1 FROM archive_archiverecord WHERE work_order = %s"),
    ("part", "SELECT 1 FROM archive_archiverecord WHERE part_number = %s"),
)
KIND_LABEL = {
    "unit": "serial/lot number",
    "traveler": "traveler number",
    "work_order": "work order",
    "part": "part number",
    "ncr": "NCR number",
}
KIND_CONDITION = {
    "unit": unit_condition,
    "traveler": traveler_condition,
    "work_order": work_order_condition,
    "part": part_condition,
    "ncr": ncr_condition,
}


def classify(term: str) -> list[str]:
    """Which kinds of record number `term` is, exactly (one round trip)."""
    sql = "SELECT " + ", ".join(f"EXISTS ({probe})" for _, probe in PROBES)
    with connection.cursor() as cursor:
        cursor.execute(sql, [term] * len(PROBES))
        row = cursor.fetchone()
    return list(dict.fromkeys(kind for (kind, _), hit in zip(PROBES, row, strict=True) if hit))


# --- The search --------------------------------------------------------------------------------------------


class _Plan:
    """The conditions a query comes to, and what the lake must be asked."""

    def __init__(self):
        self.conditions: list[Condition] = []
        self.lake_operations: tuple[list[str], list[str]] | None = None
        self.lake_people: list[str] | None = None
        self.empty_live = False


def _read_terms(query: Query, result: SearchResult, plan: _Plan) -> None:
    for term in query.terms:
        kinds = classify(term)
        if kinds:
            result.readings.append(f"{term}: " + " or ".join(KIND_LABEL[k] for k in kinds))
            plan.conditions.append(any_of([KIND_CONDITION[k]([term]) for k in kinds]))
            continue
        for kind, resolver in (
            ("operation", resolve.operations),
            ("site", resolve.sites),
            ("work_center", resolve.work_centers),
            ("person", lambda v: resolve.people(v, partial=False)),
        ):
            found = resolver([term])
            if found.ids:
                getattr(query, kind).append(term)
                break
        else:
            pattern = term.replace("*", "")
            if len(pattern) < MIN_PARTIAL:
                result.messages.append(
                    f"nothing is numbered '{term}' exactly; a partial match needs at least {MIN_PARTIAL} characters"
                )
                plan.conditions.append(Condition("false", [], "false", []))
                continue
            like = _like(term)
            how = "starting with" if term.endswith("*") and term.count("*") == 1 else "containing"
            result.readings.append(f"{term}: no exact match — serial/lot numbers {how} '{pattern}'")
            plan.conditions.append(partial_condition(like))


def _plan(query: Query, result: SearchResult) -> _Plan:
    plan = _Plan()
    _read_terms(query, result, plan)
    if query.unit:
        plan.conditions.append(unit_condition(query.unit))
    if query.traveler:
        plan.conditions.append(traveler_condition(query.traveler))
    if query.work_order:
        plan.conditions.append(work_order_condition(query.work_order))
    if query.part:
        plan.conditions.append(part_condition(resolve.parts(query.part)))
    if query.revision:
        plan.conditions.append(
            Condition(
                "i.part_revision_id IN (SELECT id FROM masterdata_partrevision WHERE revision = ANY(%s))",
                [query.revision],
                "a.part_revision = ANY(%s)",
                [query.revision],
            )
        )
    if query.ncr:
        plan.conditions.append(ncr_condition(query.ncr))
    if query.site:
        found = resolve.sites(query.site)
        result.readings += found.labels
        if found.unknown:
            result.messages.append(f"no site {', '.join(found.unknown)} is known")
        plan.conditions.append(
            Condition("t.site_id = ANY(%s)", [found.ids], "a.site_code = ANY(%s)", [found.lake_codes + found.unknown])
        )
    if query.work_center:
        found = resolve.work_centers(query.work_center)
        result.readings += found.labels
        if found.unknown:
            result.messages.append(f"no work center {', '.join(found.unknown)} is known")
        plan.conditions.append(
            Condition(
                "t.id IN (SELECT traveler_id FROM travelers_travelerstep WHERE work_center_id = ANY(%s))",
                [found.ids],
                what="work center",
            )
        )
    if query.operation:
        found = resolve.operations(query.operation)
        result.readings += found.labels
        if found.unknown:
            result.messages.append(f"no operation, code or alias {', '.join(found.unknown)} is known here")
        plan.conditions.append(
            Condition(
                "t.id IN (SELECT traveler_id FROM travelers_travelerstep WHERE operation_id = ANY(%s))",
                [found.ids],
                lake=True,
            )
        )
        plan.lake_operations = (found.lake_codes, found.lake_aliases)
    if query.person:
        found = resolve.people(query.person)
        result.readings += [f"person {label}" for label in found.labels]
        if found.unknown:
            result.messages.append(f"no person {', '.join(found.unknown)} is known (username, badge or name)")
        plan.conditions.append(person_condition(found.ids))
        plan.lake_people = found.lake_codes
    current = "NOT EXISTS (SELECT 1 FROM travelers_measurement m2 WHERE m2.supersedes_id = m.id)"
    values_from = (
        "SELECT s.traveler_id FROM travelers_travelercharacteristic c "
        "JOIN travelers_measurement m ON m.characteristic_id = c.id "
        "JOIN travelers_travelerstep s ON s.id = m.step_id WHERE c.code = %s AND " + current
    )
    for code in query.out_of_spec:
        result.readings.append(f"a current value of {code} out of spec")
        plan.conditions.append(Condition(f"t.id IN ({values_from} AND m.judgment = 'out_of_spec')", [code], lake=True))
    for code, pct in query.near:
        result.readings.append(f"a current value of {code} within {pct} % of the tolerance band from a limit")
        share = pct / 100
        near = (
            "m.value_numeric IS NOT NULL AND ("
            "(m.spec_lower IS NOT NULL AND m.spec_upper IS NOT NULL AND m.spec_upper > m.spec_lower AND "
            "least(abs(m.value_numeric - m.spec_lower), abs(m.value_numeric - m.spec_upper)) "
            "<= %s * (m.spec_upper - m.spec_lower)) OR "
            "(m.spec_lower IS NULL AND m.spec_upper IS NOT NULL AND abs(m.value_numeric - m.spec_upper) "
            "<= %s * abs(m.spec_upper)) OR "
            "(m.spec_upper IS NULL AND m.spec_lower IS NOT NULL AND abs(m.value_numeric - m.spec_lower) "
            "<= %s * abs(m.spec_lower)))"
        )
        plan.conditions.append(Condition(f"t.id IN ({values_from} AND {near})", [code, share, share, share], lake=True))
    if query.date_from or query.date_to:
        start = dt.datetime.combine(query.date_from or dt.date(1, 1, 1), dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(query.date_to or dt.date(9999, 12, 30), dt.time.min, tzinfo=dt.UTC)
        if query.date_to:
            end += dt.timedelta(days=1)
        result.readings.append(
            f"open at some time from {query.date_from or 'the beginning'} to {query.date_to or 'now'} (UTC)"
        )
        plan.conditions.append(
            Condition(
                "t.released_at < %s AND (t.closed_at IS NULL OR t.closed_at >= %s)",
                [end, start],
                "a.released_at < %s AND a.closed_at >= %s",
                [end, start],
            )
        )
    return plan


LIVE_IDS = """
SELECT t.id FROM travelers_traveler t {join}
WHERE {where}
ORDER BY t.released_at DESC, t.number DESC
LIMIT %s"""

LIVE_SELECT = """
SELECT t.number, i.identifier, i.tracking, p.number, pr.revision, wo.number, s.code, t.released_at, t.closed_at,
       t.status, t.on_hold, p.name, i.id, s.time_zone, a.uri, a.disposed_at IS NOT NULL
FROM travelers_traveler t
JOIN travelers_item i ON i.id = t.item_id
JOIN masterdata_part p ON p.id = i.part_id
JOIN masterdata_partrevision pr ON pr.id = i.part_revision_id
JOIN travelers_workorder wo ON wo.id = t.work_order_id
JOIN masterdata_site s ON s.id = t.site_id
LEFT JOIN archive_archiverecord a ON a.traveler_number = t.number
WHERE t.id = ANY(%s)
ORDER BY t.released_at DESC, t.number DESC"""

ARCHIVE_SELECT = """
SELECT a.traveler_number, a.identifier, a.tracking, a.part_number, a.part_revision, a.work_order, a.site_code,
       a.released_at, a.closed_at, a.uri, a.disposed_at IS NOT NULL
FROM archive_archiverecord a
WHERE {where} AND NOT EXISTS (SELECT 1 FROM travelers_traveler lt WHERE lt.number = a.traveler_number)
ORDER BY a.released_at DESC, a.traveler_number DESC
LIMIT %s"""


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _lake_numbers(query: Query, plan: _Plan, result: SearchResult, sites: list[str]) -> list[str] | None:
    """Archived traveler numbers the lake's facts give for the value/operation/person filters; None
    when the lake could not be read (said in the completeness statement)."""
    c = result.completeness
    with c.timing(LAKE) as source:
        try:
            with lake_module.Lake() as lake:
                numbers, cut = lake.traveler_numbers(
                    operations=plan.lake_operations,
                    people=plan.lake_people,
                    out_of_spec=query.out_of_spec,
                    near=query.near,
                    sites=sites,
                    date_from=query.date_from,
                    date_to=query.date_to,
                )
                if lake.empty:
                    source.detail = "no facts archived yet"
        except lake_module.LakeUnavailable as exc:
            c.unreachable(
                LAKE,
                str(exc),
                gettext("archived travelers that only their operations, people or values would match are"),
            )
            return None
    if cut:
        c.notes.append(
            gettext(
                "The archive facts matched more than %(n)s travelers; only the first %(n)s were considered — add "
                "a site or date filter."
            )
            % {"n": lake_module.MAX_NUMBERS}
        )
    return numbers


def search(text: str | None = None, *, cursor: str | None = None, limit: int = PAGE_SIZE, **filters) -> SearchResult:
    """Search live and archived travelers; never raises for what was typed (see SearchResult.messages)."""
    query = parse(text, **filters)
    result = SearchResult(query=query, messages=list(query.problems))
    if query.refused:
        return result
    if query.is_empty:
        if not result.messages:
            result.messages.append("type or scan a serial, lot, part, work order, operation, person or NCR")
        return result
    try:
        after = decode_cursor(cursor)
    except ValueError as exc:
        result.messages.append(str(exc))
        after = None
    limit = max(1, min(int(limit or PAGE_SIZE), MAX_PAGE_SIZE))
    c = result.completeness
    for name in (LIVE, ARCHIVE_INDEX, LAKE):
        c.source(name)
    try:
        with guarded():
            with c.timing(LIVE):
                plan = _plan(query, result)
                where = [cond.live for cond in plan.conditions]
                params = [p for cond in plan.conditions for p in cond.live_params]
                if after:
                    where.append("(t.released_at, t.number) < (%s, %s)")
                    params += list(after)
                # the page's ids first (only the tables its filters need), then their details: the planner
                # neither joins details before the LIMIT nor spends time ordering seven joins
                sql = " AND ".join(where) or "true"
                join = "JOIN travelers_item i ON i.id = t.item_id" if re.search(r"\bi\.", sql) else ""
                ids = [row[0] for row in _fetch(LIVE_IDS.format(join=join, where=sql), [*params, limit + 1])]
                rows = _fetch(LIVE_SELECT, [ids]) if ids else []
            live_hits = [
                Hit(
                    "live",
                    *row[:9],
                    status=row[9],
                    on_hold=row[10],
                    part_name=row[11],
                    item_id=row[12],
                    time_zone=row[13],
                    archive_uri=row[14],
                    disposed=bool(row[15]),
                )
                for row in rows
            ]
            archive_hits = _search_archive(query, plan, result, after, limit)
    except SearchTooSlow as exc:
        result.messages.append(str(exc))
        c.sources = [s for s in c.sources if s.name == LIVE]
        c.unreachable(LIVE, gettext("stopped at the statement timeout"), gettext("every result is"))
        return result
    except DatabaseError as exc:
        reason = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"
        c.sources = [s for s in c.sources if s.name in (LIVE, ARCHIVE_INDEX)]
        c.unreachable(LIVE, reason, gettext("live travelers are"))
        c.unreachable(ARCHIVE_INDEX, reason, gettext("archived travelers are"))
        return result
    merged = sorted(live_hits + archive_hits, key=lambda h: h.key, reverse=True)
    result.hits = merged[:limit]
    if len(merged) > limit:
        result.next_cursor = encode_cursor(result.hits[-1].key)
    result.searched = True
    return result


def _search_archive(query: Query, plan: _Plan, result: SearchResult, after, limit: int) -> list[Hit]:
    c = result.completeness
    blocked = [cond.what for cond in plan.conditions if cond.archive is None and not cond.lake]
    if blocked:
        what = " or ".join(dict.fromkeys(blocked))
        c.notes.append(
            gettext("The archive index does not record the %(what)s: archived travelers were not searched by it.")
            % {"what": what}
        )
        c.source(ARCHIVE_INDEX).state = "not_needed"
        c.source(LAKE).state = "not_needed"
        return []
    conditions = [cond for cond in plan.conditions if cond.archive is not None]
    params = [p for cond in conditions for p in cond.archive_params]
    where = [cond.archive for cond in conditions]
    if query.needs_lake:
        sites = [cond for cond in plan.conditions if cond.archive == "a.site_code = ANY(%s)"]
        site_codes = sites[0].archive_params[0] if sites else []
        numbers = _lake_numbers(query, plan, result, site_codes)
        if numbers is None:
            c.drop(ARCHIVE_INDEX)  # not searched: without the facts it cannot tell which records match
            return []
        if not numbers:
            c.source(ARCHIVE_INDEX).state = "not_needed"
            return []
        where.append("a.traveler_number = ANY(%s)")
        params.append(numbers)
    else:
        c.source(LAKE).state = "not_needed"
    if after:
        where.append("(a.released_at, a.traveler_number) < (%s, %s)")
        params += list(after)
    with c.timing(ARCHIVE_INDEX):
        rows = _fetch(ARCHIVE_SELECT.format(where=" AND ".join(where) or "true"), [*params, limit + 1])
    return [Hit("archive", *row[:9], archive_uri=row[9], disposed=bool(row[10])) for row in rows]
