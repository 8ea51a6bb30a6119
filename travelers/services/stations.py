"""Where a step is worked: a tablet stands at a work center (its station), and a step whose routing names
another work center is not started nor its values recorded from there — unless a supervisor, physically at
the tablet, allows it with their user id and password or PIN and a reason (a signed, audited override
for that step at that work center).

The station is whatever the caller acts from: the tablet's work center (its cookie), or the one an API
client names. A caller that names none (an API client that does not say where it stands, an adapter, a
test) is not checked, as before this rule: the rule is about tablets that know where they are."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from mes.compliance.models import Signature
from mes.compliance.signing import SigningAuthority, signature_record
from mes.masterdata.models import WorkCenter
from travelers.content import step_content
from travelers.errors import NotAuthorized, StepStateRefused, WrongWorkCenter
from travelers.models import TravelerStep, WorkCenterOverride

from .common import audit, bump, clock, emit, ensure_open, lock_step, require_perm
from .cosign import cosigner_authenticate

OVERRIDE_PERM = "travelers.skip_step"  # who may leave the route (skip a step) may move it to another station


def work_center_check(step: TravelerStep, station: WorkCenter | None) -> None:
    """Refuse work on `step` from `station` (a WorkCenter, or None: not checked) when the step belongs to
    another work center and no supervisor allowed it there. Call it under the step's lock."""
    if station is None or step.work_center_id is None or step.work_center_id == station.pk:
        return
    if WorkCenterOverride.objects.filter(step_id=step.pk, work_center_id=station.pk).exists():
        return
    own = step.work_center
    if own is None:
        return
    raise WrongWorkCenter(
        gettext(
            "step %(sequence)s (%(title)s) is worked at %(own)s, not at %(here)s: take the part there, or ask a "
            "supervisor to allow it here"
        )
        % {"sequence": step.sequence, "title": step.title, "own": _code(own), "here": _code(station)},
        field="work_center",
    )


def _code(work_center: WorkCenter) -> str:
    return f"{work_center.site.code}/{work_center.code}"


def work_center_override(
    *,
    step: TravelerStep,
    station: WorkCenter,
    actor: User,
    supervisor_username: str,
    supervisor_secret: str,
    reason: str,
) -> WorkCenterOverride:
    """A supervisor allows `step` to be worked at `station`; `actor` is who is signed in at the tablet.
    The supervisor gives both signature components every time (they are not the tablet's user)."""
    authority = cosigner_authenticate(username=supervisor_username, secret=supervisor_secret, field="supervisor")
    if authority is None:
        raise NotAuthorized(
            gettext("a supervisor allows this with their user id and password or PIN"), field="supervisor"
        )
    return _work_center_override(step=step, station=station, actor=actor, authority=authority, reason=reason)


@transaction.atomic
def _work_center_override(
    *, step: TravelerStep, station: WorkCenter, actor: User, authority: SigningAuthority, reason: str
) -> WorkCenterOverride:
    traveler, step = lock_step(step.pk, step.traveler_id)
    require_perm(actor, "view_traveler", "work on travelers")
    supervisor = authority.user
    if not supervisor.has_perm(OVERRIDE_PERM):
        raise NotAuthorized(
            gettext("%(user)s is not a supervisor: they may not move a step to another work center")
            % {"user": supervisor.get_username()},
            field="supervisor_username",
        )
    ensure_open(traveler)
    own_center = step.work_center
    if station is None or own_center is None or own_center.pk == station.pk:
        raise StepStateRefused(
            gettext("step %(sequence)s may be worked here already") % {"sequence": step.sequence}, field="work_center"
        )
    if station.site_id != traveler.site_id:
        raise StepStateRefused(
            gettext("%(here)s is not at %(site)s, where traveler %(number)s is")
            % {"here": _code(station), "site": traveler.site.code, "number": traveler.number},
            field="work_center",
        )
    reason = (reason or "").strip()
    if not reason:
        raise StepStateRefused(gettext("say why the step is worked at this work center"), field="reason")
    if WorkCenterOverride.objects.filter(step=step, work_center=station).exists():
        raise StepStateRefused(
            gettext("step %(sequence)s is allowed here already") % {"sequence": step.sequence}, field="work_center"
        )
    now = clock(traveler)
    own, here = _code(own_center), _code(station)
    signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.COSIGNED,
        record_type="travelers.step",
        record_id=step.pk,
        content=step_content(step.pk, now, traveler_id=traveler.pk),
        audit_chain=f"traveler:{traveler.pk}",
        comment=f"worked at {here} instead of {own}: {reason}",
        signed_at=now,
    )
    try:
        with transaction.atomic():
            override = WorkCenterOverride.objects.create(
                traveler=traveler,
                step=step,
                work_center=station,
                reason=reason,
                granted_at=now,
                granted_by=supervisor,
                asked_by=actor,
                signature=signature,
            )
    except IntegrityError as exc:  # allowed by someone else in the meantime
        raise StepStateRefused(
            gettext("step %(sequence)s is allowed here already") % {"sequence": step.sequence}, field="work_center"
        ) from exc
    bump(traveler)  # the stamp of the change; the step itself is unchanged (its version stays)
    audit(
        traveler,
        action="step.work_center_overridden",
        obj=step,
        actor=supervisor,
        changes={"work_center": [own, here], "asked_by": [None, actor.get_username()]},
        reason=reason,
    )
    emit(traveler, "step.work_center_overridden", {"work_center": here, "reason": reason}, step=step)
    return override
