"""Writing events: `outbox_emit` runs inside the service transaction that makes the change."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mes.compliance.canonical import jsonable

from .models import OutboxMessage

# Each event names its JSON Schema (Draft 2020-12), served at GET /api/schemas/<event_type>/v<n>.json.
SCHEMA_PATH = "/api/schemas"


def schema_url(event_type: str, schema_version: int = 1) -> str:
    return f"{settings.PUBLIC_BASE_URL}{SCHEMA_PATH}/{event_type}/v{schema_version}.json"


def event_source(site_code: str = "") -> str:
    """The CloudEvents `source`: an absolute URI naming this installation (its PUBLIC_BASE_URL) and the
    site, so that events of two installations are never mistaken for one another."""
    return f"{settings.PUBLIC_BASE_URL}/sites/{site_code or 'global'}"


def cloudevent(message: OutboxMessage) -> dict:
    """The event as it is published: the stored envelope with `type`, `source` and `dataschema` resolved
    now from the message and the settings — an event written before PUBLIC_BASE_URL was set, or in an
    older envelope, still goes out naming itself correctly."""
    return {
        **message.payload,
        "type": message.event_type,
        "source": event_source(message.site_code),
        "dataschema": schema_url(message.event_type, message.schema_version),
    }


def cloudevent_json(message: OutboxMessage) -> bytes:
    """`cloudevent(message)` as the bytes publishers send: compact UTF-8 JSON (orjson: a relay serializes
    every event once per adapter, and the standard library's encoder was a tenth of its CPU)."""
    return orjson.dumps(cloudevent(message))


def cloudevents_json(messages: Iterable[OutboxMessage]) -> bytes:
    """A JSON array of the messages' events (CloudEvents' batched mode), as cloudevent_json writes one."""
    return orjson.dumps([cloudevent(m) for m in messages])


def outbox_emit(
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: object,
    data: dict,
    site_code: str = "",
    work_center_code: str = "",
    schema_version: int = 1,
) -> OutboxMessage:
    """Queue one self-describing event. The payload is a CloudEvents 1.0 envelope whose `data` is in the
    shared data model (canonical codes beside each site's alias), so any subscriber can decode it. It is
    kept as written (the record of what was emitted); publishers send `cloudevent(message)`, which
    resolves `type`, `source` and `dataschema` when the event leaves."""
    return outbox_emit_many(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        datas=[data],
        site_code=site_code,
        work_center_code=work_center_code,
        schema_version=schema_version,
    )[0]


def outbox_emit_many(
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: object,
    datas: list[dict],
    site_code: str = "",
    work_center_code: str = "",
    schema_version: int = 1,
) -> list[OutboxMessage]:
    """Queue one event per item of `datas`, all of one type about one aggregate, inserted in one
    statement, in order (as outbox_emit would one by one)."""
    messages = outbox_messages(
        event_type=event_type,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        datas=datas,
        site_code=site_code,
        work_center_code=work_center_code,
        schema_version=schema_version,
    )
    if len(messages) == 1:
        messages[0].save(force_insert=True)
        return messages
    return OutboxMessage.objects.bulk_create(messages)


def outbox_messages(
    *,
    event_type: str,
    aggregate_type: str,
    aggregate_id: object,
    datas: list[dict],
    site_code: str = "",
    work_center_code: str = "",
    schema_version: int = 1,
) -> list[OutboxMessage]:
    """The messages outbox_emit_many queues, built and not written: for a caller that inserts them with
    the rest of its change in one round trip (travelers.services.measurements), in the same transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_emit must run inside the transaction of the change it announces")
    source, dataschema = event_source(site_code), schema_url(event_type, schema_version)
    messages = []
    for data in datas:
        message_id = uuid.uuid4()
        now = timezone.now()
        payload = {
            "specversion": "1.0",
            "id": str(message_id),
            "source": source,
            "type": event_type,
            "time": now,
            "dataschema": dataschema,
            "datacontenttype": "application/json",
            "subject": f"{aggregate_type}/{aggregate_id}",
            "data": data,
        }
        messages.append(
            OutboxMessage(
                message_id=message_id,
                created_at=now,
                event_type=event_type,
                schema_version=schema_version,
                aggregate_type=aggregate_type,
                aggregate_id=str(aggregate_id),
                site_code=site_code,
                work_center_code=work_center_code,
                payload=jsonable(payload),
            )
        )
    return messages
