"""The JSON API's reads fire a fixed number of queries, whatever the length of a traveler or a queue."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.travelers.conftest import step_of
from tests.travelers.support import client_for, get, long_traveler
from travelers import services

pytestmark = pytest.mark.django_db


def test_traveler_detail_queries_do_not_grow_with_its_steps(shop, django_assert_num_queries):
    small = long_traveler(shop, 5, "SMALL-1", worked=2)
    large = long_traveler(shop, 50, "LARGE-1", worked=20)
    olga = client_for(shop.operator)
    get(olga, f"/travelers/{small.number}")  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as small_queries:
        r = get(olga, f"/travelers/{small.number}")
    assert r.status_code == 200 and len(r.json()["steps"]) == 5
    with django_assert_num_queries(len(small_queries.captured_queries)):
        r = get(olga, f"/travelers/{large.number}")
    body = r.json()
    assert r.status_code == 200 and len(body["steps"]) == 50
    assert sum(len(s["measurements"]) for s in body["steps"]) == 22
    assert len(body["holds"]) == 2 and len(body["ncrs"]) == 1


def test_work_center_queue_queries_do_not_grow_with_its_travelers(shop, django_assert_num_queries):
    olga = client_for(shop.operator)
    services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    get(olga, "/work-centers/WIC/CELL-1/travelers")
    with CaptureQueriesContext(connection) as one:
        assert len(get(olga, "/work-centers/WIC/CELL-1/travelers").json()["travelers"]) == 1
    for n in range(2, 6):
        t = services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
        services.step_start(step=step_of(t, 10), actor=shop.operator)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(get(olga, "/work-centers/WIC/CELL-1/travelers").json()["travelers"]) == 5
