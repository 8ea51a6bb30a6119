"""Query counts of the record path through the station's own pages (issue 15): a value posted from the
traveler screen (session auth, htmx) costs PER_REQUEST queries, the screen it answers included, the same
for a 5-step traveler as for a 50-step one.

What the PER_REQUEST are, in a test's transaction (where a transaction shows as SAVEPOINT/RELEASE):
the session; the user with their profile and permissions (mes.compliance.backends); the tablet's work
center; the step; the service's two round trips inside its savepoint (4); the screen it answers — the
traveler, the step, holds, NCRs, characteristics, values, attachments, components, work-center
overrides, the step's instructions, whether the signing session continues (11); saving the session,
which holds the idle lock's "last seen" (3)."""

from __future__ import annotations

import os

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.travelers.conftest import step_of
from tests.travelers.support import HX, station_client
from tests.travelers.test_record_queries import CHARS, traveler_of
from travelers.models import Measurement, Traveler

pytestmark = pytest.mark.django_db

PER_REQUEST = 22


def record_one(client: Client, traveler: Traveler, code: str) -> list[str]:
    """Post one value from the traveler screen, as the tablet's htmx does; the SQL it took."""
    step = step_of(traveler, 10)
    char = step.characteristics.get(code=code)
    url = f"/station/travelers/{traveler.number}/steps/10/values/{char.pk}/"
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, {"value": "10.002", "unit": "mm", "expected_version": step.version}, **HX)
    assert response.status_code == 200, response.content
    assert "recorded: 10.002 mm — in spec." in response.content.decode()
    return [q["sql"] for q in ctx.captured_queries]


def record_form(client: Client, traveler: Traveler) -> list[str]:
    """Save the first step's form at once (its CHARS values); the SQL it took."""
    step = step_of(traveler, 10)
    data: dict[str, object] = {"expected_version": step.version}
    for char in step.characteristics.all():
        data[f"c{char.pk}-value"], data[f"c{char.pk}-unit"] = "10.002", "mm"
    url = f"/station/travelers/{traveler.number}/steps/10/values/"
    with CaptureQueriesContext(connection) as ctx:
        response = client.post(url, data, **HX)
    assert response.status_code == 200, response.content
    assert f"{CHARS} values recorded." in response.content.decode()
    return [q["sql"] for q in ctx.captured_queries]


def _show(label: str, queries: list[str]) -> None:
    if os.environ.get("SHOW_QUERIES"):
        print(f"\n--- {label}: {len(queries)} queries ---")
        for q in queries:
            print(" ", q[:200])


@pytest.mark.parametrize("steps", [5, 50])
def test_one_value_from_the_station(shop, steps):
    traveler = traveler_of(shop, steps, f"P{steps}")
    client = station_client(shop.operator)
    record_one(client, traveler, "D1")
    queries = record_one(client, traveler, "D2")
    _show(f"one value, {steps} steps", queries)
    assert len(queries) == PER_REQUEST, queries
    # the user's profile and permissions came with the user, and the value is not read back
    assert not [q for q in queries if q.startswith(('SELECT "compliance_profile"', '(SELECT "django_content_type"'))]
    assert len([q for q in queries if q.startswith('SELECT "travelers_measurement"')]) == 1  # the screen's
    assert Measurement.objects.filter(step__traveler=traveler).count() == 2


def test_the_stations_count_does_not_grow_with_the_steps(shop):
    short, long = traveler_of(shop, 5, "SHORT"), traveler_of(shop, 50, "LONG")
    client = station_client(shop.operator)
    record_one(client, short, "D1")
    record_one(client, long, "D1")
    assert len(record_one(client, short, "D2")) == len(record_one(client, long, "D2")) == PER_REQUEST
    short2, long2 = traveler_of(shop, 5, "SHORT2"), traveler_of(shop, 50, "LONG2")
    assert len(record_form(client, short2)) == len(record_form(client, long2))
