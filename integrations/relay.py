"""The outbound relay: drain the transactional outbox to every enabled outbound adapter.

SELECT … FOR UPDATE SKIP LOCKED lets several relays run side by side without taking the same rows.
Delivery is at least once: a message is marked delivered when every outbound adapter has taken it;
an adapter that failed gets it again on the next run (backing off), one that succeeded does not.
Every message carries its stable `message_id`, so consumers de-duplicate."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from mes.events.models import OutboxMessage

from .adapters import impl_for
from .adapters.base import adapter_failed, adapter_succeeded
from .models import Adapter, OutboxDelivery

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(minutes=10)


@dataclass
class RelayResult:
    delivered: int = 0
    failed: int = 0
    pending: int = 0


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


def relay_run(*, batch: int = 200) -> RelayResult:
    """Deliver up to `batch` undelivered messages; returns what happened."""
    result = RelayResult()
    adapters = list(Adapter.objects.filter(enabled=True, outbound=True).order_by("pk"))
    if not adapters:
        return result
    now = timezone.now()
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True)
            .order_by("id")[:batch]
        )
        if not messages:
            return result
        ids = [m.pk for m in messages]
        deliveries = {(d.message_id, d.adapter_id): d for d in OutboxDelivery.objects.filter(message_id__in=ids)}
        for adapter in adapters:
            due = []
            for m in messages:
                d = deliveries.get((m.pk, adapter.pk))
                if d is None:
                    d = deliveries[(m.pk, adapter.pk)] = OutboxDelivery(message=m, adapter=adapter)
                if d.delivered_at is None and (d.next_attempt_at is None or d.next_attempt_at <= now):
                    due.append(m)
            if not due:
                continue
            try:
                outcome = impl_for(adapter).publish(due)
            except Exception as exc:  # noqa: BLE001 - the peer is down: every message waits
                log.warning("relay: adapter %s failed: %s", adapter.name, exc)
                outcome = {m.pk: f"{type(exc).__name__}: {exc}" for m in due}
            errors = [e for e in outcome.values() if e]
            for m in due:
                d = deliveries[(m.pk, adapter.pk)]
                d.attempts += 1
                error = outcome.get(m.pk, "no answer from the adapter")
                if error:
                    d.last_error, d.next_attempt_at = error[:2000], now + _backoff(d.attempts)
                    result.failed += 1
                else:
                    d.delivered_at, d.last_error, d.next_attempt_at = now, "", None
            if errors:
                adapter_failed(adapter, errors[0])
            else:
                adapter_succeeded(adapter)
        new = [d for d in deliveries.values() if d.pk is None]
        known = [d for d in deliveries.values() if d.pk is not None]  # before bulk_create gives `new` their pks
        OutboxDelivery.objects.bulk_create(new, batch_size=500)
        OutboxDelivery.objects.bulk_update(
            known, ["delivered_at", "attempts", "last_error", "next_attempt_at"], batch_size=500
        )
        done = [m.pk for m in messages if all(deliveries[(m.pk, a.pk)].delivered_at for a in adapters)]
        OutboxMessage.objects.filter(pk__in=done).update(delivered_at=now)
        result.delivered = len(done)
        result.pending = len(messages) - len(done)
    return result


def relay_drain(*, batch: int = 200, max_rounds: int = 1000) -> RelayResult:
    """Run the relay until nothing more can be delivered now (bounded)."""
    total = RelayResult()
    for _ in range(max_rounds):
        step = relay_run(batch=batch)
        total.delivered += step.delivered
        total.failed += step.failed
        if step.delivered == 0:
            total.pending = step.pending
            break
    return total


def outbox_backlog() -> dict:
    """How far behind the relay is: undelivered count and the age of the oldest."""
    pending = OutboxMessage.objects.filter(delivered_at__isnull=True)
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "pending": pending.count(),
        "oldest_at": oldest,
        "lag_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
    }
