"""The traceability search in the JSON API, under /api/trace/ (mounted by mes.api).

Same selectors as the pages, same answers: results in keyset pages (`next_cursor`; nothing is
counted), how the words were read, what could not be used, and the completeness statement. Whatever is
typed in `q`, the answer is 200 with results or a message; a malformed `limit` is a 422 like any other
API input. Needs travelers.view_traveler."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import Field, Query, Router, Schema

from .selectors import genealogy, recall, search
from .selectors.query import clean_text

router = Router(tags=["traceability"])


class CompletenessOut(Schema):
    complete: bool = Field(description="False when a source could not be reached.")
    statement: str = Field(description="Which sources were searched, and any that could not be reached.")
    sources: list[dict]
    notes: list[str]


class SearchOut(Schema):
    results: list[dict]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")
    readings: list[str] = Field(description="How each word of the search was read.")
    messages: list[str] = Field(description="What could not be used, and why.")
    completeness: CompletenessOut


class TraceOut(Schema):
    root: dict | None
    archived_only: bool
    depth_limit: int
    down: list[dict]
    up: list[dict]
    values: list[dict]
    signatures: list[dict]
    messages: list[str]
    completeness: CompletenessOut


class CandidatesOut(Schema):
    candidates: list[dict] = Field(description="Several units or lots carry that number: name the part.")
    messages: list[str]


class RecallOut(Schema):
    suspects: list[str]
    total: int
    per_site: list[dict]
    units: list[dict]
    next_cursor: str | None
    messages: list[str]
    completeness: CompletenessOut


def _require_view(request) -> None:
    if not request.auth.has_perm("travelers.view_traveler"):
        raise PermissionDenied(f"{request.auth.get_username()} is not allowed to view travelers")


class SearchParams(Schema):
    q: str = Field("", description="The search box: a serial or lot, or the query language (docs/traceability.md).")
    site: str = ""
    part: str = ""
    op: str = Field("", description="An operation code, name or any site's alias of it.")
    by: str = Field("", description="A person: username, badge or printed name.")
    date_from: str = Field("", alias="from", description="YYYY-MM-DD (UTC)")
    date_to: str = Field("", alias="to", description="YYYY-MM-DD (UTC)")
    cursor: str = ""
    limit: int = Field(search.PAGE_SIZE, ge=1, le=search.MAX_PAGE_SIZE)


@router.get("/search", response=SearchOut)
def trace_search(request, params: Query[SearchParams]):
    """Find live and archived travelers by serial, lot, work order, part, revision, operation (or
    alias), person, work center, site, dates, NCR or measured value."""
    _require_view(request)
    result = search.search(
        params.q,
        cursor=params.cursor or None,
        limit=params.limit,
        site=params.site,
        part=params.part,
        op=params.op,
        by=params.by,
        **{"from": params.date_from, "to": params.date_to},
    )
    return {
        "results": [hit.as_dict() for hit in result.hits],
        "next_cursor": result.next_cursor,
        "readings": result.readings,
        "messages": result.messages,
        "completeness": result.completeness.as_dict(),
    }


@router.get("/items/{item_id}", response={200: TraceOut})
def trace_item(request, item_id: int, depth: int = genealogy.DEFAULT_DEPTH):
    """A unit's or lot's genealogy down and up, with the values and signers of its travelers."""
    _require_view(request)
    trace = genealogy.trace_item(item_id, depth=depth)
    if trace is None:
        raise Http404(f"there is no unit or lot {item_id}")
    return trace.as_dict()


@router.get("/archived/{number}", response={200: TraceOut})
def trace_archived(request, number: str):
    """An archived traveler (no longer in the live database): its record, values from the data lake,
    and where its unit went if that unit is still known."""
    _require_view(request)
    trace = genealogy.trace_archived(clean_text(number)[:30])
    if trace is None:
        raise Http404(f"there is no archived traveler {clean_text(number)[:30]}")
    return trace.as_dict()


@router.get("/unit", response={200: TraceOut | CandidatesOut})
def trace_unit(request, identifier: str, part: str = ""):
    """The trace of a serial or lot number (a scan): live first, else archived; several matches are
    listed as candidates to choose from by part number."""
    _require_view(request)
    identifier, part = clean_text(identifier)[:100], clean_text(part)[:100]
    live = genealogy.items_by_identifier(identifier, part or None) if identifier else []
    if len(live) == 1:
        return genealogy.trace_item(live[0][0]).as_dict()
    archived = genealogy.archived_by_identifier(identifier, part or None) if identifier and not live else []
    if not live and len(archived) == 1:
        return genealogy.trace_archived(archived[0][0]).as_dict()
    candidates = [{"item_id": i, "part": p, "tracking": t, "traveler": n, "archived": False} for i, p, t, n in live]
    candidates += [{"item_id": None, "part": p, "traveler": n, "archived": True} for n, p in archived]
    message = (
        "several units or lots carry that number: name the part"
        if candidates
        else (f"no unit or lot {identifier} is known, live or archived")
    )
    return CandidatesOut(candidates=candidates, messages=[message])


class RecallParams(Schema):
    lot: str = Field("", description="The suspect lot (or serial) number.")
    part: str = Field("", description="Its part number, when the number is not unique.")
    characteristic: str = Field("", description="Or: a characteristic code measured in the time window.")
    date_from: dt.date | None = Field(None, alias="from")
    date_to: dt.date | None = Field(None, alias="to")
    out_of_spec_only: bool = False
    cursor: str = ""
    limit: int = Field(recall.PAGE_SIZE, ge=1, le=1000)


@router.get("/recall", response=RecallOut)
def trace_recall(request, params: Query[RecallParams]):
    """Every finished unit a suspect lot went into (or units measured in a window), with counts per
    site over the whole recall."""
    _require_view(request)
    result = recall.recall(
        lot=params.lot,
        part=params.part,
        characteristic=params.characteristic,
        date_from=params.date_from,
        date_to=params.date_to,
        out_of_spec_only=params.out_of_spec_only,
        cursor=params.cursor or None,
        limit=params.limit,
    )
    return result.as_dict()
