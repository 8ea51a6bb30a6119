"""The "archive" outbound adapter: the relay hands it every outbox message; for each traveler.closed
(or traveler.scrapped) it queues the idempotent task that archives that traveler. Other events are
taken and ignored. Enable it with `manage.py archive_travelers --install-adapter` (docs/archive.md)."""

from __future__ import annotations

from integrations.adapters.base import AdapterImpl
from travelers.models import Traveler

from .tasks import archive_traveler

EVENTS = ("traveler.closed", "traveler.scrapped")


class Impl(AdapterImpl):
    def publish(self, messages) -> dict[int, str | None]:
        wanted = [m for m in messages if m.event_type in EVENTS and m.aggregate_type == "traveler"]
        ids = dict(Traveler.objects.filter(number__in=[m.aggregate_id for m in wanted]).values_list("number", "pk"))
        outcome: dict[int, str | None] = {m.pk: None for m in messages}
        for m in wanted:
            traveler_id = ids.get(m.aggregate_id)
            if traveler_id is None:
                continue  # gone from the live database: nothing to archive from here
            try:
                archive_traveler.delay(traveler_id)
            except Exception as exc:  # noqa: BLE001 - broker down: the relay retries this message
                outcome[m.pk] = f"could not queue archiving of {m.aggregate_id}: {type(exc).__name__}: {exc}"
        return outcome
