"""Nonconformances: raised by an out-of-spec value or by hand; the traveler stays held until quality
signs a disposition. Rework adds steps; scrap and return-to-vendor end the traveler."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext

from mes.compliance.models import Signature
from mes.compliance.signing import SigningAuthority, signature_record, signing_authenticate
from mes.masterdata.models import Operation, WorkCenter
from mes.numbers import decimal_text
from travelers.content import ncr_content, ncr_state
from travelers.errors import NonconformanceRefused
from travelers.models import Hold, Item, Measurement, Nonconformance, Traveler, TravelerStep
from travelers.states import NCR_ALLOWED, TRAVELER_ALLOWED, NcrStatus, StepStatus, TravelerStatus, transition

from .common import (
    audit,
    audit_steps_added,
    clock,
    emit,
    ensure_open,
    lock_traveler,
    require_perm,
    site_aliases,
    within_hourly_limit,
)
from .cosign import check_cosigner, cosigner_authenticate, disposition_needs_mrb
from .execution import after_step_done, close_hold, hold_place
from .release import characteristic_snapshot, next_number


def ncr_create(
    *,
    traveler: Traveler,
    step: TravelerStep | None,
    measurement: Measurement | None,
    description: str,
    actor: User,
    automatic: bool,
) -> Nonconformance:
    """Open a nonconformance and hold the traveler for it. Called by the services that raise one
    (ncr_raise and an out-of-spec value here, a rejection at sign-off in signoff.py) inside their
    transaction, with `traveler` locked and open; the caller has checked the permission and the
    description (this one checks nothing)."""
    ncr = Nonconformance.objects.create(
        number=next_number("travelers_ncr_number_seq", "NCR-", 6),
        traveler=traveler,
        step=step,
        measurement=measurement,
        description=description,
        raised_at=clock(traveler),
        raised_by=actor,
        automatic=automatic,
    )
    audit(
        traveler,
        action="ncr.raised",
        obj=ncr,
        actor=actor,
        changes={"status": [None, "open"]},
        reason=description,
        state=ncr_state(ncr),
    )
    emit(
        traveler,
        "ncr.raised",
        {"ncr": {"number": ncr.number, "description": description, "automatic": automatic}},
        step=step,
    )
    hold_place(
        traveler=traveler, reason=f"{ncr.number}: {description}", actor=actor, kind=Hold.Kind.NONCONFORMANCE, ncr=ncr
    )
    return ncr


def ncr_raise_for_measurement(
    *, traveler: Traveler, step: TravelerStep, measurement: Measurement, actor: User
) -> Nonconformance:
    char = measurement.characteristic
    unit = f" {char.unit}" if char.unit else ""
    deviation = measurement.deviation
    limit = (char.upper_limit if deviation > 0 else char.lower_limit) if deviation else None
    if measurement.value_numeric is not None and deviation and limit is not None:
        side = "above the upper" if deviation > 0 else "below the lower"
        description = (
            f"{char.name} measured {decimal_text(measurement.value_numeric)}{unit}, {side} limit "
            f"{decimal_text(limit)}{unit} by {decimal_text(abs(deviation))}{unit}"
        )
    else:
        description = f"{char.name} recorded as {measurement.entered_value}: out of spec"
    return ncr_create(
        traveler=traveler, step=step, measurement=measurement, description=description, actor=actor, automatic=True
    )


@transaction.atomic
def ncr_raise(*, traveler: Traveler, description: str, actor: User, step: TravelerStep | None = None) -> Nonconformance:
    traveler = lock_traveler(traveler.pk)
    require_perm(actor, "raise_ncr", "raise nonconformances")
    within_hourly_limit(Nonconformance.objects.filter(raised_by=actor, automatic=False), "raised_at", "NCRs")
    ensure_open(traveler)
    if not (description or "").strip():
        raise NonconformanceRefused(gettext("describe the nonconformance"), field="description")
    if step is not None and step.traveler_id != traveler.pk:
        raise NonconformanceRefused(gettext("that step belongs to another traveler"), field="step")
    return ncr_create(
        traveler=traveler, step=step, measurement=None, description=description.strip(), actor=actor, automatic=False
    )


def ncr_disposition(
    *,
    ncr: Nonconformance,
    disposition: str,
    notes: str,
    actor: User,
    secret: str,
    rework_steps: list[dict] | None = None,
    username: str | None = None,
    session_key: str | None = None,
    mrb_username: str | None = None,
    mrb_secret: str | None = None,
) -> Nonconformance:
    """Quality signs what happens to the nonconforming item. `rework_steps` (for rework or repair):
    [{"operation": code, "title": str, "instructions": str, "work_center": code | None}]. Where the site
    has a material review board, "use as is" and "repair" also need engineering's signature (`mrb_*`)."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    mrb = cosigner_authenticate(username=mrb_username, secret=mrb_secret, field="mrb")
    return _ncr_disposition(
        ncr=ncr,
        disposition=disposition,
        notes=notes,
        actor=actor,
        authority=authority,
        mrb=mrb,
        rework_steps=rework_steps or [],
    )


