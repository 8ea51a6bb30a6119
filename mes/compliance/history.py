"""Configuration history, captured (21 CFR 11.10(e); Annex 11 §9, §10; AS9100 7.5.3).

Every change to master data and configuration — operations, aliases, parts, routings, steps,
characteristics and their limits, qualifications, users, roles and their members, profiles, API
tokens, retention classes, adapters — is copied by a database trigger (django-pghistory) into the
model's event table, whatever sent it: a screen, the admin, a service, the shell, raw SQL. Event tables
are append-only. Who, from where and why ride along as the trigger's context:

- `HistoryContextMiddleware` names the signed-in user, the path and the request id of every request
  that may write (POST, PUT, PATCH, DELETE);
- `reason_for_change(text)` adds the reason: the admin's "reason for change" field, a change order's
  reason, a profile change's reason. Outside a request it opens a context of its own.

A model is tracked by decorating it with `tracked()` (or, for Django's own user and group tables,
through a proxy in mes.compliance.models). The events are then sealed into the keyed audit chain
"config" by mes.compliance.config_seal, which is what the audit review and the verifier read.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pghistory
import pghistory.config
import pghistory.runtime
from django.http import HttpRequest
from pghistory.middleware import HistoryMiddleware

from mes.observability import current_request_id

_M = TypeVar("_M", bound=type)  # the model class a decorator returns as it received it

ROW_EVENTS = ("created", "changed", "deleted")  # as the audit trail names them: masterdata.characteristic.changed
LINK_EVENTS = ("added", "removed")  # rows of a many-to-many table


def _trackers(link: bool) -> tuple:
    """New tracker objects for each model (a tracker keeps the fields of the model it was set up on)."""
    if link:
        return pghistory.InsertEvent("added"), pghistory.DeleteEvent("removed")
    return pghistory.InsertEvent("created"), pghistory.UpdateEvent("changed"), pghistory.DeleteEvent("deleted")


def tracked(*, exclude: tuple[str, ...] = (), link: bool = False, **options: Any) -> Callable[[_M], _M]:
    """Decorator: capture every insert, update (of a tracked field) and delete of the model, append-only.

    `exclude` leaves out fields that change by themselves (timestamps of use, run state) or must not be
    copied (secrets, hashes); `link` is for a many-to-many table (rows are only added and removed)."""
    return pghistory.track(*_trackers(link), exclude=list(exclude) or None, append_only=True, **options)


class HistoryContextMiddleware(HistoryMiddleware):
    """Names who changed what, from which page or endpoint, for every request that may write."""

    def get_context(self, request: HttpRequest) -> dict:
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        return {
            "user": user.pk if user is not None and signed_in else None,
            "username": user.get_username() if user is not None and signed_in else "",
            "url": request.path,
            "request_id": current_request_id() or "",
        }


@contextlib.contextmanager
def reason_for_change(reason: str, **more: Any) -> Iterator[None]:
    """Attach `reason` (and any `more` context) to the configuration changes made inside the block."""
    with pghistory.context(reason=(reason or "").strip(), **more):
        yield


CONTEXT_STATEMENT = (
    "SELECT set_config('pghistory.context_id', %s, true), set_config('pghistory.context_metadata', %s, true)"
)


def context_statement() -> tuple[str, list] | None:
    """The statement that gives the open context (who, from where, why) to the triggers of the writes after
    it in the transaction — what pghistory's execute wrapper puts in front of each write sent through
    Django's cursor — for writes sent without it (mes.prepared.run_prepared); None when no context is open."""
    current = getattr(pghistory.runtime._tracker, "value", None)
    if current is None:
        return None
    metadata = json.dumps(current.metadata, cls=pghistory.config.json_encoder())
    return CONTEXT_STATEMENT, [str(current.id), metadata]
