"""A value entered in another unit than its spec's is shown with both: as entered, and as converted into the
spec's unit (what was judged) — on the tablet, in quality's review, in the printed copy and in a trace.
One function says how (travelers.records.value_in_units)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.travelers.conftest import step_of
from tests.travelers.support import station_client, step_path, text
from travelers import services
from travelers.records import value_in_units


@pytest.mark.parametrize(
    ("entered", "unit", "value", "spec_unit", "decimals", "shown"),
    [
        ("1.5", "in", Decimal("38.1"), "mm", 3, "1.5 in → 38.100 mm"),
        ("0.5", "in", "12.700000", "mm", 2, "0.5 in → 12.70 mm"),
        ("12.701", "mm", Decimal("12.701"), "mm", 3, "12.701 mm"),
        ("12.701", "", Decimal("12.701"), "mm", 3, "12.701 mm"),
        ("25", "N*m", Decimal(25), "N*m", 1, "25 N·m"),  # the unit as printed on a drawing
        ("2", "um", Decimal("0.002"), "mm", 3, "2 µm → 0.002 mm"),
        ("pass", "", None, "", 0, "pass"),
        ("3", "", Decimal(3), "", 0, "3"),
        ("burr", "", None, "mm", 3, "burr"),
    ],
)
def test_a_value_is_shown_as_entered_and_as_converted(entered, unit, value, spec_unit, decimals, shown):
    assert value_in_units(entered, unit, value, spec_unit, decimals) == shown


@pytest.fixture
def in_inches(shop, traveler):
    """Step 10's bore (a millimetre spec) recorded in inches."""
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="0.5", unit="in", actor=shop.operator)
    return traveler


@pytest.mark.django_db
def test_the_tablet_shows_both_units(shop, in_inches):
    page = text(station_client(shop.operator).get(step_path(in_inches, 10)))
    assert "0.5 in → 12.700 mm In spec" in page


@pytest.mark.django_db
def test_the_recorded_notice_shows_both_units(shop, traveler):
    tablet = station_client(shop.operator)
    tablet.post(step_path(traveler, 10, "start/"), {"expected_version": step_of(traveler, 10).version})
    char = step_of(traveler, 10).characteristics.get(code="BORE_DIA").pk
    response = tablet.post(
        step_path(traveler, 10, f"values/{char}/"),
        {"value": "0.5", "unit": "in", "expected_version": step_of(traveler, 10).version},
        follow=True,
    )
    assert "Bore diameter recorded: 0.5 in → 12.700 mm — in spec." in text(response)


@pytest.mark.django_db
def test_review_print_and_trace_show_both_units(shop, in_inches, client):
    client.force_login(shop.inspector)
    assert "0.5 in → 12.700 mm" in text(client.get(f"/quality/travelers/{in_inches.number}/"))
    assert "0.5 in → 12.700 mm" in text(client.get(f"/travelers/{in_inches.number}/print/"))
    assert "0.5 in → 12.700 mm" in text(client.get(f"/trace/items/{in_inches.item_id}/"))
