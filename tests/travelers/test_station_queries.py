"""Query counts of the tablet pages: the traveler screen costs the same for 5 steps as for 50, and the
station queue the same for one traveler as for many (an N+1 would show here first)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mes.masterdata import services as md
from tests.factories import PartFactory, PartRevisionFactory, release_routing
from tests.travelers.conftest import PASSWORD, do_step, step_of
from tests.travelers.support import HX, station_client
from travelers import services
from travelers.demo.pictures import tiny_png
from travelers.models import Traveler

pytestmark = pytest.mark.django_db

MAX_SCREEN_QUERIES = 25


def worked_traveler(shop, steps: int, part_number: str, worked: int) -> Traveler:
    """A released traveler of `steps` steps, each with instructions, a drawing and a value to record;
    the first `worked` done, the next in progress with a corrected value, a photo, a released hold and a
    dispositioned NCR, so every relation the screen shows is there."""
    revision = PartRevisionFactory(part=PartFactory(number=part_number), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    for n in range(1, steps + 1):
        step = md.routing_step_add(
            routing=routing,
            sequence=n * 10,
            operation=shop.ops["machining"],
            work_center=shop.wc,
            title=f"Operation {n}",
            instructions=f"Do **operation {n}**.\n\n- check\n- record",
        )
        md.step_attachment_add(
            step=step, title=f"Drawing {n}", filename=f"d{n}.png", content=tiny_png(), content_type="image/png"
        )
        md.characteristic_add(
            step=step,
            code="DIA",
            name="Diameter",
            unit="mm",
            nominal=Decimal(10),
            lower_limit=Decimal("9.9"),
            upper_limit=Decimal("10.1"),
            on_out_of_spec="warn",
        )
    release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-{part_number}", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier=f"{part_number}-SN", actor=shop.supervisor)
    for n in range(1, worked + 1):
        do_step(shop, traveler, n * 10, {"DIA": ("10.01", "mm")})
    step = services.step_start(step=step_of(traveler, (worked + 1) * 10), actor=shop.operator)
    first = services.measurement_record(step=step, characteristic="DIA", value="10.2", actor=shop.operator)
    services.measurement_correct(
        measurement=first,
        value="10.02",
        reason="misread",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    services.attachment_add(
        step=step, filename="p.png", content=tiny_png(), content_type="image/png", actor=shop.operator
    )
    hold = services.hold_place(traveler=traveler, reason="check", actor=shop.operator)
    services.hold_release(
        hold=hold, reason="checked", actor=shop.supervisor, secret=PASSWORD, username=shop.supervisor.get_username()
    )
    ncr = services.ncr_raise(traveler=traveler, description="scratch", step=step, actor=shop.operator)
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="cosmetic",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    return traveler


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "partial"])
def test_the_traveler_screen_costs_the_same_for_5_and_50_steps(shop, django_assert_num_queries, htmx):
    small = worked_traveler(shop, 5, "SMALL-1", worked=2)
    large = worked_traveler(shop, 50, "LARGE-1", worked=20)
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
