"""The Celery app. Tasks live in each app's tasks.py: thin, taking ids, calling services."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")

app = Celery("traveler")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
