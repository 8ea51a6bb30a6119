"""What every traveler service shares: locking, guards, audit and outbox writes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import Model, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import audit_record, record_seal
from mes.compliance.models import AuditEvent
from mes.events.models import OutboxMessage
from mes.events.services import outbox_emit_many
from mes.masterdata.models import OperationAlias, Site
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


def lock_step(step_id: int, traveler_id: int | None = None) -> tuple[Traveler, TravelerStep]:
    """The step's traveler, locked (found through the step in the same statement, unless the caller
    knows it: a step never moves to another traveler), then the step."""
    owner = (
        traveler_id
        if traveler_id is not None
        else Subquery(TravelerStep.objects.filter(pk=step_id).values("traveler_id")[:1])
    )
    traveler = (
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .get(pk=owner)
    )
    step = TravelerStep.objects.select_related("operation", "work_center").get(pk=step_id, traveler_id=traveler.pk)
    step.traveler = traveler  # the same row, as locked: callers read its state from the step
    return traveler, step


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
    traveler.version += 1
    if traveler.changed_at is None:
        clock(traveler)
    if step is None:
        Traveler.objects.filter(pk=traveler.pk).update(version=traveler.version, changed_at=traveler.changed_at)
        return
    step.version += 1
    with connection.cursor() as cursor:  # both in one statement
        cursor.execute(
            "WITH t AS (UPDATE travelers_traveler SET version = %s, changed_at = %s WHERE id = %s) "
            "UPDATE travelers_travelerstep SET version = %s WHERE id = %s",
            [traveler.version, traveler.changed_at, traveler.pk, step.version, step.pk],
        )


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
    from travelers.content import steps_state

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
    base = traveler_ref(traveler)
    if step is not None:
        base["step"] = _step_ref(step)
    return outbox_emit_many(
        event_type=event_type,
        aggregate_type="traveler",
        aggregate_id=traveler.number,
        datas=[{**base, **data} for data in datas],
        site_code=traveler.site.code,
        work_center_code=step.work_center.code if step is not None and step.work_center else "",
    )


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
