"""Query counts of the record path through the API: a recorded value costs at most MAX_PER_VALUE queries,
one value per request or a step's values in one request, and the same for a 5-step traveler as for a
50-step one (issue 15: anything that grows with the traveler's steps would show here first)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mes.compliance.tokens import api_token_issue
from mes.masterdata import services as md
from tests.factories import PartFactory, PartRevisionFactory, release_routing
from tests.travelers.conftest import step_of
from travelers import services
from travelers.models import Measurement, Traveler

pytestmark = pytest.mark.django_db

MAX_PER_VALUE = 6
CHARS = 5  # values per step


def traveler_of(shop, steps: int, part_number: str) -> Traveler:
    """A released traveler of `steps` steps of CHARS numeric characteristics each, its first step started."""
    revision = PartRevisionFactory(part=PartFactory(number=part_number), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    for n in range(1, steps + 1):
        step = md.routing_step_add(
            routing=routing, sequence=n * 10, operation=shop.ops["machining"], work_center=shop.wc, title=f"Op {n}"
        )
        for c in range(1, CHARS + 1):
            md.characteristic_add(
                step=step,
                code=f"D{c}",
                name=f"Diameter {c}",
                unit="mm",
                nominal=Decimal(10),
                lower_limit=Decimal("9.9"),
                upper_limit=Decimal("10.1"),
                on_out_of_spec="warn",
            )
    release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-{part_number}", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier=f"{part_number}-SN", actor=shop.supervisor)
    services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    return traveler


def bearer(shop) -> Client:
    """A tablet with the operator's API token (what the bench's tablets and integrations use)."""
    _, key = api_token_issue(user=shop.operator, name="tablet")
    return Client(headers={"Authorization": f"Bearer {key}"})


def record_one(client: Client, traveler: Traveler, code: str) -> list[str]:
    """Record one value; the SQL it took."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            f"/api/travelers/{traveler.number}/steps/10/measurements",
            {"characteristic": code, "value": "10.002", "unit": "mm"},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    return [q["sql"] for q in ctx.captured_queries]


def record_batch(client: Client, traveler: Traveler) -> list[str]:
    """Record the first step's CHARS values in one request; the SQL it took."""
    values = [{"characteristic": f"D{c}", "value": "10.002", "unit": "mm"} for c in range(1, CHARS + 1)]
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            f"/api/travelers/{traveler.number}/steps/10/measurements/batch",
            {"values": values},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    return [q["sql"] for q in ctx.captured_queries]


def _show(label: str, queries: list[str]) -> None:
    if os.environ.get("SHOW_QUERIES"):
        print(f"\n--- {label}: {len(queries)} queries ---")
        for q in queries:
            print(" ", q)


@pytest.mark.parametrize("steps", [5, 50])
def test_one_value_per_request(shop, steps):
    traveler = traveler_of(shop, steps, f"P{steps}")
    client = bearer(shop)
    record_one(client, traveler, "D1")  # warm (the token's last use is stamped once a minute)
    queries = record_one(client, traveler, "D2")
    _show(f"one value, {steps} steps", queries)
    assert len(queries) <= MAX_PER_VALUE, queries
    assert Measurement.objects.filter(step__traveler=traveler).count() == 2


@pytest.mark.parametrize("steps", [5, 50])
def test_a_steps_values_in_one_request(shop, steps):
    traveler = traveler_of(shop, steps, f"P{steps}")
    client = bearer(shop)
    queries = record_batch(client, traveler)
    _show(f"batch of {CHARS}, {steps} steps", queries)
    assert len(queries) / CHARS <= MAX_PER_VALUE, queries
    assert Measurement.objects.filter(step__traveler=traveler).count() == CHARS


def test_the_count_does_not_grow_with_the_steps(shop):
    short, long = traveler_of(shop, 5, "SHORT"), traveler_of(shop, 50, "LONG")
    client = bearer(shop)
    record_one(client, short, "D1")
    record_one(client, long, "D1")
    assert len(record_one(client, short, "D2")) == len(record_one(client, long, "D2"))
    short2, long2 = traveler_of(shop, 5, "SHORT2"), traveler_of(shop, 50, "LONG2")
    assert len(record_batch(client, short2)) == len(record_batch(client, long2))
