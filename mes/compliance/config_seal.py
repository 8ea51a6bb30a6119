"""Configuration history, sealed: every change mes.compliance.history captured is appended to the keyed
audit chain "config", in the order it happened, with who, when, old → new and why.

    config_seal()          # beat, every minute; also before the audit review reads and before verifying
    check_config(report)   # registered with the verifier: each sealed event still matches its capture,
                           # and no capture waits unsealed longer than SEAL_GRACE

Each audit event names the changed object (object_type "masterdata.characteristic", its id) and the
action ("masterdata.characteristic.changed"); `changes` holds field → [old, new] in plain values (a
reference reads "MILL – Milling (#3)"), and `seal` the SHA-256 of the captured row, which the verifier
recomputes. ConfigEventSeal links each captured event to its audit event, so a capture committed late
(a long transaction) is sealed when it appears, never skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import Exists, Field, OuterRef
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from pghistory.models import Context, Event

from .audit import audit_record, record_seal
from .canonical import jsonable
from .models import AuditEvent, ConfigEventSeal

if TYPE_CHECKING:
    from .verify import Report

T = TypeVar("T")
# pghistory builds one event model per tracked model; their own columns (pgh_obj_id, pgh_context) and
# pgh_tracked_model are not on the abstract Event the stubs know, so those models and rows are Any here.
EventModel = Any
EventRow = Any

CHAIN = "config"
SEAL_LOCK = 0x7A11_C0F1  # advisory lock: one sealer at a time
SEAL_GRACE = dt.timedelta(minutes=10)  # the verifier reports captures older than this still unsealed
BEFORE_HISTORY = "(before the history began)"
NO_CONTEXT = "outside the application (shell, SQL or migration)"
EMPTY: tuple[object, ...] = (None, "", [], {})


@cache
def event_models() -> tuple[EventModel, ...]:
    """Every event table mes.compliance.history declared, in a fixed order."""
    found = [m for m in apps.get_models() if issubclass(m, Event) and getattr(m, "pgh_tracked_model", None)]
    return tuple(sorted(found, key=lambda m: m._meta.label_lower))


def subject_of(event_model: EventModel) -> str:
    """The changed table as the audit trail names it: "masterdata.characteristic", "auth.user_groups"."""
    return event_model.pgh_tracked_model._meta.concrete_model._meta.label_lower


def _fields(event_model: EventModel) -> list[Field]:
    return [f for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")]


def _stored(row: EventRow, field: Field) -> Any:
    """A column's value as stored: a file as its name (the file's content is the record's own business),
    bytes as their SHA-256, anything else as it is."""
    value = getattr(row, field.attname)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, bytes | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return value


def snapshot(event: EventRow) -> dict:
    """The captured row, as stored (ids for references): what the seal covers."""
    return jsonable({f.attname: _stored(event, f) for f in _fields(type(event))})


class _Labels:
    """Plain words for references ("MILL – Milling (#3)"), looked up once per sealing run."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, object], str] = {}

    def of(self, field: Field, value: Any) -> Any:
        related = field.related_model if field.is_relation else None
        if value is None or related is None or isinstance(related, str):
            return value
        key = (related._meta.label_lower, value)
        if key not in self.seen:
            target = related._default_manager.filter(pk=value).first()
            self.seen[key] = f"{target} (#{value})" if target is not None else f"#{value}"
        return self.seen[key]


def _changes(event: EventRow, previous: EventRow | None, labels: _Labels) -> dict:
    fields = _fields(type(event))
    now = {f.attname: _stored(event, f) for f in fields}
    pairs: dict[Field, tuple[object, object]]
    if event.pgh_label in ("created", "added"):
        pairs = {f: (None, now[f.attname]) for f in fields if now[f.attname] not in EMPTY}
    elif event.pgh_label in ("deleted", "removed"):
        pairs = {f: (now[f.attname], None) for f in fields if now[f.attname] not in EMPTY}
    elif previous is None:  # a row that existed before tracking began
        pairs = {f: (BEFORE_HISTORY, now[f.attname]) for f in fields}
    else:
        pairs = {f: (_stored(previous, f), now[f.attname]) for f in fields}
        pairs = {f: pair for f, pair in pairs.items() if pair[0] != pair[1]}
    return jsonable(
        {
            f.name: [labels.of(f, old) if old != BEFORE_HISTORY else old, labels.of(f, new)]
            for f, (old, new) in pairs.items()
        }
    )


