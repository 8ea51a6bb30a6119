"""Running the route: start, perform (signed), inspect (signed by someone else), skip, hold, release.

Signing services authenticate the signer first, in their own transaction (so a wrong secret is
counted even though the action fails), then make the change and the signature in one transaction."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils.translation import gettext

from mes.compliance.audit import HEAD_LOCK
from mes.compliance.models import Signature
from mes.compliance.signing import (
    SigningAuthority,
    signature_audit,
    signature_build,
    signature_record,
    signing_authenticate,
)
from mes.masterdata.models import Qualification, WorkCenter
from mes.masterdata.services import qualification_check
from mes.prepared import Prepared
from travelers.content import hold_content, hold_state, step_content
from travelers.errors import SeparationOfDuties, StepOutOfOrder, StepStateRefused
from travelers.models import Hold, Measurement, Nonconformance, Traveler, TravelerCharacteristic, TravelerStep
from travelers.states import (
    DONE_STEP_STATES,
    STEP_ALLOWED,
    TRAVELER_ALLOWED,
    StepStatus,
    TravelerStatus,
    transition,
)

from .common import (
    audit,
    bump,
    bump_statement,
    clock,
    emit,
    ensure_not_held,
    ensure_open,
    events_of,
    insert_statement,
    lock_step,
    lock_step_and_read,
    lock_traveler,
    require_perm,
    within_hourly_limit,
    write_change,
)
from .stations import work_center_check
from .versions import check_version

# The predecessors a step waits for: earlier steps not done, except free-order ones (a free-order step
# waits for nothing: its caller ignores them). Compiled once (mes.prepared), read with the step's lock.
STEPS_BEFORE_NOT_DONE: Prepared[TravelerStep] = Prepared(
    lambda step_id, traveler_id: (
        TravelerStep.objects.filter(
            traveler_id=traveler_id,
            sequence__lt=Subquery(TravelerStep.objects.filter(pk=step_id).values("sequence")[:1]),
            may_run_out_of_order=False,
        )
        .exclude(status__in=DONE_STEP_STATES)
        .order_by("sequence")
        .only("id", "sequence", "title", "status")
    )
)


@transaction.atomic
def step_start(
    *, step: TravelerStep, actor: User, expected_version: int | None = None, station: WorkCenter | None = None
) -> TravelerStep:
    """Start a step; `station` is the work center the caller acts from (see stations.work_center_check).
    Its queries: the lock, the chain's head and the steps it waits for in one round trip; the writes (the
    step, the versions, the audit event, the outbox message) in another."""
    traveler, step, (heads, before) = lock_step_and_read(
        step.pk,
        step.traveler_id,
        (HEAD_LOCK, [f"traveler:{step.traveler_id}"]),
        STEPS_BEFORE_NOT_DONE(step.pk, step.traveler_id),
    )
    require_perm(actor, "perform_step", "perform steps")
    ensure_not_held(traveler)
    check_version(step, expected_version)
    work_center_check(step, station)
    if step.status == StepStatus.IN_PROGRESS:
        return step  # starting a started step is harmless (a retried request)
    waiting = [] if step.may_run_out_of_order else before
    if waiting:
        first = waiting[0]
        raise StepOutOfOrder(
            gettext("step %(sequence)s waits for step %(sequence2)s (%(title)s), which is %(status)s")
            % {
                "sequence": step.sequence,
                "sequence2": first.sequence,
                "title": first.title,
                "status": first.get_status_display().lower(),
            },
            field="step",
        )
    old = step.status
    step.status = transition(
        step.status, StepStatus.IN_PROGRESS, STEP_ALLOWED, gettext("step %(n)s") % {"n": step.sequence}
    )
    step.started_at, step.started_by = clock(traveler), actor
    write_change(
        traveler,
        head=heads[0] if heads else None,
        actor=actor,
        statements=[bump_statement(traveler, step, ("status", "started_at", "started_by"))],
        entries=[
            {
                "action": "step.started",
                "object_type": "travelers.travelerstep",
                "object_id": step.pk,
                "changes": {"status": [old, step.status]},
            }
        ],
        messages=events_of(traveler, "step.started", [{}], step=step),
    )
    return step


# A step's required characteristics without a standing value (one not superseded by a correction), compiled
# once (mes.prepared): signing asks it of every step.
MISSING_REQUIRED: Prepared[TravelerCharacteristic] = Prepared(
    lambda step_id: (
        TravelerCharacteristic.objects.filter(step_id=step_id, required=True)
        .exclude(
            Exists(
                Measurement.objects.filter(characteristic_id=OuterRef("pk")).exclude(
                    Exists(Measurement.objects.filter(supersedes_id=OuterRef("pk")))
                )
            )
        )
        .only("id", "code")
    )
)


# The signer's qualifications of a kind for the step's operation (qualification_check chooses the one valid
# today), read with the lock.
QUALIFICATIONS_FOR_STEP: Prepared[Qualification] = Prepared(
    lambda user_id, step_id, kind: Qualification.objects.filter(
        user_id=user_id,
        kind=kind,
        operation_id=Subquery(TravelerStep.objects.filter(pk=step_id).values("operation_id")[:1]),
    ).order_by("id")
)

# Whether any other step of the traveler is still to be done (read with the traveler locked): when none is
# and this one is done now, the traveler awaits its final sign-off (after_step_done).
OTHER_STEP_OPEN: Prepared[TravelerStep] = Prepared(
    lambda traveler_id, step_id: (
        TravelerStep.objects.filter(traveler_id=traveler_id)
        .exclude(pk=step_id)
        .exclude(status__in=DONE_STEP_STATES)
        .only("id")[:1]
    )
)


def _sign_step(
    traveler: Traveler,
    step: TravelerStep,
    actor: User,
    authority: SigningAuthority,
    meaning: str,
    kind: str,
    now: dt.datetime,
) -> Signature:
    """Sign a step's content as it stood just before `now`, with the signer's qualification to `kind`
    its operation (an expired or missing one refuses the signing)."""
    qualification = qualification_check(user=actor, operation=step.operation, kind=kind)
    return signature_record(
        authority=authority,
        meaning=meaning,
        record_type="travelers.step",
        record_id=step.pk,
        content=step_content(step.pk, now, traveler_id=traveler.pk),
        qualification=qualification,
        audit_chain=f"traveler:{traveler.pk}",
        signed_at=now,
    )


def step_perform(
    *,
    step: TravelerStep,
    actor: User,
    secret: str,
    username: str | None = None,
    session_key: str | None = None,
    expected_version: int | None = None,
) -> TravelerStep:
    """The operator signs "performed". Steps with inspector buy-off then await inspection."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _step_perform(step=step, actor=actor, authority=authority, expected_version=expected_version)


