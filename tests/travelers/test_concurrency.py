"""Two tablets on one step at the same moment: nothing is lost silently; the loser hears why."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.travelers.conftest import step_of
from travelers import services
from travelers.errors import RecordConflict
from travelers.models import Measurement


def _race(calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait(timeout=10)
            results[i] = fn()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_tablets_recording_the_same_value_one_wins_one_hears_why(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    results = _race(
        [
            lambda: services.measurement_record(
                step=step, characteristic="BORE_DIA", value="12.701", actor=shop.operator
            ),
            lambda: services.measurement_record(
                step=step, characteristic="BORE_DIA", value="12.702", actor=shop.operator2
            ),
        ]
    )
    saved = [r for r in results if isinstance(r, Measurement)]
    refused = [r for r in results if isinstance(r, RecordConflict)]
    assert len(saved) == 1 and len(refused) == 1, results
    assert "already recorded as" in refused[0].message and "correct it instead" in refused[0].message
    assert list(Measurement.objects.filter(step=step).values_list("entered_value", flat=True)) == [
        saved[0].entered_value
    ]


@pytest.mark.django_db(transaction=True)
def test_two_tablets_recording_different_values_both_land(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    results = _race(
        [
            lambda: services.measurement_record(
                step=step, characteristic="BORE_DIA", value="12.701", actor=shop.operator
            ),
            lambda: services.measurement_record(
                step=step, characteristic="SURFACE", value="pass", actor=shop.operator2
            ),
        ]
    )
    assert all(isinstance(r, Measurement) for r in results), results
    assert set(Measurement.objects.filter(step=step).values_list("characteristic__code", flat=True)) == {
        "BORE_DIA",
        "SURFACE",
    }
