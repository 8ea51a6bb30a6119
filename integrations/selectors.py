"""Reads of the integrations, for the sync status page: a fixed number of queries whatever the number
of adapters or messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import DateTimeField, Exists, F, Func, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from mes.events.models import OutboxMessage

from .models import Adapter, InboxMessage, MachineState, OutboxDelivery


def _count(queryset) -> Coalesce:
    """A correlated COUNT(*) subquery (several of them do not multiply each other as joins would)."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _oldest(queryset) -> Subquery:
    return Subquery(
        queryset.order_by().annotate(m=Func(F("created_at"), function="MIN")).values("m"), output_field=DateTimeField()
    )


@dataclass
class AdapterStatus:
    adapter: Adapter
    mqtt: str  # the broker, or "MQTT off: set MQTT_URL"; empty for other kinds
    backlog: int
    oldest_undelivered_at: object
    lag_seconds: float


def adapters_status() -> list[AdapterStatus]:
    from .adapters.mqtt import describe

    own = OuterRef("pk")
    taken = OutboxDelivery.objects.filter(message=OuterRef("pk"), adapter=OuterRef(own), delivered_at__isnull=False)
    waiting = OutboxMessage.objects.filter(delivered_at__isnull=True).exclude(Exists(taken))
    adapters = list(
        Adapter.objects.select_related("site")
        .annotate(
            in_processed=_count(InboxMessage.objects.filter(adapter=own, status=InboxMessage.Status.PROCESSED)),
            in_pending=_count(InboxMessage.objects.filter(adapter=own, status=InboxMessage.Status.PENDING)),
            in_dead=_count(InboxMessage.objects.filter(adapter=own, status=InboxMessage.Status.DEAD)),
            out_delivered=_count(OutboxDelivery.objects.filter(adapter=own, delivered_at__isnull=False)),
            out_retried=_count(OutboxDelivery.objects.filter(adapter=own, attempts__gt=1)),
            out_failing=_count(
                OutboxDelivery.objects.filter(adapter=own, delivered_at__isnull=True).exclude(last_error="")
            ),
            backlog=_count(waiting),
            oldest_undelivered_at=_oldest(waiting),
        )
        .order_by("name")
    )
    now = timezone.now()
    result = []
    for adapter in adapters:
        outbound = adapter.outbound and adapter.enabled
        oldest = adapter.oldest_undelivered_at if outbound else None
        result.append(
            AdapterStatus(
                adapter=adapter,
                mqtt=describe(adapter) if adapter.kind == Adapter.Kind.MQTT else "",
                backlog=adapter.backlog if outbound else 0,
                oldest_undelivered_at=oldest,
                lag_seconds=(now - oldest).total_seconds() if oldest else 0.0,
            )
        )
    return result


def dead_letters(limit: int = 100) -> list[InboxMessage]:
    return list(
        InboxMessage.objects.filter(status=InboxMessage.Status.DEAD)
        .select_related("adapter")
        .defer("payload")
        .order_by("-received_at")[:limit]
    )


def stuck_messages(limit: int = 100) -> list[InboxMessage]:
    """Stored but not processed for over a minute (a queue or a consumer stopped in between)."""
    cutoff = timezone.now() - dt.timedelta(minutes=1)
    return list(
        InboxMessage.objects.filter(status=InboxMessage.Status.PENDING, received_at__lt=cutoff)
        .select_related("adapter")
        .defer("payload")
        .order_by("received_at")[:limit]
    )


def machine_states(limit: int = 200) -> list[MachineState]:
    return list(MachineState.objects.order_by("site_code", "machine")[:limit])


def mqtt_global() -> str:
    """The MQTT line of the page: the broker of MQTT_URL, or plainly that MQTT is off."""
    from .adapters.mqtt import describe

    return describe(None) if getattr(settings, "MQTT_URL", "") else "MQTT off: set MQTT_URL"


def outbox_totals() -> dict:
    from .relay import outbox_backlog

    totals = outbox_backlog()
    totals["outbound_adapters"] = Adapter.objects.filter(enabled=True, outbound=True).count()
    totals["dead_letters"] = InboxMessage.objects.filter(status=InboxMessage.Status.DEAD).count()
    totals["failing_deliveries"] = OutboxDelivery.objects.filter(
        Q(delivered_at__isnull=True) & ~Q(last_error="")
    ).count()
    return totals