# The id of a signature about to be stored, drawn in the round trip that locks the step: the audit
# event of the signature names it before it is written with the rest of the change.
NEXT_SIGNATURE_ID = "SELECT nextval(pg_get_serial_sequence('compliance_signature', 'id'))"


@transaction.atomic
def _step_perform(
    *, step: TravelerStep, actor: User, authority: SigningAuthority, expected_version: int | None
) -> TravelerStep:
    """Its queries: the lock, the chain's head, the values still missing, the signature's id, the signer's
    qualifications and whether another step is still open in one round trip; the step's content (what is
    signed); the writes (the signature, the step, the versions, two audit events, the outbox message) in
    one more; the traveler's completion when this was its last step."""
    traveler, step, (heads, missing, ids, qualifications, others_open) = lock_step_and_read(
        step.pk,
        step.traveler_id,
        (HEAD_LOCK, [f"traveler:{step.traveler_id}"]),
        MISSING_REQUIRED(step.pk),
        (NEXT_SIGNATURE_ID, []),
        QUALIFICATIONS_FOR_STEP(actor.pk, step.pk, "perform"),
        OTHER_STEP_OPEN(step.traveler_id, step.pk),
    )
    require_perm(actor, "perform_step", "perform steps")
    ensure_not_held(traveler)
    check_version(step, expected_version)
    if step.status != StepStatus.IN_PROGRESS:
        raise StepStateRefused(
            gettext("step %(sequence)s is %(status)s; start it first")
            % {"sequence": step.sequence, "status": step.get_status_display().lower()},
            field="step",
        )
    if missing:
        raise StepStateRefused(
            gettext("step %(sequence)s still needs a value for %(join)s")
            % {"sequence": step.sequence, "join": ", ".join(c.code for c in missing)},
            field="values",
        )
    now = clock(traveler)
    signature = signature_build(
        authority=authority,
        meaning=Signature.Meaning.PERFORMED,
        record_type="travelers.step",
        record_id=step.pk,
        content=step_content(step.pk, now, traveler_id=traveler.pk),  # as it stood just before now
        qualification=qualification_check(user=actor, operation=step.operation, kind="perform", held=qualifications),
        signed_at=now,
        pk=ids[0][0],
    )
    target = StepStatus.AWAITING_INSPECTION if step.requires_inspection else StepStatus.COMPLETED
    old = step.status
    step.status = transition(step.status, target, STEP_ALLOWED, gettext("step %(n)s") % {"n": step.sequence})
    step.performed_signature = signature
    if target == StepStatus.COMPLETED:
        step.completed_at = now
    write_change(
        traveler,
        head=heads[0] if heads else None,
        actor=actor,
        statements=[
            insert_statement([signature]),
            bump_statement(traveler, step, ("status", "performed_signature", "completed_at")),
        ],
        entries=[
            signature_audit(signature),
            {
                "action": "step.performed",
                "object_type": "travelers.travelerstep",
                "object_id": step.pk,
                "changes": {"status": [old, step.status]},
            },
        ],
        messages=events_of(
            traveler, "step.completed" if target == StepStatus.COMPLETED else "step.performed", [{}], step=step
        ),
        written=[signature],
    )
    if target in DONE_STEP_STATES and not others_open:
        traveler_complete(traveler, actor)
    return step