def _actor(context: Context | None) -> tuple[User | None, str | None, dict]:
    meta = (context.metadata if context is not None else None) or {}
    user = get_user_model().objects.filter(pk=meta["user"]).first() if meta.get("user") else None
    if user is not None:
        return user, None, meta
    if context is None:
        return None, NO_CONTEXT, meta
    return None, meta.get("username") or meta.get("via") or "not signed in", meta


def _pending(event_model: EventModel, limit: int) -> list[EventRow]:
    label = event_model._meta.label_lower
    sealed = ConfigEventSeal.objects.filter(event_model=label, event_id=OuterRef("pgh_id"))
    return list(event_model.objects.filter(~Exists(sealed)).select_related("pgh_context").order_by("pgh_id")[:limit])


def config_seal(limit: int = 2000) -> int:
    """Seal up to `limit` captured events per table; returns how many were sealed."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [SEAL_LOCK])
        pending = [(event.pgh_created_at, model, event) for model in event_models() for event in _pending(model, limit)]
        pending.sort(key=lambda item: (item[0], item[1]._meta.label_lower, item[2].pgh_id))
        labels = _Labels()
        for _, model, event in pending:
            previous = (
                model.objects.filter(pgh_obj_id=event.pgh_obj_id, pgh_id__lt=event.pgh_id).order_by("-pgh_id").first()
            )
            actor, actor_name, meta = _actor(event.pgh_context)
            subject = subject_of(model)
            audit = audit_record(
                chain=CHAIN,
                action=f"{subject}.{event.pgh_label}",
                object_type=subject,
                object_id=event.pgh_obj_id,
                actor=actor,
                actor_name=actor_name,
                changes=_changes(event, previous, labels),
                reason=meta.get("reason", ""),
                seal=record_seal(snapshot(event)),
                occurred_at=event.pgh_created_at,
                request_id=meta.get("request_id", ""),
            )
            ConfigEventSeal.objects.create(
                event_model=model._meta.label_lower, event_id=event.pgh_id, audit_event=audit
            )
    return len(pending)


def config_seal_all() -> int:
    """Seal everything captured so far (management commands, the audit review, tests)."""
    total = 0
    while sealed := config_seal():
        total += sealed
    return total


# --- The verifier's check -------------------------------------------------------------------------------------


def check_config(report: Report, shard: tuple[int, int] | None = None) -> None:
    """Each sealed capture still matches its seal and names the same object; each capture is sealed
    within SEAL_GRACE; no sealed capture has disappeared."""
    index, count = shard or (0, 1)
    if index != 0:  # small tables: one process does it all
        return
    horizon = timezone.now() - SEAL_GRACE
    for model in event_models():
        label = model._meta.label_lower
        seals = dict(
            ConfigEventSeal.objects.filter(event_model=label).values_list("event_id", "audit_event_id").iterator()
        )
        audits: dict[int, AuditEvent] = {}
        for chunk in _chunks(list(seals.values()), 2000):
            audits.update(
                (a.pk, a) for a in AuditEvent.objects.filter(pk__in=chunk).only("pk", "seal", "object_id", "action")
            )
        found = set()
        late = 0
        for event in model.objects.order_by("pgh_id").iterator(chunk_size=2000):
            report.count("configuration changes")
            found.add(event.pgh_id)
            where = f"{subject_of(model)} {event.pgh_obj_id}, change {event.pgh_id} ({event.pgh_label})"
            audit_id = seals.get(event.pgh_id)
            if audit_id is None:
                late += event.pgh_created_at < horizon
                continue
            audit = audits[audit_id]
            if audit.seal != record_seal(snapshot(event)) or audit.object_id != str(event.pgh_obj_id):
                report.add("records", where, "the captured change differs from what was sealed in the audit trail")
        if late:
            report.add("records", label, f"{late} configuration change(s) captured but not sealed for {SEAL_GRACE}")
        for event_id in sorted(seals.keys() - found):
            report.add("records", f"{label} change {event_id}", "sealed in the audit trail, gone from the database")


def _chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
