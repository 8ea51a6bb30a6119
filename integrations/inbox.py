"""The inbox: receive (idempotent, raw payload kept), process (parse → resolve → write, all or
nothing), dead-letter with a plain reason, reprocess once the cause is fixed."""

from __future__ import annotations

import hashlib
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from travelers.errors import TravelerError

from .errors import MessageRefused
from .formats import PARSERS
from .models import InboxMessage, WorkOrderProvenance
from .order_import import import_orders
from .orders import WorkOrderIn, resolve

log = logging.getLogger(__name__)


def idempotency_key(source_system: str, external_id: str, version: str) -> str:
    return f"{source_system}|{external_id}|{version}"


def inbox_receive(
    *, adapter, source: str, external_id: str, version: str, message_type: str, payload: str
) -> tuple[InboxMessage, bool]:
    """Store a message once. Returns (message, created); a repeat returns the first one unchanged."""
    key = idempotency_key(adapter.source_system, external_id, str(version))
    existing = InboxMessage.objects.filter(idempotency_key=key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            message = InboxMessage.objects.create(
                adapter=adapter,
                idempotency_key=key,
                source=source[:200],
                external_id=external_id[:120],
                version=str(version)[:60],
                message_type=message_type,
                payload=payload,
                payload_sha256=hashlib.sha256(payload.encode("utf-8")).hexdigest(),
                received_at=timezone.now(),
            )
    except IntegrityError:  # the same message arrived twice at once
        return InboxMessage.objects.get(idempotency_key=key), False
    return message, True


def parse_message(message: InboxMessage) -> list[WorkOrderIn]:
    """The work orders a stored message holds, read by the parser of its type (integrations.formats)."""
    parser = PARSERS.get(message.message_type)
    if parser is None:
        raise MessageRefused(f"no parser for message type {message.message_type}", field="message_type")
    return parser(message.payload, message.adapter)


def inbox_process(message_id: int) -> InboxMessage:
    """Process one message; safe to run again (a processed message is left as it is)."""
    message = InboxMessage.objects.select_related("adapter__site").get(pk=message_id)
    if message.status == InboxMessage.Status.PROCESSED:
        return message
    InboxMessage.objects.filter(pk=message.pk).update(attempts=message.attempts + 1)
    try:
        orders = parse_message(message)
        resolved = resolve(orders, adapter=message.adapter, source=message.source)  # outside: queues codes
        with transaction.atomic():
            locked = InboxMessage.objects.select_for_update().get(pk=message.pk)
            if locked.status == InboxMessage.Status.PROCESSED:  # a parallel worker got there first
                return locked
            made = import_orders(resolved, adapter=message.adapter, message=locked)
            locked.status = InboxMessage.Status.PROCESSED
            locked.processed_at = timezone.now()
            locked.reason = ""
            locked.produced = produced_by(locked, resolved, made)
            locked.save(update_fields=["status", "processed_at", "reason", "produced"])
            return locked
    except (MessageRefused, TravelerError) as exc:
        reason = exc.message
    except Exception as exc:  # noqa: BLE001 - an unexpected failure is a dead letter too, never lost
        log.exception("inbox message %s failed", message.pk)
        reason = f"unexpected {type(exc).__name__}: {exc}"
    InboxMessage.objects.filter(pk=message.pk).update(status=InboxMessage.Status.DEAD, reason=reason[:2000])
    log.warning("dead letter", extra={"inbox_message": message.pk, "adapter": message.adapter.name, "reason": reason})
    message.refresh_from_db()
    return message


def produced_by(message: InboxMessage, resolved, made) -> dict:
    """What a processed message did: its work orders, what became of each (created, changed, unchanged,
    cancelled, conflict) and the deletions of orders Traveler never had."""
    numbers = [w.number for w in made]
    actions = dict(WorkOrderProvenance.objects.filter(message=message).values_list("work_order__number", "action"))
    produced = {"work_orders": numbers, "actions": actions}
    unknown = [r.number for r in resolved if r.order.action == "delete" and r.number not in numbers]
    if unknown:
        produced["nothing_to_cancel"] = unknown
    return produced


def inbox_reprocess(message_id: int) -> InboxMessage:
    """Try a dead letter again after its cause was fixed (e.g. the alias was mapped)."""
    InboxMessage.objects.filter(pk=message_id, status=InboxMessage.Status.DEAD).update(
        status=InboxMessage.Status.PENDING
    )
    return inbox_process(message_id)
