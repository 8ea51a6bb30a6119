"""The Celery app of test_faults' worker subprocess: Traveler's own app (mes.celery) with a short Redis
visibility timeout, so a task whose worker was killed is handed out again within seconds instead of
the hour production keeps (CELERY_BROKER_TRANSPORT_OPTIONS in mes/settings.py).

    python -m celery -A tests.integrations.fault_worker worker --pool solo -Q <queue>
"""

from mes.celery import app

app.conf.broker_transport_options = {
    "visibility_timeout": 3,
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

__all__ = ["app"]
