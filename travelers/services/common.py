"""What every traveler service shares: locking, guards, audit and outbox writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    OneToOneField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    SmallIntegerField,
    Subquery,
    TextField,
)
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import audit_events, audit_head_lock, audit_record, head_move_statements, record_seal
from mes.compliance.history import context_statement
from mes.compliance.models import AuditEvent
from mes.events.models import OutboxMessage
from mes.events.services import outbox_emit_many, outbox_messages
from mes.masterdata.models import OperationAlias, Site
from mes.prepared import Bound, Prepared, one_text, read_together, run_prepared
from travelers.content import steps_state
from travelers.errors import NotAuthorized, TooManyRequests, TravelerHeld, TravelerNotOpen
from travelers.models import Traveler, TravelerCharacteristic, TravelerStep
from travelers.states import OPEN_TRAVELER_STATES


def require_perm(actor: User | AnonymousUser | None, perm: str, doing: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(f"travelers.{perm}"):
        name = getattr(actor, "username", "anonymous")
        raise NotAuthorized(
            gettext("%(name)s is not allowed to %(doing)s") % {"name": name, "doing": doing}, field="actor"
        )


def lock_traveler(traveler_id: int) -> Traveler:
    """The traveler row, locked: every change to a traveler, its steps and records runs under it, so
    two tablets on the same traveler take turns and the second sees what the first did."""
    return (
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .get(pk=traveler_id)
    )


def _traveler_locked(owner: int | Subquery) -> QuerySet[Traveler]:
    return (
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .filter(pk=owner)
        .order_by()  # one row: no sort to compile or run
    )


def _step_of(step_id: int, traveler_id: int) -> QuerySet[TravelerStep]:
    return (
        TravelerStep.objects.select_related("operation", "work_center")
        .filter(pk=step_id, traveler_id=traveler_id)
        .order_by()  # one row
    )


# The two reads of every change to a step, compiled once (mes.prepared): the record path's hottest SQL.
TRAVELER_LOCKED: Prepared[Traveler] = Prepared(_traveler_locked)
STEP_OF: Prepared[TravelerStep] = Prepared(_step_of)
TRAVELER_OF_STEP_LOCKED: Prepared[Traveler] = Prepared(
    lambda step_id: _traveler_locked(Subquery(TravelerStep.objects.filter(pk=step_id).values("traveler_id")[:1]))
)


def lock_step(step_id: int, traveler_id: int | None = None) -> tuple[Traveler, TravelerStep]:
    """The step's traveler, locked (found through the step in the same statement, unless the caller
    knows it: a step never moves to another traveler), then the step."""
    owner = TRAVELER_LOCKED(traveler_id) if traveler_id is not None else TRAVELER_OF_STEP_LOCKED(step_id)
    traveler = owner.first()
    if traveler is None:
        raise Traveler.DoesNotExist("Traveler matching query does not exist.")
    step = STEP_OF(step_id, traveler.pk).first()
    if step is None:
        raise TravelerStep.DoesNotExist("TravelerStep matching query does not exist.")
    step.traveler = traveler  # the same row, as locked: callers read its state from the step
    return traveler, step


def lock_step_and_read(
    step_id: int, traveler_id: int, *reads: Bound[Any] | tuple[str, list]
) -> tuple[Traveler, TravelerStep, list[list]]:
    """lock_step, with `reads` after it in the same round trip (mes.prepared.read_together): each statement runs
    after the one before, so every read sees what the traveler's lock waited for, as separate queries
    would. Returns (traveler, step, what each read gave)."""
    travelers, steps, *results = read_together([TRAVELER_LOCKED(traveler_id), STEP_OF(step_id, traveler_id), *reads])
    if not travelers:
        raise Traveler.DoesNotExist("Traveler matching query does not exist.")
    if not steps:
        raise TravelerStep.DoesNotExist("TravelerStep matching query does not exist.")
    traveler, step = travelers[0], steps[0]
    step.traveler = traveler
    return traveler, step, results


# The SQL of an INSERT of one model's rows, by (model, with ids drawn, more than one row): the rows change,
# the statement does not (one row is VALUES, more are UNNEST of one array per column: Django's own shapes);
# with it, each field's attribute name, the field, and the value types it saves unchanged (_as_is).
_INSERTS: dict[tuple[type, bool, bool], tuple[str, list[tuple[str, Field, tuple[type, ...]]]]] = {}

# Fields whose pre_save and get_db_prep_save give back a value of these exact types unchanged (Django's own
# classes only, not subclasses, which may convert): a step's batch called them ~50 times a value, a fifth of
# its CPU. Any other value (a Decimal, which Django refuses when not finite, a datetime, a JSON payload, a str in
# an integer field) goes through them.
_AS_IS: dict[type, tuple[type, ...]] = {
    **dict.fromkeys((CharField, TextField), (str, type(None))),
    **dict.fromkeys((AutoField, BigAutoField, IntegerField, BigIntegerField, PositiveIntegerField,
                     PositiveSmallIntegerField, SmallIntegerField), (int, type(None))),
    BooleanField: (bool, type(None)),
}  # fmt: skip


def _as_is(field: Field) -> tuple[type, ...]:
    if type(field) in (ForeignKey, OneToOneField):  # saves its target's value, prepared as the target would
        field = field.target_field  # type: ignore[attr-defined]
    return _AS_IS.get(type(field), ())


def insert_statement(objs: Sequence[Model]) -> tuple[str, list]:
    """The INSERT of `objs` (one model, unsaved) in one statement, as bulk_create writes them, to send
    with other writes (write_together); those with an id (drawn beforehand) are written with it. The
    statement is compiled by Django once per shape; its parameters are each field's value prepared for
    saving, as Django prepares them (pre_save, then get_db_prep_save)."""
    model, with_pk, many = type(objs[0]), objs[0].pk is not None, len(objs) > 1
    cached = _INSERTS.get((model, with_pk, many))
    if cached is not None:
        sql, shape = cached
        rows, expressions = [], False
        for obj in objs:
            row = []
            for attname, field, as_is in shape:
                value = getattr(obj, attname)
                if type(value) not in as_is:
                    value = field.get_db_prep_save(field.pre_save(obj, True), connection)
                    expressions = expressions or hasattr(value, "resolve_expression")
                row.append(value)
            rows.append(row)
        if not expressions:
            return sql, [list(column) for column in zip(*rows, strict=True)] if many else rows[0]
    meta = model._meta
    fields = [f for f in meta.local_concrete_fields if not f.generated and (with_pk or f is not meta.auto_field)]
    query = InsertQuery(model)
    query.insert_values(fields, list(objs))
    [(sql, params)] = query.get_compiler(using=DEFAULT_DB_ALIAS).as_sql()
    if _plain_fields(fields) and not any(
        hasattr(getattr(obj, f.attname), "resolve_expression") for obj in objs for f in fields
    ):
        _INSERTS[(model, with_pk, many)] = (sql, [(f.attname, f, _as_is(f)) for f in fields])
    return sql, list(params)


def _plain_fields(fields: list) -> bool:
    """Whether every field is written as a plain parameter, whatever its value (no placeholder of its own,
    a type Django knows how to send as an array): then the statement's shape depends on nothing else."""
    return not any(hasattr(field, "get_placeholder") for field in fields) and all(
        (field.target_field if field.is_relation else field).get_internal_type() in connection.data_types
        for field in fields
    )


