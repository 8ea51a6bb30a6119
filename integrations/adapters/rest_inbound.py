"""REST push (inbound): the legacy MES POSTs work orders to /api/integrations/<adapter>/work-orders
(see integrations/api.py and docs/integrations.md).

The body is the JSON of integrations.formats.json_orders with an explicit idempotency key, `external_id` +
`version`. It is stored exactly as received in the inbox and answered 202 with the inbox message;
a repeat (same key, same content) answers with the same message and changes nothing; the same key
with other content is refused (409): a changed order needs a new version.

Who may push: a user with the permission integrations.push_work_orders, or the user named in the
adapter's settings["user"]. settings["process"]: "queue" (default: a Celery task processes it) or
"inline" (processed within the request, for a site without workers)."""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied

from integrations.formats import json_orders
from integrations.inbox import inbox_process, inbox_receive
from integrations.models import Adapter, InboxMessage
from integrations.tasks import inbox_process_task
from travelers.errors import TravelerError

from .base import AdapterImpl

log = logging.getLogger(__name__)


class PushConflict(TravelerError):
    """The idempotency key was used before for different content."""

    status_code = 409


class Impl(AdapterImpl):
    """Push only: nothing to poll, nothing to publish."""


def push_allowed(adapter: Adapter, user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm("integrations.push_work_orders") or (
        bool(adapter.settings.get("user")) and adapter.settings.get("user") == user.get_username()
    )


def _same_content(a: str, b: str) -> bool:
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return a == b


def process_queued(message_id: int) -> None:
    try:
        inbox_process_task.delay(message_id)
    except Exception as exc:  # noqa: BLE001 - broker down: the message waits, pending, on the status page
        log.warning("could not queue inbox message %s: %s", message_id, exc)


def work_orders_push(*, adapter: Adapter, body: str, external_id: str, version: str, user) -> tuple[InboxMessage, bool]:
    """Store pushed work orders once; returns (message, created). Processing is queued (or inline)."""
    if not push_allowed(adapter, user):
        raise PermissionDenied(f"{user.get_username()} may not push work orders to {adapter.name}")
    message, created = inbox_receive(
        adapter=adapter,
        source=f"rest:{user.get_username()}",
        external_id=external_id,
        version=version,
        message_type=json_orders.MESSAGE_TYPE,
        payload=body,
    )
    if not created:
        if message.adapter_id != adapter.pk or not _same_content(message.payload, body):
            raise PushConflict(
                f"{external_id} version {version} was received before with other content: send a new version",
                field="version",
            )
        return message, False
    if adapter.settings.get("process") == "inline":
        return inbox_process(message.pk), True
    process_queued(message.pk)
    return message, True
