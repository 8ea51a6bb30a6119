"""Reads of the integrations, for the sync status page: a fixed number of queries whatever the number
of adapters or messages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, DateTimeField, Exists, F, Func, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from mes.events.models import OutboxMessage

from .adapters.mqtt.client import describe
from .models import Adapter, InboxMessage, MachineState, OutboxDelivery, Reconciliation, WorkOrderProvenance
from .relay import outbox_backlog


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
    health: str = "idle"  # ok, behind, failing, idle, disabled: never "ok" with a backlog or a failure
    reason: str = ""  # why it is not ok, in the words of the error itself

    @property
    def health_label(self) -> str:
        return str(HEALTH_LABELS[self.health])


HEALTH_LABELS = {
    "ok": gettext_lazy("OK"),
    "behind": gettext_lazy("Behind"),
    "failing": gettext_lazy("Failing"),
    "idle": gettext_lazy("Idle"),
    "disabled": gettext_lazy("Disabled"),
}


def _health(adapter, backlog: int) -> tuple[str, str]:
    """How an adapter is, from what it did last and what waits for it, with the reason in plain words."""
    if not adapter.enabled:
        return "disabled", ""
    if adapter.outbound and adapter.out_failing:
        if adapter.state == Adapter.State.FAILING and adapter.last_error:
            return "failing", adapter.last_error  # its latest run's failure
        # a later run succeeded for other events: the reason is the last failed delivery's
        return "failing", adapter.last_delivery_error or ngettext(
            "%(n)s delivery failing", "%(n)s deliveries failing", adapter.out_failing
        ) % {"n": adapter.out_failing}
    if adapter.outbound and adapter.out_dead:
        return "failing", ngettext(
            "%(n)s event it refuses, dead-lettered: deliver it again once fixed",
            "%(n)s events it refuses, dead-lettered: deliver them again once fixed",
            adapter.out_dead,
        ) % {"n": adapter.out_dead}
    if adapter.in_dead:
        return "failing", ngettext(
            "%(n)s dead letter; the last: %(reason)s", "%(n)s dead letters; the last: %(reason)s", adapter.in_dead
        ) % {"n": adapter.in_dead, "reason": adapter.last_dead_reason}
    if adapter.state == Adapter.State.FAILING:
        return "failing", adapter.last_error or gettext("its last run failed")
    if backlog:
        return "behind", ngettext("%(n)s event waits for it", "%(n)s events wait for it", backlog) % {"n": backlog}
    if adapter.in_pending:
        return "behind", ngettext(
            "%(n)s message received, not processed yet",
            "%(n)s messages received, not processed yet",
            adapter.in_pending,
        ) % {"n": adapter.in_pending}
    return ("ok", "") if adapter.state == Adapter.State.OK else (adapter.state, "")


def adapters_status() -> list[AdapterStatus]:
    own = OuterRef("pk")
    # Taken (or dead-lettered) by this adapter; anything else undelivered, dispatched or not, waits for it.
    taken = OutboxDelivery.objects.filter(message=OuterRef("pk"), adapter=OuterRef(own)).filter(
        Q(delivered_at__isnull=False) | Q(dead_at__isnull=False)
    )
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
                OutboxDelivery.objects.filter(adapter=own, delivered_at__isnull=True, dead_at__isnull=True).exclude(
                    last_error=""
                )
            ),
            out_dead=_count(OutboxDelivery.objects.filter(adapter=own, dead_at__isnull=False)),
            backlog=_count(waiting),
            oldest_undelivered_at=_oldest(waiting),
            last_delivery_error=Subquery(
                OutboxDelivery.objects.filter(adapter=own, delivered_at__isnull=True)
                .exclude(last_error="")
                .order_by("-id")
                .values("last_error")[:1]
            ),
            last_dead_reason=Subquery(
                InboxMessage.objects.filter(adapter=own, status=InboxMessage.Status.DEAD)
                .order_by("-received_at")
                .values("reason")[:1]
            ),
        )
        .order_by("name")
    )
    now = timezone.now()
    result = []
    for adapter in adapters:
        outbound = adapter.outbound and adapter.enabled
        oldest = adapter.oldest_undelivered_at if outbound else None
        backlog = adapter.backlog if outbound else 0
        health, reason = _health(adapter, backlog)
        result.append(
            AdapterStatus(
                adapter=adapter,
                mqtt=describe(adapter) if adapter.kind == Adapter.Kind.MQTT else "",
                backlog=backlog,
                oldest_undelivered_at=oldest,
                lag_seconds=(now - oldest).total_seconds() if oldest else 0.0,
                health=health,
                reason=reason,
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


def undeliverable(limit: int = 100) -> list[OutboxDelivery]:
    """Outbound deliveries dead-lettered for their adapter (it took other events, not these)."""
    return list(
        OutboxDelivery.objects.filter(dead_at__isnull=False, delivered_at__isnull=True)
        .select_related("adapter", "message")
        .defer("message__payload")
        .order_by("-dead_at")[:limit]
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
    return describe(None) if getattr(settings, "MQTT_URL", "") else "MQTT off: set MQTT_URL"


def outbox_totals() -> dict:
    totals = outbox_backlog()
    totals["outbound_adapters"] = Adapter.objects.filter(enabled=True, outbound=True).count()
    totals["dead_letters"] = InboxMessage.objects.filter(status=InboxMessage.Status.DEAD).count()
    totals["failing_deliveries"] = OutboxDelivery.objects.filter(
        Q(delivered_at__isnull=True, dead_at__isnull=True) & ~Q(last_error="")
    ).count()
    totals["undeliverable"] = OutboxDelivery.objects.filter(dead_at__isnull=False, delivered_at__isnull=True).count()
    return totals


def open_conflicts(limit: int = 50) -> list:
    """Changes or cancellations the legacy MES sent after work had begun, not applied: each shown until a
    later message for the same order supersedes it (the two systems agree again)."""
    later = WorkOrderProvenance.objects.filter(work_order=OuterRef("work_order"), id__gt=OuterRef("id"))
    return list(
        WorkOrderProvenance.objects.filter(action=WorkOrderProvenance.Action.CONFLICT)
        .exclude(Exists(later))
        .select_related("work_order__site", "message__adapter")
        .defer("message__payload")
        .order_by("-created_at", "-id")[:limit]
    )


def reconciliations(limit: int = 60) -> list:
    """The latest reconciliations, newest day first, each with its differences (prefetched)."""
    return list(
        Reconciliation.objects.select_related("site", "adapter")
        .prefetch_related("differences")
        .order_by("-day", "site__code", "adapter__name")[:limit]
    )


def open_differences() -> list:
    """For the status page: the newest reconciliation of each adapter and site, when it found differences
    or could not read the legacy side."""
    newest = Reconciliation.objects.filter(adapter=OuterRef("adapter"), site=OuterRef("site"), day__gt=OuterRef("day"))
    return list(
        Reconciliation.objects.exclude(Exists(newest))
        .annotate(found=Count("differences"))
        .filter(Q(found__gt=0) | ~Q(error=""))
        .select_related("site", "adapter")
        .order_by("site__code", "adapter__name")
    )
