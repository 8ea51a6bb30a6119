"""The traceability pages, API and CLI over the shop of trace_support: who may search, queries that do
not grow with the results or the tree, the recall CSV, the archived trace page, the API's search,
trace and recall, and the `trace` command."""

from __future__ import annotations

import csv
import io

from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.integrations import trace_support
from tests.travelers import conftest as travelers_conftest
from travelers.models import Item

shop, trace_shop = travelers_conftest.shop, trace_support.trace_shop  # the fixtures


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
