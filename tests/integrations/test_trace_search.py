"""Traceability search (integrations.traceability.selectors.search) over the shop of trace_support: each
word and filter finds what it should, pages follow by keyset, an unreachable or failing lake and a
search that runs too long are said; the query parser reads keys, phrases and filters."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from integrations.traceability.lake import Lake
from integrations.traceability.selectors import conditions, genealogy, search, sources
from integrations.traceability.selectors.query import parse
from mes.masterdata.models import Part
from tests.integrations import trace_support
from tests.integrations.trace_support import numbers
from tests.travelers import conftest as travelers_conftest

shop, trace_shop = travelers_conftest.shop, trace_support.trace_shop  # the fixtures


# --- Search --------------------------------------------------------------------------------------------


def test_a_scanned_serial_finds_its_unit_and_nothing_else(trace_shop):
    result = search.search("SA-1")
    assert numbers(result) == ["SA-1"]
    hit = result.hits[0]
    assert hit.source == "live" and hit.traveler_number == trace_shop.sa1.number
    assert hit.archive_uri.endswith(f"{trace_shop.sa1.number}.tar")  # archived too: its package is linked
    assert hit.print_url == reverse("travelers:traveler_print", args=[trace_shop.sa1.number])
    assert result.readings == ["SA-1: serial/lot number"]
    statement = result.completeness.statement
    assert statement.startswith("Searched: live database (") and "archive index (" in statement
    assert result.completeness.complete


def test_another_sites_alias_finds_the_operation_at_every_site_and_in_the_archive(trace_shop):
    # Coat1 is Toulouse's code for coating: it finds the lot coated at WIC (where it is CT1) too, and the
    # archived traveler whose facts name coating by WIC's alias
    for text in ("op:Coat1", "Coat1", "op:ct1", "op:COATING"):
        result = search.search(text)
        assert numbers(result) == ["L-100", "OLD-77", "SA-1", "SA-2"], text
        assert result.completeness.complete
    archived = next(h for h in search.search("op:Coat1").hits if h.identifier == "OLD-77")
    assert archived.source == "archive" and archived.trace_url == reverse("traceability:archived", args=["T-9000001"])
    assert "CT1@WIC" in search.search("op:Coat1").readings[0]


def test_an_archived_unit_is_found_through_the_archive_index(trace_shop):
    result = search.search("OLD-77")
    assert [(h.source, h.traveler_number) for h in result.hits] == [("archive", "T-9000001")]
    assert search.search("part:ASM-1").hits[0].identifier == "A-1"
    assert numbers(search.search("part:asm-1")) == ["A-1", "OLD-77"]
    assert numbers(search.search("wo:WO-OLD")) == ["OLD-77"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("wo:WO-S", ["SA-1", "SA-2"]),
        ("WO-A", ["A-1"]),
        ("part:SUB-1 rev:B", ["SA-1", "SA-2"]),
        ("part:SUB-1 rev:A", []),
        ("site:TLS", ["SA-1", "SA-2"]),
        ("wc:PAINT-2", ["SA-1", "SA-2"]),
        ("wc:TLS/PAINT-2 SA-2", ["SA-2"]),
        ("by:oscar", ["A-1"]),
        ("by:ines", ["L-100", "SA-1", "SA-2"]),
        ('by:"Oscar Smith"', ["A-1"]),
        ("THICK out of spec", ["OLD-77", "SA-2"]),
        ("oos:THICK site:TLS", ["SA-2"]),
        ("THICK within 5% of limit", ["OLD-77", "SA-1"]),
        ("near:THICK:1", []),
        ("SA-*", ["SA-1", "SA-2"]),
        ("L-10", ["L-100"]),
        ("zzz-nothing", []),
        ("from:2015-03-01 to:2015-03-31", ["OLD-77"]),
        ("to:2015-02-28", []),
        ("SA-1 site:WIC", []),
    ],
)
def test_each_filter_finds_what_it_should_and_nothing_else(trace_shop, text, expected):
    assert numbers(search.search(text)) == expected


def test_people_and_ncrs_are_found_by_badge_and_number(trace_shop):
    badge = trace_shop.shop.operator2.profile.employee_number
    assert numbers(search.search(f"by:{badge}")) == ["A-1"]
    assert numbers(search.search(trace_shop.ncr.number)) == ["A-1"]
    result = search.search(f"ncr:{trace_shop.ncr.number}")
    assert numbers(result) == ["A-1"]
    assert "does not record the NCR number" in result.completeness.statement


@pytest.mark.parametrize("busy_from", [1, 2_000])
def test_people_are_found_alike_busy_or_not(trace_shop, monkeypatch, busy_from):
    # a busy signer's travelers are probed along the keyset order; a rare one's are collected first
    monkeypatch.setattr(conditions, "BUSY_SIGNER", busy_from)
    assert numbers(search.search("by:ines")) == ["L-100", "SA-1", "SA-2"]
    assert numbers(search.search("by:oscar")) == ["A-1"]
    assert numbers(search.search("by:olga site:TLS")) == ["SA-1", "SA-2"]


def test_pages_follow_by_keyset_without_repeats(trace_shop):
    seen, cursor = [], None
    for _ in range(10):
        page = search.search("op:COATING", cursor=cursor, limit=1)
        seen += [h.identifier for h in page.hits]
        cursor = page.next_cursor
        if not cursor:
            break
    assert sorted(seen) == ["L-100", "OLD-77", "SA-1", "SA-2"] and len(seen) == 4


def test_a_word_too_short_for_a_partial_match_is_said(trace_shop):
    result = search.search("Q9")
    assert result.hits == [] and "at least 3 characters" in result.messages[0]


def test_an_unreachable_lake_is_said_in_the_statement(trace_shop, settings, tmp_path):
    settings.DATA_LAKE_URL = str(tmp_path / "not-mounted")
    result = search.search("op:CT1")
    assert numbers(result) == ["L-100", "SA-1", "SA-2"]  # the live answer still comes
    assert not result.completeness.complete
    statement = result.completeness.statement
    assert "archive value facts (data lake) NOT reachable" in statement and "missing from this answer" in statement
    # a search that needs no facts is complete without the lake
    assert search.search("OLD-77").completeness.complete
    trace = genealogy.trace_archived("T-9000001")
    assert trace.values == [] and "NOT reachable" in trace.completeness.statement


def test_a_lake_reader_that_raises_is_said_too(trace_shop, monkeypatch):
    def broken(self):
        raise OSError("connection reset by the object store")

    monkeypatch.setattr(Lake, "_open", broken)
    result = search.search("THICK out of spec")
    assert numbers(result) == ["SA-2"]
    assert "NOT reachable (OSError: connection reset by the object store)" in result.completeness.statement


def test_a_search_that_runs_too_long_is_stopped_and_said(db, monkeypatch):
    monkeypatch.setattr(sources, "STATEMENT_TIMEOUT", "10ms")
    with pytest.raises(sources.SearchTooSlow, match="took longer than 10ms"):
        with sources.guarded():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(1)")


def test_parse_reads_keys_phrases_and_filters():
    q = parse('SN-1 part:HSG-1 op:"Coat 1" BORE_DIA within 2.5% of limit TORQUE out of spec', site="WIC")
    assert q.terms == ["SN-1"] and q.part == ["HSG-1"] and q.operation == ["Coat 1"] and q.site == ["WIC"]
    assert q.near == [("BORE_DIA", Decimal("2.5"))] and q.out_of_spec == ["TORQUE"]
    assert parse("from:yesterday").problems == ["from:yesterday is not a date; write it as YYYY-MM-DD"]
    assert Part.Tracking.LOT == "lot"  # the fixture's lot part
