"""A real Celery worker on the configured broker: kombu's filesystem transport on a laptop, Redis in CI."""

from __future__ import annotations

import datetime as dt

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from mes.celery import app
from mes.masterdata.tasks import qualification_expiry_scan
from tests.factories import QualificationFactory


@pytest.mark.django_db(transaction=True)
def test_worker_runs_the_expiry_scan_through_the_broker(settings):
    today = timezone.localdate()
    soon = QualificationFactory(expires_on=today + dt.timedelta(days=10))
    QualificationFactory(expires_on=today + dt.timedelta(days=200))
    QualificationFactory(valid_from=today - dt.timedelta(days=90), expires_on=today - dt.timedelta(days=1))
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        result = qualification_expiry_scan.delay(days=30)
        assert result.get(timeout=30) == [soon.pk]


def test_tasks_acknowledge_late_and_retry_with_backoff():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert qualification_expiry_scan.acks_late is True
    assert qualification_expiry_scan.retry_backoff is True
    assert "qualification-expiry-scan" in app.conf.beat_schedule