def write_together(statements: list[tuple[str, list]], *, written: Sequence[Model] = ()) -> None:
    """Several writes in one round trip, in order (see mes.prepared.read_together), each one statement; `written` are
    the instances they inserted, marked saved. As prepared statements in psycopg's pipeline, the parameters
    bound on the server (binding arrays of values into the SQL's text on the client cost more CPU than
    everything else in a step's batch), behind the statement that gives the triggers the open history
    context, as Django's cursor would have put it in front; otherwise in one execute, bound on the client."""
    if settings.DATABASE_PREPARED_STATEMENTS:
        context = context_statement()
        run_prepared(connection, [context, *statements] if context else statements)
    else:
        with connection.cursor() as cursor:
            cursor.execute(one_text(cursor, statements), [])
    for obj in written:
        obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS


def ensure_open(traveler: Traveler) -> None:
    if traveler.status not in OPEN_TRAVELER_STATES:
        raise TravelerNotOpen(
            gettext("traveler %(number)s is %(status)s: it is read-only")
            % {"number": traveler.number, "status": traveler.get_status_display().lower()},
            field="traveler",
        )


def ensure_not_held(traveler: Traveler) -> None:
    ensure_open(traveler)
    if traveler.on_hold:
        reason = traveler.holds.filter(released_at__isnull=True).values_list("reason", flat=True).first()
        raise TravelerHeld(
            gettext("traveler %(number)s is on hold: %(reason)s") % {"number": traveler.number, "reason": reason},
            field="traveler",
        )