def _add_rework_steps(
    traveler: Traveler, ncr: Nonconformance, rework_steps: list[dict], now: dt.datetime
) -> list[TravelerStep]:
    if not rework_steps:
        raise NonconformanceRefused(gettext("a rework or repair needs at least one step"), field="rework_steps")
    taken = set(traveler.steps.values_list("sequence", flat=True))
    after = ncr.step.sequence if ncr.step else max(taken, default=0)  # no step: after the last one
    free = [after + i for i in range(1, len(rework_steps) + 1)]
    if taken & set(free):  # no room right after the step: append at the end of the route
        last = traveler.steps.aggregate(m=Max("sequence"))["m"] or 0
        free = [last + i for i in range(1, len(rework_steps) + 1)]
    created = []
    for index, (sequence, spec) in enumerate(zip(free, rework_steps, strict=True)):
        where = f"rework_steps[{index}]"
        operation = Operation.objects.filter(code=spec.get("operation")).first()
        if operation is None:
            raise NonconformanceRefused(
                gettext("unknown operation %(get)s") % {"get": repr(spec.get("operation"))}, field=f"{where}.operation"
            )
        title = (spec.get("title") or "").strip()
        if not title:
            raise NonconformanceRefused(gettext("each rework step needs a title"), field=f"{where}.title")
        work_center = None
        if spec.get("work_center"):
            work_center = WorkCenter.objects.filter(site=traveler.site, code=spec["work_center"]).first()
            if work_center is None:
                raise NonconformanceRefused(
                    gettext("no work center %(spec)s at %(code)s")
                    % {"spec": spec["work_center"], "code": traveler.site.code},
                    field=f"{where}.work_center",
                )
        created.append(
            TravelerStep.objects.create(
                traveler=traveler,
                sequence=sequence,
                origin=TravelerStep.Origin.REWORK,
                operation=operation,
                operation_alias=site_aliases(traveler.site).get(operation.pk, ""),
                work_center=work_center or (ncr.step.work_center if ncr.step else None),
                title=title,
                instructions=spec.get("instructions", ""),
                signoff="operator+inspector",
                ncr=ncr,
                created_at=now,
            )
        )
    if ncr.measurement is not None:  # the reworked feature is measured again on the last rework step
        char = ncr.measurement.characteristic
        remeasure = characteristic_snapshot(created[-1], char, char.spec_revision)
        remeasure.sequence, remeasure.required = 10, True
        remeasure.save()
    return created


