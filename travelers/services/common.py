"""What every traveler service shares: locking, guards, audit and outbox writes."""

from __future__ import annotations

from django.db.models import Q, Subquery

from mes.compliance.audit import audit_record
from mes.events.services import outbox_emit
from mes.masterdata.models import OperationAlias
from travelers.errors import NotAuthorized, TravelerHeld, TravelerNotOpen
from travelers.models import Traveler, TravelerStep
from travelers.states import OPEN_TRAVELER_STATES


def require_perm(actor, perm: str, doing: str) -> None:
    if actor is None or not actor.is_authenticated or not actor.has_perm(f"travelers.{perm}"):
        name = getattr(actor, "username", "anonymous")
        raise NotAuthorized(f"{name} is not allowed to {doing}", field="actor")


def lock_traveler(traveler_id: int) -> Traveler:
    """The traveler row, locked: every change to a traveler, its steps and records runs under it, so
    two tablets on the same traveler take turns and the second sees what the first did."""
    return (
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .get(pk=traveler_id)
    )


def lock_step(step_id: int) -> tuple[Traveler, TravelerStep]:
    """The step's traveler, locked (found through the step in the same statement), then the step."""
    traveler = (
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .get(pk=Subquery(TravelerStep.objects.filter(pk=step_id).values("traveler_id")[:1]))
    )
    step = TravelerStep.objects.select_related("operation", "work_center").get(pk=step_id)
    return traveler, step


def ensure_open(traveler: Traveler) -> None:
    if traveler.status not in OPEN_TRAVELER_STATES:
        raise TravelerNotOpen(
            f"traveler {traveler.number} is {traveler.get_status_display().lower()}: it is read-only",
            field="traveler",
        )


def ensure_not_held(traveler: Traveler) -> None:
    ensure_open(traveler)
    if traveler.on_hold:
        reason = traveler.holds.filter(released_at__isnull=True).values_list("reason", flat=True).first()
        raise TravelerHeld(f"traveler {traveler.number} is on hold: {reason}", field="traveler")


def bump(traveler: Traveler, *, step: TravelerStep | None = None) -> None:
    """Advance the version of what changed, so a client holding an older version sees a conflict."""
    traveler.version += 1
    Traveler.objects.filter(pk=traveler.pk).update(version=traveler.version)
    if step is not None:
        step.version += 1
        TravelerStep.objects.filter(pk=step.pk).update(version=step.version)


def audit(traveler: Traveler, *, action: str, obj, actor, changes: dict | None = None, reason: str = ""):
    return audit_record(
        chain=f"traveler:{traveler.pk}",
        action=action,
        object_type=f"{obj._meta.app_label}.{obj._meta.model_name}",
        object_id=obj.pk,
        actor=actor,
        changes=changes,
        reason=reason,
    )


def site_aliases(site) -> dict[int, str]:
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


def emit(traveler: Traveler, event_type: str, data: dict | None = None, *, step: TravelerStep | None = None):
    payload = traveler_ref(traveler)
    if step is not None:
        payload["step"] = {
            "sequence": step.sequence,
            "title": step.title,
            "status": step.status,
            "operation": operation_ref(step),
            "work_center": step.work_center.code if step.work_center_id else None,
        }
    payload.update(data or {})
    return outbox_emit(
        event_type=event_type,
        aggregate_type="traveler",
        aggregate_id=traveler.number,
        data=payload,
        site_code=traveler.site.code,
        work_center_code=step.work_center.code if step is not None and step.work_center_id else "",
    )
