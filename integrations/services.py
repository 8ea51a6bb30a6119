"""The integrations' writers beside the inbox, the relay and the archive: the latest state each machine
reported (from the MQTT machine-state topic, integrations.adapters.mqtt.consume)."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from .errors import DeliveryFailed
from .models import Adapter, MachineState


def machine_state_record(
    *, adapter: Adapter, site_code: str, machine: str, state: str, detail: dict, reported_at: dt.datetime
) -> MachineState:
    """Keep the latest state of a machine; a report older than the one kept changes nothing."""
    now = timezone.now()
    for _ in range(2):  # a second try when a parallel consumer created the row first
        try:
            with transaction.atomic():
                row = MachineState.objects.select_for_update().filter(site_code=site_code, machine=machine).first()
                if row is None:
                    return MachineState.objects.create(
                        adapter=adapter,
                        site_code=site_code,
                        machine=machine,
                        state=state,
                        detail=detail,
                        reported_at=reported_at,
                        received_at=now,
                    )
                if row.reported_at > reported_at:
                    return row
                row.adapter, row.state, row.detail = adapter, state, detail
                row.reported_at, row.received_at = reported_at, now
                row.save()
                return row
        except IntegrityError:
            continue
    raise DeliveryFailed(f"could not store the state of {site_code}/{machine}")
