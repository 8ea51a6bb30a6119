"""Celery tasks of master data: thin, taking plain arguments, calling selectors and services."""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.utils import timezone

from .models import Qualification

log = logging.getLogger(__name__)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5, ignore_result=False)
def qualification_expiry_scan(days: int = 30) -> list[int]:
    """Log every qualification that expires within `days`, so supervisors retrain before it lapses.

    Read-only, so running it twice is harmless. Returns the ids it reported."""
    today = timezone.localdate()
    soon = Qualification.objects.filter(
        expires_on__gte=today, expires_on__lte=today + dt.timedelta(days=days)
    ).select_related("user", "operation")
    ids = []
    for qual in soon:
        log.warning(
            "qualification expires soon",
            extra={
                "user": qual.user.get_username(),
                "operation": qual.operation.code,
                "kind": qual.kind,
                "expires_on": qual.expires_on.isoformat(),
            },
        )
        ids.append(qual.pk)
    return ids
