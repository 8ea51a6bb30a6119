"""Shared by the relay tests: a webhook adapter and a burst of outbox events."""

from __future__ import annotations

from django.db import transaction

from integrations.models import Adapter
from mes.events.services import outbox_emit

SECRET_ENV = "TRAVELER_TEST_RELAY_SECRET"


def hook(name: str, url: str) -> Adapter:
    settings = {"url": url, "timeout": 2}
    return Adapter.objects.create(
        name=name,
        kind="webhook",
        source_system=name,
        outbound=True,
        inbound=False,
        secret_env=SECRET_ENV,
        settings=settings,
    )


def emit_many(count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            outbox_emit(
                event_type="step.started",
                aggregate_type="traveler",
                aggregate_id=f"T-{n:05d}",
                data={"n": n},
                site_code="WIC",
                work_center_code="CELL-1",
            )