def clock(traveler: Traveler) -> dt.datetime:
    """The time to stamp a change of `traveler` with: now, yet always after its previous change, whatever
    the clocks of the servers say. Signatures are rebuilt "as of just before" their time, so the order
    of a traveler's stamps must be the order of its changes (travelers.content). Call it once per change,
    under the traveler's lock, and stamp everything the change makes with it; bump() stores it."""
    now = timezone.now()
    if traveler.changed_at is not None and now <= traveler.changed_at:
        now = traveler.changed_at + dt.timedelta(microseconds=1)
    traveler.changed_at = now
    return now


def bump(traveler: Traveler, *, step: TravelerStep | None = None) -> None:
    """Advance the version of what changed, so a client holding an older version sees a conflict, and
    store the traveler's last-change time (see clock)."""
    if step is None:
        traveler.version += 1
        if traveler.changed_at is None:
            clock(traveler)
        Traveler.objects.filter(pk=traveler.pk).update(version=traveler.version, changed_at=traveler.changed_at)
        return
    with connection.cursor() as cursor:
        cursor.execute(*bump_statement(traveler, step))


_BUMP = "WITH t AS (UPDATE travelers_traveler SET version = %s, changed_at = %s WHERE id = %s)"


def bump_statement(traveler: Traveler, step: TravelerStep, fields: Sequence[str] = ()) -> tuple[str, list]:
    """bump(traveler, step=step) as one statement, to send with other writes (write_together); with
    `fields`, the step's fields of those names are saved in it too, as step.save(update_fields=…) would."""
    traveler.version += 1
    if traveler.changed_at is None:
        clock(traveler)
    step.version += 1
    saved = [f for f in TravelerStep._meta.concrete_fields if f.name in fields]
    if len(saved) != len(fields):
        raise ValueError(f"not fields of a step's row: {sorted(set(fields) - {f.name for f in saved})}")
    sets = "".join(f", {connection.ops.quote_name(str(f.column))} = %s" for f in saved)
    values = [f.get_db_prep_save(f.pre_save(step, False), connection) for f in saved]
    # Both in one statement; the column names are the model's, quoted.
    sql = f"{_BUMP} UPDATE travelers_travelerstep SET version = %s{sets} WHERE id = %s"  # noqa: S608
    return sql, [traveler.version, traveler.changed_at, traveler.pk, step.version, *values, step.pk]


def write_change(
    traveler: Traveler,
    *,
    head: tuple[int, str] | None,
    actor: User | None,
    statements: list[tuple[str, list]],
    entries: list[dict],
    messages: list[OutboxMessage],
    written: Sequence[Model] = (),
) -> list[AuditEvent]:
    """A change to a traveler written in one round trip, in this order: its own `statements` (inserting
    `written`); an audit event per entry (audit.audit_events: action, object, changes, seal) in the
    traveler's chain, numbered and linked after `head` — read under the chain head's lock (audit.HEAD_LOCK)
    in this transaction, or None to lock it now — and the head moved over them one event at a time; the
    outbox `messages` (events_of). What audit() and emit() do statement by statement, less the round trips."""
    chain = f"traveler:{traveler.pk}"
    if head is None:  # the chain's first event (a traveler's chain starts at its release)
        with connection.cursor() as cursor:
            head = audit_head_lock(cursor, chain)
    events = audit_events(chain=chain, head=head, actor=actor, entries=entries)
    write_together(
        [*statements, insert_statement(events), *head_move_statements(events), insert_statement(messages)],
        written=[*written, *events, *messages],
    )
    return events


def audit(
    traveler: Traveler,
    *,
    action: str,
    obj: Model,
    actor: User | None,
    changes: dict | None = None,
    reason: str = "",
    state: dict | list[dict] | None = None,
) -> AuditEvent:
    """An event in the traveler's audit chain about `obj`; `state` (travelers.content) is sealed in it."""
    return audit_record(
        chain=f"traveler:{traveler.pk}",
        action=action,
        object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",
        object_id=obj.pk,
        actor=actor,
        changes=changes,
        reason=reason,
        seal=record_seal(state) if state is not None else "",
    )


