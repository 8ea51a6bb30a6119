"""What an adapter implementation offers. Inbound kinds implement `poll`; outbound kinds `publish`."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from integrations.models import Adapter, Checkpoint


class AdapterImpl:
    def __init__(self, adapter: Adapter):
        self.adapter = adapter

    def setting(self, name: str, default=None):
        return self.adapter.settings.get(name, default)

    # Inbound: fetch what is new, hand each message to integrations.inbox.inbox_receive, process it.
    def poll(self) -> int:
        raise NotImplementedError(f"{self.adapter.kind} adapters do not poll")

    # Outbound: deliver each outbox message; return {message.pk: None (delivered) | "error text"}.
    def publish(self, messages) -> dict[int, str | None]:
        raise NotImplementedError(f"{self.adapter.kind} adapters do not publish")

    # Checkpoints: where this adapter got to.
    def checkpoint(self, key: str, default: str = "") -> str:
        row = Checkpoint.objects.filter(adapter=self.adapter, key=key).first()
        return row.value if row else default

    def set_checkpoint(self, key: str, value: str) -> None:
        Checkpoint.objects.update_or_create(adapter=self.adapter, key=key, defaults={"value": value})


def adapter_succeeded(adapter: Adapter) -> None:
    # One statement: atomic on its own, and inside the relay's transaction no savepoint is needed (two
    # more round trips a batch) — if it fails, the caller's transaction fails with it.
    with transaction.atomic(savepoint=False):
        Adapter.objects.filter(pk=adapter.pk).update(state=Adapter.State.OK, last_success_at=timezone.now())


def adapter_failed(adapter: Adapter, error: str, *, keep_state: bool = False) -> None:
    """Record the failure; the adapter is failing unless `keep_state` (it took other messages meanwhile)."""
    changes = {"last_error": error[:2000], "last_error_at": timezone.now()}
    if not keep_state:
        changes["state"] = Adapter.State.FAILING
    with transaction.atomic(savepoint=False):
        Adapter.objects.filter(pk=adapter.pk).update(**changes)
