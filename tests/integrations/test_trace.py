"""Traceability search, genealogy, recall, pages, API and CLI (integrations.traceability), on the
two-site shop of trace_support.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.traceability.selectors import genealogy, recall, search, sources
from integrations.traceability.selectors.query import parse
from mes.masterdata.models import Part
from tests.integrations import trace_support
from tests.travelers import conftest as travelers_conftest
from travelers.models import Item

shop = travelers_conftest.shop
trace_shop = trace_support.trace_shop


def numbers(result):
    return sorted(h.identifier for h in result.hits)


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
    monkeypatch.setattr(search, "BUSY_SIGNER", busy_from)
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
    from integrations.traceability import lake

    def broken(self):
        raise OSError("connection reset by the object store")

    monkeypatch.setattr(lake.Lake, "_open", broken)
    result = search.search("THICK out of spec")
    assert numbers(result) == ["SA-2"]
    assert "NOT reachable (OSError: connection reset by the object store)" in result.completeness.statement


def test_a_search_that_runs_too_long_is_stopped_and_said(db, monkeypatch):
    monkeypatch.setattr(sources, "STATEMENT_TIMEOUT", "10ms")
    with pytest.raises(sources.SearchTooSlow, match="took longer than 10ms"):
        with sources.guarded():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_sleep(1)")


# --- Genealogy -----------------------------------------------------------------------------------------


def _labels(nodes, depth=0):
    out = []
    for node in nodes:
        out.append(("  " * depth) + node.identifier)
        out += _labels(node.children, depth + 1)
    return out


def test_the_genealogy_goes_three_levels_down_and_up(trace_shop):
    asm_item = Item.objects.get(identifier="A-1")
    trace = genealogy.trace_item(asm_item.pk)
    assert _labels(trace.down) == ["SA-1", "  L-100"] and trace.up == []
    assert trace.down[0].archive_uri and trace.down[0].traveler_number == trace_shop.sa1.number
    assert trace.down[0].children[0].consumed_quantity == Decimal("5")
    # values and signers of the whole as-built record: A-1's, SA-1's and L-100's travelers
    assert {(v.traveler, v.code, v.value) for v in trace.values} == {
        (trace_shop.sa1.number, "THICK", "39.5"),
        (trace_shop.lot.number, "THICK", "30"),
    }
    assert {s.printed_name for s in trace.signatures} >= {"Olga Smith", "Ines Smith"}
    lot_trace = genealogy.trace_item(Item.objects.get(identifier="L-100").pk)
    assert sorted(_labels(lot_trace.up)) == sorted(["SA-1", "  A-1", "SA-2"])
    assert lot_trace.down == []
    assert lot_trace.completeness.complete


def test_the_depth_limit_is_said(trace_shop):
    trace = genealogy.trace_item(Item.objects.get(identifier="L-100").pk, depth=1)
    assert sorted(_labels(trace.up)) == ["SA-1", "SA-2"]
    assert "the tree up reaches the depth limit (1 levels)" in trace.messages


def test_an_archived_traveler_is_traced_from_its_record_and_the_lake(trace_shop):
    trace = genealogy.trace_archived("T-9000001")
    assert trace.archived_only and trace.root.identifier == "OLD-77"
    assert [(v.code, v.value, v.judgment, v.operation_alias) for v in trace.values] == [
        ("THICK", "41", "out_of_spec", "CT1")
    ]
    assert trace.completeness.complete


# --- Recall --------------------------------------------------------------------------------------------


def test_a_recall_over_a_lot_finds_every_finished_unit_with_counts_per_site(trace_shop):
    result = recall.recall(lot="L-100")
    assert result.per_site == [("TLS", 1), ("WIC", 1)] and result.total == 2
    assert sorted((u.identifier, u.site_code, u.depth) for u in result.units) == [("A-1", "WIC", 2), ("SA-2", "TLS", 1)]
    a1 = next(u for u in result.units if u.identifier == "A-1")
    assert a1.via == ["BUSH-1 lot L-100", "SUB-1 S/N SA-1", "ASM-1 S/N A-1"]
    assert "(40 of 50 not consumed)" in result.suspects[0]
    assert recall.recall(lot="L-100", part="PIN-1").total == 0
    page = recall.recall(lot="L-100", limit=1)
    assert len(page.units) == 1 and page.next_cursor and page.total == 2
    assert len(recall.recall(lot="L-100", limit=1, cursor=page.next_cursor).units) == 1


def test_a_recall_by_characteristic_and_window_includes_archived_units(trace_shop):
    result = recall.recall(characteristic="THICK", out_of_spec_only=True)
    assert sorted((u.identifier, u.source) for u in result.units) == [("OLD-77", "archive"), ("SA-2", "live")]
    assert result.per_site == [("TLS", 1), ("WIC", 1)]
    window = recall.recall(characteristic="THICK", date_from=dt.date(2015, 3, 1), date_to=dt.date(2015, 3, 31))
    assert [u.identifier for u in window.units] == ["OLD-77"]


# --- Pages, API, CLI -----------------------------------------------------------------------------------


def test_pages_need_a_login_and_operators_may_search(client, trace_shop, django_user_model):
    url = reverse("traceability:search")
    assert client.get(url, {"q": "SA-1"}).status_code == 302
    client.force_login(django_user_model.objects.create_user("visitor", password="x-Visitor-pass-1"))
    assert client.get(url, {"q": "SA-1"}).status_code == 403
    client.force_login(trace_shop.shop.operator)
    response = client.get(url, {"q": "SA-1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert trace_shop.sa1.number in html and "Searched: live database" in html
    assert reverse("traceability:item", args=[trace_shop.sa1.item_id]) in html


def test_search_page_queries_do_not_grow_with_results(client, trace_shop, django_assert_max_num_queries):
    client.force_login(trace_shop.shop.operator)
    url = reverse("traceability:search")
    counts = []
    for text in ("by:oscar", "by:olga"):  # one result, then three
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, {"q": text}).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_trace_page_queries_do_not_grow_with_the_tree(client, trace_shop):
    client.force_login(trace_shop.shop.operator)
    counts = []
    for identifier in ("SA-2", "A-1"):  # one level down, then two
        item = Item.objects.get(identifier=identifier)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("traceability:item", args=[item.pk]))
        assert response.status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    html = response.content.decode()
    assert "L-100" in html and "Searched: live database" in html


def test_recall_page_and_csv_export(client, trace_shop):
    client.force_login(trace_shop.shop.operator)
    response = client.get(reverse("traceability:recall"), {"lot": "L-100"})
    assert response.status_code == 200 and "2 affected units" in response.content.decode()
    export = client.get(reverse("traceability:recall_csv"), {"lot": "L-100"})
    text = b"".join(export.streaming_content).decode()
    assert "# units at site,TLS,1" in text and "# units at site,WIC,1" in text
    assert "WIC,ASM-1,A,A-1,serial" in text and "TLS,SUB-1,B,SA-2,serial" in text
    first = next(csv.reader(io.StringIO(text)))
    assert first[0] == "# completeness" and first[1].startswith("Searched: live database")


def test_archived_trace_page_links_the_package(client, trace_shop):
    client.force_login(trace_shop.shop.operator)
    response = client.get(reverse("traceability:archived", args=["T-9000001"]))
    assert response.status_code == 200 and "OLD-77" in response.content.decode()
    assert client.get(reverse("traceability:archived", args=["T-404"])).status_code == 404


def test_api_search_trace_and_recall(client, trace_shop):
    client.force_login(trace_shop.shop.operator)
    body = client.get("/api/trace/search", {"q": "Coat1", "limit": 2}).json()
    assert len(body["results"]) == 2 and body["next_cursor"]
    assert body["completeness"]["complete"] and body["completeness"]["statement"].startswith("Searched:")
    more = client.get("/api/trace/search", {"q": "Coat1", "cursor": body["next_cursor"]}).json()
    assert len(more["results"]) == 2 and not more["next_cursor"]
    site = client.get("/api/trace/search", {"q": "THICK out of spec", "site": "TLS"}).json()
    assert [r["serial_or_lot"] for r in site["results"]] == ["SA-2"]
    unit = client.get("/api/trace/unit", {"identifier": "A-1"}).json()
    assert unit["down"][0]["serial_or_lot"] == "SA-1" and unit["down"][0]["children"][0]["serial_or_lot"] == "L-100"
    archived = client.get("/api/trace/unit", {"identifier": "OLD-77"}).json()
    assert archived["archived_only"] and archived["values"][0]["judgment"] == "out_of_spec"
    body = client.get("/api/trace/recall", {"lot": "L-100"}).json()
    assert body["total"] == 2 and {s["site"] for s in body["per_site"]} == {"TLS", "WIC"}
    client.logout()
    assert client.get("/api/trace/search", {"q": "A-1"}).status_code == 401


def test_cli_prints_the_trace_and_the_statement(trace_shop):
    out = io.StringIO()
    call_command("trace", "SA-1", stdout=out)
    text = out.getvalue()
    assert "SUB-1 rev B S/N SA-1" in text and "└─ BUSH-1 rev A lot L-100" in text and "└─ ASM-1 rev A S/N A-1" in text
    assert "THICK = 39.5 um" in text and "Olga Smith — performed" in text and "Ines Smith — approved" in text
    assert "Searched: live database" in text
    out = io.StringIO()
    call_command("trace", "OLD-77", stdout=out)
    assert "THICK = 41 um" in out.getvalue() and "archived package" in out.getvalue()


def test_parse_reads_keys_phrases_and_filters():
    q = parse('SN-1 part:HSG-1 op:"Coat 1" BORE_DIA within 2.5% of limit TORQUE out of spec', site="WIC")
    assert q.terms == ["SN-1"] and q.part == ["HSG-1"] and q.operation == ["Coat 1"] and q.site == ["WIC"]
    assert q.near == [("BORE_DIA", Decimal("2.5"))] and q.out_of_spec == ["TORQUE"]
    assert parse("from:yesterday").problems == ["from:yesterday is not a date; write it as YYYY-MM-DD"]
    assert Part.Tracking.LOT == "lot"  # the fixture's lot part
