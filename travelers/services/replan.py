"""Re-planning an open traveler onto another released routing revision: explicit and signed. Steps
not yet started are skipped with the re-plan as their reason; the new routing's later steps are added."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext

from mes.compliance.models import Signature
from mes.compliance.signing import SigningAuthority, signature_record, signing_authenticate
from mes.masterdata.models import Routing
from mes.masterdata.states import RoutingStatus
from travelers.content import traveler_content
from travelers.errors import StepStateRefused
from travelers.models import Traveler, TravelerCharacteristic, TravelerReplan, TravelerStep
from travelers.states import StepStatus

from .common import (
    audit,
    audit_steps_added,
    bump,
    clock,
    emit,
    ensure_not_held,
    lock_traveler,
    require_perm,
    site_aliases,
)
from .release import characteristic_snapshot, spec_revision_of


def traveler_replan(
    *,
    traveler: Traveler,
    routing: Routing,
    actor: User,
    secret: str,
    reason: str,
    username: str | None = None,
    session_key: str | None = None,
) -> Traveler:
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _traveler_replan(traveler=traveler, routing=routing, actor=actor, authority=authority, reason=reason)


@transaction.atomic
def _traveler_replan(
    *, traveler: Traveler, routing: Routing, actor: User, authority: SigningAuthority, reason: str
) -> Traveler:
    traveler = lock_traveler(traveler.pk)
    require_perm(actor, "replan_traveler", "re-plan travelers")
    ensure_not_held(traveler)
    if routing.status != RoutingStatus.RELEASED or routing.part_revision_id != traveler.item.part_revision_id:
        raise StepStateRefused(gettext("re-plan onto the released routing of the same part revision"), field="routing")
    if routing.pk == traveler.routing_id:
        raise StepStateRefused(gettext("the traveler already follows this routing"), field="routing")
    reason = (reason or "").strip()
    if not reason:
        raise StepStateRefused(gettext("say why the traveler is re-planned"), field="reason")
    reached = traveler.steps.exclude(status=StepStatus.PENDING).aggregate(m=Max("sequence"))["m"] or 0
    now = clock(traveler)
    signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.REPLANNED,
        record_type="travelers.traveler",
        record_id=traveler.pk,
        content=traveler_content(traveler.pk, now),
        audit_chain=f"traveler:{traveler.pk}",
        comment=reason,
        signed_at=now,
    )
    dropped = list(traveler.steps.filter(status=StepStatus.PENDING).values_list("sequence", flat=True))
    traveler.steps.filter(status=StepStatus.PENDING).update(
        status=StepStatus.SKIPPED,
        skip_reason=f"re-planned to routing r{routing.revision}: {reason}",
        skip_signature=signature,
        completed_at=now,
    )
    last = traveler.steps.aggregate(m=Max("sequence"))["m"] or 0
    spec_revision = spec_revision_of(routing)
    aliases = site_aliases(traveler.site)
    added = []
    for offset, source in enumerate(routing.steps.filter(sequence__gt=reached).prefetch_related("characteristics"), 1):
        step = TravelerStep.objects.create(
            traveler=traveler,
            sequence=last + offset,
            origin=TravelerStep.Origin.REPLAN,
            source_step=source,
            operation_id=source.operation_id,
            operation_alias=aliases.get(source.operation_id, ""),
            work_center_id=source.work_center_id,
            title=source.title,
            instructions=source.instructions,
            signoff=source.signoff,
            may_run_out_of_order=source.may_run_out_of_order,
            created_at=now,
        )
        TravelerCharacteristic.objects.bulk_create(
            characteristic_snapshot(step, c, spec_revision) for c in source.characteristics.all()
        )
        added.append(step)
    old_routing = traveler.routing
    TravelerReplan.objects.create(
        traveler=traveler,
        from_routing=old_routing,
        to_routing=routing,
        replanned_at=now,
        replanned_by=actor,
        reason=reason,
        signature=signature,
        skipped_steps=dropped,
        added_steps=[s.sequence for s in added],
    )
    traveler.routing = routing
    traveler.save(update_fields=["routing"])
    bump(traveler)
    audit(
        traveler,
        action="traveler.replanned",
        obj=traveler,
        actor=actor,
        reason=reason,
        changes={
            "routing": [str(old_routing), str(routing)],
            "skipped_steps": [dropped, []],
            "added_steps": [[], [s.sequence for s in added]],
        },
    )
    if added:
        audit_steps_added(traveler, added, actor=actor, origin="replan", reason=reason)
    emit(traveler, "traveler.replanned", {"routing_revision": routing.revision, "reason": reason})
    return traveler
