"""The station screen saves a step's form at once: every value typed in the step's rows, in one request
and one transaction; a refused value shows its error beside its field and nothing is saved."""

from __future__ import annotations

import pytest

from mes.compliance.models import AuditEvent
from tests.travelers.support import HX, char_id, started, station_client, step_path, text
from travelers.models import Measurement

pytestmark = pytest.mark.django_db


def typed(traveler, **values):
    """{"BORE_DIA": ("12.701", "mm")} as the step form sends it: c<characteristic id>-value / -unit."""
    data = {}
    for code, (value, unit) in values.items():
        pk = char_id(traveler, 10, code)
        data[f"c{pk}-value"], data[f"c{pk}-unit"] = value, unit
    return data


def test_the_screen_offers_to_save_the_steps_values_at_once(shop, traveler):
    started(shop, traveler)
    page = station_client(shop.operator).get(step_path(traveler, 10))
    html = page.content.decode()
    assert "data-step-values" in html and step_path(traveler, 10, "values/") in html
    assert f'data-char="{char_id(traveler, 10, "BORE_DIA")}"' in html


def test_saving_the_step_form_records_every_typed_value_in_one_go(shop, traveler):
    step = started(shop, traveler)
    client = station_client(shop.operator)
    data = typed(traveler, BORE_DIA=("0.5", "in"), SURFACE=("pass", ""))
    r = client.post(step_path(traveler, 10, "values/"), {**data, "expected_version": step.version}, **HX)
    assert r.status_code == 200, r.content
    assert "2 values recorded" in text(r)
    values = Measurement.objects.filter(step=step).order_by("id")
    assert [(m.characteristic.code, m.judgment) for m in values] == [("BORE_DIA", "in_spec"), ("SURFACE", "in_spec")]
    events = AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}", action="measurement.recorded")
    assert events.count() == 2


def test_a_refused_value_shows_beside_its_field_and_nothing_is_saved(shop, traveler):
    step = started(shop, traveler)
    client = station_client(shop.operator)
    data = typed(traveler, BORE_DIA=("12.70", "kg"), SURFACE=("pass", ""))
    for headers in (HX, {}):  # with htmx, and as a whole page
        r = client.post(step_path(traveler, 10, "values/"), data, **headers)
        assert r.status_code == 422, r.content
        assert "cannot be converted to mm" in text(r)
        html = r.content.decode()
        assert 'value="kg"' in html and 'value="12.70"' in html  # what was typed stays on screen
    assert not Measurement.objects.filter(step=step).exists()


def test_saving_an_empty_step_form_says_so(shop, traveler):
    step = started(shop, traveler)
    r = station_client(shop.operator).post(step_path(traveler, 10, "values/"), {}, **HX)
    assert r.status_code == 422
    assert "send at least one value" in text(r)
    assert not Measurement.objects.filter(step=step).exists()
