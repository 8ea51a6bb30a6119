"""Beat tasks of the request and event infrastructure."""

from __future__ import annotations

from celery import shared_task

from mes.idempotency import idempotency_purge as purge


@shared_task(acks_late=True)
def idempotency_purge() -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_HOURS."""
    return purge()
