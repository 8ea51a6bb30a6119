"""Query counts of the tablet pages: the traveler screen costs the same for 5 steps as for 50, and the
station queue the same for one traveler as for many (an N+1 would show here first)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.travelers.conftest import step_of
from tests.travelers.support import HX, long_traveler, station_client
from travelers import services

pytestmark = pytest.mark.django_db

MAX_SCREEN_QUERIES = 25


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "partial"])
def test_the_traveler_screen_costs_the_same_for_5_and_50_steps(shop, django_assert_num_queries, htmx):
    small = long_traveler(shop, 5, "SMALL-1", worked=2, drawings=True)
    large = long_traveler(shop, 50, "LARGE-1", worked=20, drawings=True)
    client = station_client(shop.operator)
    headers = HX if htmx else {}
    client.get(f"/station/travelers/{small.number}/", **headers)  # warm per-process caches
    with CaptureQueriesContext(connection) as small_queries:
        response = client.get(f"/station/travelers/{small.number}/", **headers)
    assert response.status_code == 200 and b"Operation 3" in response.content
    assert len(small_queries.captured_queries) <= MAX_SCREEN_QUERIES
    with django_assert_num_queries(len(small_queries.captured_queries)):
        response = client.get(f"/station/travelers/{large.number}/", **headers)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Operation 50" in body and "10.02" in body and 'class="superseded"' in body and "Drawing 21" in body


def test_the_station_queue_costs_the_same_for_one_traveler_and_many(shop, django_assert_num_queries):
    services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    client = station_client(shop.operator)
    client.get("/")
    with CaptureQueriesContext(connection) as one:
        assert client.get("/").content.count(b'class="big-link"') == 1
    for n in range(2, 6):
        t = services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
        services.step_start(step=step_of(t, 10), actor=shop.operator)
        if n == 3:
            services.hold_place(traveler=t, reason="check", actor=shop.operator)
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get("/").content.count(b'class="big-link"') == 5
    with CaptureQueriesContext(connection) as polled:
        client.get("/station/queue/", **HX)
    assert len(polled.captured_queries) <= len(one.captured_queries)
