"""Celery tasks of the integrations: thin, idempotent, taking ids, calling the framework."""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo

from celery import shared_task
from django.utils import timezone

from . import relay
from .adapters import impl_for
from .adapters.base import adapter_failed, adapter_succeeded
from .errors import DeliveryFailed
from .inbox import inbox_process
from .models import Adapter, InboxMessage
from .polling import poll_lock
from .reconcile import reconcile
from .relay import relay_adapter_drain, relay_dispatch, relay_settle
from .warehouse.refresh import warehouse_refresh as refresh_warehouse

log = logging.getLogger(__name__)


# Dispatch passes one beat tick makes at most: one pass takes relay.DISPATCH_BATCH messages, and with a
# single pass every two seconds no adapter could be given more than 500 events a second.
DISPATCH_PASSES = 20


@shared_task(acks_late=True)
def outbox_relay(batch: int = 200) -> int:
    """Beat, every two seconds: dispatch new outbox messages (all of them, up to DISPATCH_PASSES passes), then
    one task per outbound adapter, so a slow or down adapter holds up a worker of its own and never the
    others' deliveries."""
    dispatched = 0
    for _ in range(DISPATCH_PASSES):
        found = relay_dispatch(batch=relay.DISPATCH_BATCH)
        dispatched += found
        if found < relay.DISPATCH_BATCH:
            break
    relay_settle()
    for adapter_id in Adapter.objects.filter(enabled=True, outbound=True).values_list("pk", flat=True):
        outbox_relay_adapter.delay(adapter_id, batch)
    return dispatched


@shared_task(acks_late=True, autoretry_for=(DeliveryFailed, ConnectionError), retry_backoff=True, max_retries=5)
def outbox_relay_adapter(adapter_id: int, batch: int = 200, max_rounds: int = 50) -> int:
    """Deliver what is due for one adapter (bounded: `max_rounds` batches), two batches under way (one
    publishes while the next takes its rows); relays at it side by side take different rows."""
    adapter = Adapter.objects.filter(pk=adapter_id, enabled=True, outbound=True).first()
    if adapter is None:
        return 0
    return relay_adapter_drain(adapter, batch=batch, max_batches=max_rounds)


@shared_task(
    acks_late=True, autoretry_for=(ConnectionError, OSError), retry_backoff=True, retry_backoff_max=600, max_retries=10
)
def adapter_poll(adapter_id: int) -> int:
    """Poll one inbound adapter (it resumes from its checkpoint; the inbox makes repeats harmless)."""
    adapter = Adapter.objects.select_related("site").filter(pk=adapter_id, enabled=True, inbound=True).first()
    if adapter is None:
        return 0
    with poll_lock(adapter) as mine:
        if not mine:  # another worker is polling this adapter right now: one poll at a time
            return 0
        try:
            count = impl_for(adapter).poll()
        except Exception as exc:
            adapter_failed(adapter, f"{type(exc).__name__}: {exc}")
            raise
    adapter_succeeded(adapter)
    return count


@shared_task(acks_late=True)
def inbox_sweep(older_than_seconds: int = 120, limit: int = 500) -> list[int]:
    """Beat: queue again every inbox message still pending after `older_than_seconds` — its task was lost
    with a worker killed under a broker that does not redeliver (the filesystem broker deletes a message
    when a worker takes it). Processing is idempotent, so a message queued twice is imported once."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        InboxMessage.objects.filter(status=InboxMessage.Status.PENDING, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in ids:
        inbox_process_task.delay(message_id)
    if ids:
        log.warning("inbox sweep: %d message(s) pending since before %s queued again", len(ids), cutoff)
    return ids


@shared_task(acks_late=True)
def adapters_poll_due() -> list[int]:
    """Beat: queue a poll for every enabled inbound adapter whose schedule has come round."""
    now = timezone.now()
    queued = []
    for adapter in Adapter.objects.filter(enabled=True, inbound=True).exclude(kind__in=["rest_inbound", "mqtt"]):
        last = adapter.last_success_at or adapter.last_error_at
        if last is None or (now - last).total_seconds() >= adapter.schedule_seconds:
            adapter_poll.delay(adapter.pk)
            queued.append(adapter.pk)
    return queued


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=10)
def inbox_process_task(message_id: int) -> str:
    return inbox_process(message_id).status


@shared_task(acks_late=True)
def reconcile_nightly() -> int:
    """Beat, each night: reconcile yesterday (each site's calendar day) for every enabled legacy database
    and file-drop adapter with a site. Running it twice replaces the first run's differences."""
    count = 0
    adapters = Adapter.objects.filter(
        enabled=True, inbound=True, kind__in=[Adapter.Kind.LEGACY_DB, Adapter.Kind.FILE_DROP], site__isnull=False
    ).select_related("site")
    for adapter in adapters:
        zone = zoneinfo.ZoneInfo(adapter.site.time_zone or "UTC")
        yesterday = timezone.localtime(timezone.now(), timezone=zone).date() - dt.timedelta(days=1)
        reconcile(adapter=adapter, site=adapter.site, day=yesterday)
        count += 1
    return count


@shared_task(acks_late=True)
def warehouse_refresh() -> str:
    """Beat: bring the warehouse up to date (incremental; a second run at once finds nothing new)."""
    return str(refresh_warehouse())
