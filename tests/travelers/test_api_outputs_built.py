"""The outputs of recorded values are built without ninja's validation (model_construct, for speed): each
must still be exactly what validating it would give, of the schema's own types."""

from __future__ import annotations

import pytest

from tests.travelers.conftest import step_of
from travelers import services
from travelers.api.outputs import measurement_result, recorded_batch_out, recorded_out

pytestmark = pytest.mark.django_db


def assert_valid(out) -> None:
    # serializing with warnings as errors refuses a field whose value is not of its declared type
    dumped = out.model_dump_json(warnings="error")
    again = type(out).model_validate_json(dumped)
    assert again.model_dump() == out.model_dump()
    assert again.model_dump_json() == dumped


def test_a_recorded_value_in_and_out_of_spec(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    m = services.measurement_record(
        step=step, characteristic="BORE_DIA", value="12.701", unit="mm", actor=shop.operator
    )
    assert_valid(recorded_out(m))
    assert_valid(measurement_result(m.pk))


def test_a_batch_with_an_out_of_spec_value(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    values = [
        services.ValueEntry(characteristic="BORE_DIA", value="13.5", unit="mm"),
        services.ValueEntry(characteristic="SURFACE", value="pass"),
    ]
    ms = services.measurement_record_batch(step=step, values=values, actor=shop.operator)
    out = recorded_batch_out(ms)
    assert out.put_on_hold and out.ncrs
    assert_valid(out)