def step_inspect(
    *,
    step: TravelerStep,
    actor: User,
    secret: str,
    username: str | None = None,
    session_key: str | None = None,
    expected_version: int | None = None,
) -> TravelerStep:
    """An inspector's buy-off: someone other than whoever performed the step or recorded its values."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _step_inspect(step=step, actor=actor, authority=authority, expected_version=expected_version)


@transaction.atomic
def _step_inspect(
    *, step: TravelerStep, actor: User, authority: SigningAuthority, expected_version: int | None = None
) -> TravelerStep:
    traveler, step = lock_step(step.pk)
    require_perm(actor, "inspect_step", "sign inspection buy-offs")
    ensure_not_held(traveler)
    check_version(step, expected_version)
    if step.status != StepStatus.AWAITING_INSPECTION:
        raise StepStateRefused(
            gettext("step %(sequence)s is %(status)s, not awaiting inspection")
            % {"sequence": step.sequence, "status": step.get_status_display().lower()},
            field="step",
        )
    assert step.performed_signature is not None  # awaiting inspection: signed as performed (transition)
    performer_ids = {step.performed_signature.signer_id} | set(
        Measurement.objects.filter(step=step).values_list("recorded_by_id", flat=True)
    )
    if actor.pk in performer_ids:
        raise SeparationOfDuties(
            gettext("you performed step %(sequence)s or recorded its values: another inspector must buy it off")
            % {"sequence": step.sequence},
            field="actor",
        )
    now = clock(traveler)
    signature = _sign_step(traveler, step, actor, authority, Signature.Meaning.INSPECTED, "inspect", now)
    step.status = transition(
        step.status, StepStatus.COMPLETED, STEP_ALLOWED, gettext("step %(n)s") % {"n": step.sequence}
    )
    step.inspected_signature, step.completed_at = signature, now
    step.save(update_fields=["status", "inspected_signature", "completed_at"])
    bump(traveler, step=step)
    audit(
        traveler,
        action="step.inspected",
        obj=step,
        actor=actor,
        changes={"status": ["awaiting_inspection", "completed"]},
    )
    emit(traveler, "step.completed", step=step)
    after_step_done(traveler, actor)
    return step


def step_skip(
    *,
    step: TravelerStep,
    actor: User,
    secret: str,
    reason: str,
    username: str | None = None,
    session_key: str | None = None,
) -> TravelerStep:
    """A supervisor skips a step, saying why, with a signature."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _step_skip(step=step, actor=actor, authority=authority, reason=reason)