@transaction.atomic
def _ncr_disposition(
    *,
    ncr: Nonconformance,
    disposition: str,
    notes: str,
    actor: User,
    authority: SigningAuthority,
    mrb: SigningAuthority | None,
    rework_steps: list[dict],
) -> Nonconformance:
    traveler = lock_traveler(ncr.traveler_id)
    ncr = Nonconformance.objects.select_related("step__work_center", "measurement__characteristic").get(pk=ncr.pk)
    require_perm(actor, "disposition_ncr", "disposition nonconformances")
    ensure_open(traveler)
    if disposition not in Nonconformance.Disposition.values:
        raise NonconformanceRefused(
            gettext("'%(disposition)s' is not a disposition: use %(join)s")
            % {"disposition": disposition, "join": ", ".join(Nonconformance.Disposition.values)},
            field="disposition",
        )
    if not (notes or "").strip():
        raise NonconformanceRefused(gettext("explain the disposition"), field="notes")
    if mrb is not None or disposition_needs_mrb(traveler, disposition):
        check_cosigner(
            mrb,
            actor=actor,
            perm="travelers.mrb_engineering",
            who="an engineer",
            field="mrb_username",
            why=f"'{Nonconformance.Disposition(disposition).label.lower()}' is a material review board decision",
        )
    ncr.status = transition(ncr.status, NcrStatus.CLOSED, NCR_ALLOWED, ncr.number)
    D = Nonconformance.Disposition  # noqa: N806
    if disposition not in (D.REWORK, D.REPAIR) and rework_steps:
        raise NonconformanceRefused(gettext("only a rework or repair adds steps"), field="rework_steps")
    now = clock(traveler)
    added = _add_rework_steps(traveler, ncr, rework_steps, now) if disposition in (D.REWORK, D.REPAIR) else []
    ncr.disposition, ncr.disposition_notes, ncr.dispositioned_at = disposition, notes.strip(), now
    content = ncr_content(ncr, traveler.number, ncr.step.sequence if ncr.step else None, added)

    def sign(
        signer: SigningAuthority, meaning: str
    ) -> Signature:  # the quality signature, and the MRB's engineering one, over the same content
        return signature_record(
            authority=signer,
            meaning=meaning,
            record_type="travelers.ncr",
            record_id=ncr.pk,
            content=content,
            audit_chain=f"traveler:{traveler.pk}",
            comment=ncr.disposition_notes,
            signed_at=now,
        )

    ncr.disposition_signature = sign(authority, Signature.Meaning.DISPOSITIONED)
    if mrb is not None:
        ncr.mrb_signature = sign(mrb, Signature.Meaning.ENGINEERING_APPROVED)
    ncr.save(
        update_fields=[
            "status",
            "disposition",
            "disposition_notes",
            "dispositioned_at",
            "disposition_signature",
            "mrb_signature",
        ]
    )
    if added:
        audit_steps_added(
            traveler, added, actor=actor, origin="rework", reason=f"{ncr.number}: {ncr.disposition_notes}"
        )
    audit(
        traveler,
        action="ncr.dispositioned",
        obj=ncr,
        actor=actor,
        reason=ncr.disposition_notes,
        changes={
            "status": ["open", "closed"],
            "disposition": [None, disposition],
            "rework_steps": [None, [s.sequence for s in added]] if added else [None, None],
        },
        state=ncr_state(ncr),
    )
    emit(
        traveler,
        "ncr.dispositioned",
        {"ncr": {"number": ncr.number, "disposition": disposition, "notes": ncr.disposition_notes}},
    )
    for hold in ncr.holds.filter(released_at__isnull=True):
        close_hold(
            traveler,
            hold,
            actor,
            f"{ncr.number} dispositioned: {ncr.get_disposition_display()}",
            signature=ncr.disposition_signature,
        )
    if disposition in (D.SCRAP, D.RETURN_TO_VENDOR):
        _end_traveler(traveler, actor, disposition)
    elif added and traveler.status == TravelerStatus.AWAITING_SIGNOFF:
        traveler.status = transition(traveler.status, TravelerStatus.ACTIVE, TRAVELER_ALLOWED, traveler.number)
        traveler.save(update_fields=["status"])
    elif not added and traveler.status == TravelerStatus.ACTIVE:
        # e.g. "use as is" after a rejection at sign-off: every step is done, so it awaits sign-off again
        after_step_done(traveler, actor)
    return ncr


def _end_traveler(traveler: Traveler, actor: User, disposition: str) -> None:
    old = traveler.status
    open_steps = list(
        traveler.steps.filter(status__in=[StepStatus.PENDING, StepStatus.IN_PROGRESS]).values_list(
            "sequence", flat=True
        )
    )
    traveler.status = transition(traveler.status, TravelerStatus.SCRAPPED, TRAVELER_ALLOWED, traveler.number)
    traveler.closed_at = clock(traveler)
    traveler.version += 1  # the last change: a scrapped traveler is read-only from here on (database guard)
    traveler.save(update_fields=["status", "closed_at", "version", "changed_at"])
    Item.objects.filter(pk=traveler.item_id).update(status=Item.Status.SCRAPPED, quantity_available=0)
    audit(
        traveler,
        action="traveler.scrapped" if disposition == "scrap" else "traveler.returned_to_vendor",
        obj=traveler,
        actor=actor,
        changes={
            "status": [old, traveler.status],
            "open_steps": [open_steps, []],
        },
    )
    emit(traveler, "traveler.scrapped", {"disposition": disposition})
