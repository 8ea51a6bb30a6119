"""The Celery app. Tasks live in each app's tasks.py: thin, taking ids, calling services."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

app = Celery("traveler")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def _prepare(**kwargs: object) -> None:
    # A worker or beat started by hand on a laptop needs what manage.py would have prepared.
    from mes.bootstrap import prepare  # noqa: PLC0415 — mes/__init__ imports this module: no bootstrap at settings import

    prepare()