@transaction.atomic
def _step_skip(*, step: TravelerStep, actor: User, authority: SigningAuthority, reason: str) -> TravelerStep:
    traveler, step = lock_step(step.pk)
    require_perm(actor, "skip_step", "skip steps")
    ensure_not_held(traveler)
    if not (reason or "").strip():
        raise StepStateRefused(gettext("say why the step is skipped"), field="reason")
    old = step.status
    step.status = transition(
        step.status, StepStatus.SKIPPED, STEP_ALLOWED, gettext("step %(n)s") % {"n": step.sequence}
    )
    reason = reason.strip()
    now = clock(traveler)
    step.skip_signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.SKIPPED,
        record_type="travelers.step",
        record_id=step.pk,
        content=step_content(step.pk, now, skip_reason=reason, traveler_id=traveler.pk),
        audit_chain=f"traveler:{traveler.pk}",
        comment=reason,
        signed_at=now,
    )
    step.skip_reason, step.completed_at = reason, now
    step.save(update_fields=["status", "skip_reason", "skip_signature", "completed_at"])
    bump(traveler, step=step)
    audit(
        traveler,
        action="step.skipped",
        obj=step,
        actor=actor,
        changes={"status": [old, "skipped"]},
        reason=step.skip_reason,
    )
    emit(traveler, "step.skipped", {"reason": step.skip_reason}, step=step)
    after_step_done(traveler, actor)
    return step


def after_step_done(traveler: Traveler, actor: User) -> None:
    """When every step is done, the traveler awaits final quality sign-off. Called by the services that
    finish a step (here) and by an NCR's disposition that adds no rework (quality.py), inside their
    transaction, with `traveler` locked (lock_step / lock_traveler) and ACTIVE."""
    if not traveler.steps.exclude(status__in=DONE_STEP_STATES).exists():
        traveler_complete(traveler, actor)


def traveler_complete(traveler: Traveler, actor: User) -> None:
    """Every step of `traveler` (locked, ACTIVE) is done: it awaits final quality sign-off."""
    old = traveler.status
    traveler.status = transition(
        traveler.status, TravelerStatus.AWAITING_SIGNOFF, TRAVELER_ALLOWED, f"traveler {traveler.number}"
    )
    traveler.completed_at = clock(traveler)
    traveler.save(update_fields=["status", "completed_at", "changed_at"])
    audit(traveler, action="traveler.completed", obj=traveler, actor=actor, changes={"status": [old, traveler.status]})
    emit(traveler, "traveler.awaiting_signoff")


# --- Holds ---------------------------------------------------------------------------------------------


