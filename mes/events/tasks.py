"""Beat tasks of the request and event infrastructure."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def idempotency_purge() -> int:
    """Forget Idempotency-Keys older than IDEMPOTENCY_HOURS."""
    from mes.idempotency import idempotency_purge as purge

    return purge()
