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
and what it could not (`Completeness`). Step 1 and 2 are plan.py (the filters as SQL: conditions.py);
the answer and its page marker are hits.py; this module runs the pages."""

# ruff: noqa: S608 - SQL is assembled from this module's constant fragments only; every value that comes
# from a user is a bound parameter (psycopg / DuckDB placeholders), never text in the statement.

from __future__ import annotations

import re

from django.db import DatabaseError
from django.utils.translation import gettext

from integrations.traceability import lake as lake_module

from .hits import Hit, SearchResult, decode_cursor, encode_cursor
from .plan import Plan, plan_of
from .query import Query, parse
from .sources import ARCHIVE_INDEX, LAKE, LIVE, SearchTooSlow, fetch, guarded

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

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


def _lake_numbers(query: Query, plan: Plan, result: SearchResult, sites: list[str]) -> list[str] | None:
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
                plan = plan_of(query, result)
                where = [cond.live for cond in plan.conditions]
                params = [p for cond in plan.conditions for p in cond.live_params]
                if after:
                    where.append("(t.released_at, t.number) < (%s, %s)")
                    params += list(after)
                # the page's ids first (only the tables its filters need), then their details: the planner
                # neither joins details before the LIMIT nor spends time ordering seven joins
                sql = " AND ".join(where) or "true"
                join = "JOIN travelers_item i ON i.id = t.item_id" if re.search(r"\bi\.", sql) else ""
                ids = [row[0] for row in fetch(LIVE_IDS.format(join=join, where=sql), [*params, limit + 1])]
                rows = fetch(LIVE_SELECT, [ids]) if ids else []
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


def _search_archive(query: Query, plan: Plan, result: SearchResult, after, limit: int) -> list[Hit]:
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
        rows = fetch(ARCHIVE_SELECT.format(where=" AND ".join(where) or "true"), [*params, limit + 1])
    return [Hit("archive", *row[:9], archive_uri=row[9], disposed=bool(row[10])) for row in rows]