def hold_place(
    *, traveler: Traveler, reason: str, actor: User, kind: str = Hold.Kind.MANUAL, ncr: Nonconformance | None = None
) -> Hold:
    """Put a traveler on hold (inside the caller's transaction when an NCR does it)."""
    with transaction.atomic():
        traveler = lock_traveler(traveler.pk)
        if kind == Hold.Kind.MANUAL:
            require_perm(actor, "hold_traveler", "put travelers on hold")
            within_hourly_limit(Hold.objects.filter(kind=Hold.Kind.MANUAL, placed_by=actor), "placed_at", "holds")
        ensure_open(traveler)
        if not (reason or "").strip():
            raise StepStateRefused(gettext("say why the traveler is held"), field="reason")
        hold = Hold.objects.create(
            traveler=traveler, kind=kind, reason=reason.strip(), ncr=ncr, placed_at=clock(traveler), placed_by=actor
        )
        was = traveler.on_hold
        traveler.on_hold = True
        traveler.save(update_fields=["on_hold"])
        traveler.item.on_hold = True
        traveler.item.save(update_fields=["on_hold"])
        bump(traveler)
        audit(
            traveler,
            action="traveler.held",
            obj=hold,
            actor=actor,
            changes={"on_hold": [was, True]},
            reason=hold.reason,
            state=hold_state(hold),
        )
        emit(traveler, "traveler.held", {"reason": hold.reason, "hold_kind": kind, "ncr": ncr.number if ncr else None})
        return hold


def hold_release(
    *, hold: Hold, actor: User, secret: str, reason: str, username: str | None = None, session_key: str | None = None
) -> Hold:
    """Release a manual hold, signed. NCR holds are released by the NCR's disposition."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _hold_release(hold=hold, actor=actor, authority=authority, reason=reason)


@transaction.atomic
def _hold_release(*, hold: Hold, actor: User, authority: SigningAuthority, reason: str) -> Hold:
    traveler = lock_traveler(hold.traveler_id)
    hold = Hold.objects.get(pk=hold.pk)
    require_perm(actor, "release_hold", "release holds")
    ensure_open(traveler)
    if hold.released_at:
        raise StepStateRefused(gettext("this hold is already released"), field="hold")
    if hold.kind == Hold.Kind.NONCONFORMANCE:
        ncr = hold.ncr.number if hold.ncr is not None else gettext("its nonconformance")
        raise StepStateRefused(
            gettext("this hold ends when %(number)s is dispositioned") % {"number": ncr}, field="hold"
        )
    if not (reason or "").strip():
        raise StepStateRefused(gettext("say why the hold is released"), field="reason")
    close_hold(traveler, hold, actor, reason.strip(), authority=authority)
    return hold


def close_hold(
    traveler: Traveler,
    hold: Hold,
    actor: User,
    reason: str,
    *,
    authority: SigningAuthority | None = None,
    signature: Signature | None = None,
) -> None:
    """Release `hold` in one statement: signed by `authority` now, or by an NCR's disposition `signature`.
    Called by hold_release (here) and by an NCR's disposition (quality.py), inside their transaction,
    with `traveler` locked (lock_traveler); the caller has checked the permission and that the hold is
    open and may be released this way, and gives exactly one of `authority` or `signature`."""
    now = clock(traveler)
    hold.released_at, hold.released_by, hold.release_reason = now, actor, reason
    if authority is not None:
        signature = signature_record(
            authority=authority,
            meaning=Signature.Meaning.RELEASED,
            record_type="travelers.hold",
            record_id=hold.pk,
            content=hold_content(hold, traveler.number),
            audit_chain=f"traveler:{traveler.pk}",
            comment=reason,
            signed_at=now,
        )
    hold.release_signature = signature
    hold.save(update_fields=["released_at", "released_by", "release_reason", "release_signature"])
    still_held = traveler.holds.filter(released_at__isnull=True).exists()
    traveler.on_hold = still_held
    traveler.save(update_fields=["on_hold"])
    traveler.item.on_hold = still_held
    traveler.item.save(update_fields=["on_hold"])
    bump(traveler)
    audit(
        traveler,
        action="traveler.hold_released",
        obj=hold,
        actor=actor,
        changes={"on_hold": [True, still_held]},
        reason=reason,
        state=hold_state(hold),
    )
    emit(traveler, "traveler.released_from_hold" if not still_held else "traveler.hold_released", {"reason": reason})