def audit_steps_added(
    traveler: Traveler, steps: list[TravelerStep], *, actor: User | None, origin: str, reason: str = ""
) -> AuditEvent:
    """One event for steps joining the traveler (release, rework, re-plan), sealing their snapshots with
    their characteristics and limits, so a limit changed behind the services' back is found."""
    chars: dict[int, list[TravelerCharacteristic]] = {}
    for c in TravelerCharacteristic.objects.filter(step__in=[s.pk for s in steps]).order_by(
        "step_id", "sequence", "id"
    ):
        chars.setdefault(c.step_id, []).append(c)
    return audit(
        traveler,
        action="steps.added",
        obj=traveler,
        actor=actor,
        reason=reason,
        changes={
            "origin": [None, origin],
            "steps": [None, sorted(s.sequence for s in steps)],
            "step_ids": [None, sorted(s.pk for s in steps)],
        },
        state=steps_state(steps, lambda s: chars.get(s.pk, [])),
    )


def site_aliases(site: Site) -> dict[int, str]:
    """operation id -> the site's own code for it (a site-specific alias wins over a system-wide one)."""
    aliases = (
        OperationAlias.objects.filter(source_system=site.legacy_system)
        .filter(Q(site=site) | Q(site__isnull=True))
        .order_by("-site_id")  # NULLs first, so the site's own code is written last and wins
        .values_list("operation_id", "code")
    )
    return dict(aliases)


def operation_ref(step: TravelerStep) -> dict:
    """A canonical operation with the site's own code for it (kept on the step at release), so any
    subscriber can read it."""
    return {"code": step.operation.code, "name": step.operation.name, "site_alias": step.operation_alias or None}


def traveler_ref(traveler: Traveler) -> dict:
    item = traveler.item
    return {
        "traveler": traveler.number,
        "site": traveler.site.code,
        "work_order": traveler.work_order.number,
        "part": {"number": item.part.number, "revision": item.part_revision.revision},
        "serial" if item.tracking == "serial" else "lot": item.identifier,
        "quantity": item.quantity,
        "status": traveler.status,
        "on_hold": traveler.on_hold,
    }


def _step_ref(step: TravelerStep) -> dict:
    return {
        "sequence": step.sequence,
        "title": step.title,
        "status": step.status,
        "operation": operation_ref(step),
        "work_center": step.work_center.code if step.work_center else None,
    }


def emit(
    traveler: Traveler, event_type: str, data: dict | None = None, *, step: TravelerStep | None = None
) -> OutboxMessage:
    return emit_many(traveler, event_type, [data or {}], step=step)[0]


def emit_many(
    traveler: Traveler, event_type: str, datas: list[dict], *, step: TravelerStep | None = None
) -> list[OutboxMessage]:
    """One event of `event_type` per item of `datas` (each merged over the traveler's and step's
    references), written in one statement."""
    return outbox_emit_many(**_outbox_args(traveler, event_type, datas, step))


def events_of(
    traveler: Traveler, event_type: str, datas: list[dict], *, step: TravelerStep | None = None
) -> list[OutboxMessage]:
    """The messages emit_many writes, built and not written (write them with insert_statement)."""
    return outbox_messages(**_outbox_args(traveler, event_type, datas, step))


def _outbox_args(traveler: Traveler, event_type: str, datas: list[dict], step: TravelerStep | None) -> dict:
    base = traveler_ref(traveler)
    if step is not None:
        base["step"] = _step_ref(step)
    return {
        "event_type": event_type,
        "aggregate_type": "traveler",
        "aggregate_id": traveler.number,
        "datas": [{**base, **data} for data in datas],
        "site_code": traveler.site.code,
        "work_center_code": step.work_center.code if step is not None and step.work_center else "",
    }


def within_hourly_limit(recent: QuerySet[Any], at_field: str, what: str) -> None:
    """Refuse (429) one more of `what` when the actor's `recent` rows of the last hour reach the limit
    (HOURLY_LIMITS, per kind; observed: one operator stacked 359 holds and 311 NCRs in 4.5 minutes)."""
    limit = int(getattr(settings, "HOURLY_LIMITS", {}).get(what, 30))
    since = timezone.now() - dt.timedelta(hours=1)
    if recent.filter(**{f"{at_field}__gte": since}).count() >= limit:
        raise TooManyRequests(
            gettext(
                "you placed %(limit)s %(what)s in the last hour, the most one person may: ask a supervisor to look "
                "at what is wrong"
            )
            % {"limit": limit, "what": what},
            field=None,
        )
