"""Final quality sign-off: approve (the traveler closes, read-only, and "traveler closed" goes to the
outbox) or reject with a reason (a nonconformance holds it)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext

from mes.compliance.audit import audit_record
from mes.compliance.models import Signature
from mes.compliance.signing import SigningAuthority, signature_record, signing_authenticate
from travelers.content import current_measurements, traveler_content
from travelers.errors import StepStateRefused
from travelers.models import Item, Measurement, Traveler, WorkOrder
from travelers.states import TRAVELER_ALLOWED, NcrStatus, TravelerStatus, transition

from .common import audit, bump, clock, emit, ensure_not_held, lock_traveler, require_perm
from .quality import ncr_create


def traveler_signoff(
    *,
    traveler: Traveler,
    approve: bool,
    actor: User,
    secret: str,
    reason: str = "",
    username: str | None = None,
    session_key: str | None = None,
) -> Traveler:
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _traveler_signoff(traveler=traveler, approve=approve, actor=actor, authority=authority, reason=reason)


def closed_summary(traveler: Traveler) -> dict:
    values = current_measurements(
        list(Measurement.objects.filter(step__traveler=traveler).select_related("characteristic", "step__operation"))
    )
    return {
        "closed_at": traveler.closed_at,
        "steps": traveler.steps.count(),
        "values": [
            {
                "step": m.step.sequence,
                "operation": m.step.operation.code,
                "characteristic": m.characteristic.code,
                "value": m.value_numeric if m.value_numeric is not None else m.value_text,
                "unit": m.spec_unit or None,
                "judgment": m.judgment,
            }
            for m in values
        ],
        "ncrs": list(traveler.ncrs.values_list("number", flat=True)),
    }


@transaction.atomic
def _traveler_signoff(
    *, traveler: Traveler, approve: bool, actor: User, authority: SigningAuthority, reason: str
) -> Traveler:
    traveler = lock_traveler(traveler.pk)
    require_perm(actor, "signoff_traveler", "sign travelers off")
    ensure_not_held(traveler)
    if traveler.status != TravelerStatus.AWAITING_SIGNOFF:
        raise StepStateRefused(
            gettext("traveler %(number)s is %(status)s, not awaiting sign-off")
            % {"number": traveler.number, "status": traveler.get_status_display().lower()},
            field="traveler",
        )
    if traveler.ncrs.filter(status=NcrStatus.OPEN).exists():
        raise StepStateRefused(gettext("every nonconformance must be dispositioned first"), field="traveler")
    reason = (reason or "").strip()
    if not approve and not reason:
        raise StepStateRefused(gettext("say why the traveler is rejected"), field="reason")
    now = clock(traveler)
    signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.APPROVED if approve else Signature.Meaning.REJECTED,
        record_type="travelers.traveler",
        record_id=traveler.pk,
        content=traveler_content(traveler.pk, now),
        audit_chain=f"traveler:{traveler.pk}",
        comment=reason,
        signed_at=now,
    )
    old = traveler.status
    if approve:
        traveler.status = transition(old, TravelerStatus.CLOSED, TRAVELER_ALLOWED, traveler.number)
        traveler.closed_at, traveler.final_signature = now, signature
        traveler.version += 1  # the last change: a closed traveler is read-only from here on (database guard)
        traveler.save(update_fields=["status", "closed_at", "final_signature", "version", "changed_at"])
        Item.objects.filter(pk=traveler.item_id).update(status=Item.Status.AVAILABLE)
        audit(traveler, action="traveler.closed", obj=traveler, actor=actor, changes={"status": [old, "closed"]})
        emit(traveler, "traveler.closed", closed_summary(traveler))
        _complete_work_order(traveler.work_order_id, actor)
        return traveler
    traveler.status = transition(old, TravelerStatus.ACTIVE, TRAVELER_ALLOWED, traveler.number)
    traveler.save(update_fields=["status"])
    bump(traveler)
    audit(
        traveler,
        action="traveler.rejected",
        obj=traveler,
        actor=actor,
        changes={"status": [old, "active"]},
        reason=reason,
    )
    emit(traveler, "traveler.rejected", {"reason": reason})
    ncr_create(
        traveler=traveler,
        step=None,
        measurement=None,
        description=f"Rejected at final sign-off: {reason}",
        actor=actor,
        automatic=False,
    )
    return traveler


def _complete_work_order(work_order_id: int, actor: User) -> None:
    order = WorkOrder.objects.select_for_update().get(pk=work_order_id)
    travelers = list(order.travelers.exclude(status=TravelerStatus.CANCELLED).values_list("status", "item__quantity"))
    done = sum(q for status, q in travelers if status in (TravelerStatus.CLOSED, TravelerStatus.SCRAPPED))
    if (
        travelers
        and done >= order.quantity
        and all(status in (TravelerStatus.CLOSED, TravelerStatus.SCRAPPED) for status, _ in travelers)
    ):
        order.status = WorkOrder.Status.COMPLETED
        order.save(update_fields=["status"])
        audit_record(
            chain=f"workorder:{order.pk}",
            action="workorder.completed",
            object_type="travelers.workorder",
            object_id=order.pk,
            actor=actor,
            changes={"status": ["in_progress", "completed"]},
        )
