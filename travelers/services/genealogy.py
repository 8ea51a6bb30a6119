"""As-built genealogy: consuming component units and lots at a step, and removing them (signed)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from mes.compliance.models import Signature
from mes.compliance.signing import SigningAuthority, signature_record, signing_authenticate
from travelers.content import consumption_content, consumption_state
from travelers.errors import ComponentRefused, StepStateRefused
from travelers.models import Consumption, Item, TravelerStep
from travelers.states import StepStatus

from .common import audit, bump, clock, emit, ensure_not_held, lock_step, require_perm
from .versions import check_version


def _find_component(identifier: str, part_number: str | None) -> Item:
    items = Item.objects.select_related("part").filter(identifier=identifier.strip())
    if part_number:
        items = items.filter(part__number=part_number.strip())
    found = list(items[:2])
    if not found:
        what = f"{part_number} {identifier}" if part_number else identifier
        raise ComponentRefused(gettext("no unit or lot %(what)s is known") % {"what": what}, field="identifier")
    if len(found) > 1:
        raise ComponentRefused(
            gettext("%(identifier)s exists for several parts: scan the part number too") % {"identifier": identifier},
            field="part_number",
        )
    return Item.objects.select_for_update().select_related("part").get(pk=found[0].pk)


@transaction.atomic
def component_consume(
    *,
    step: TravelerStep,
    identifier: str,
    actor: User,
    part_number: str | None = None,
    quantity: Decimal | int | str = 1,
    expected_version: int | None = None,
) -> Consumption:
    """Install a component unit (by serial) or draw from a lot (by lot number, with quantity)."""
    traveler, step = lock_step(step.pk)
    require_perm(actor, "perform_step", "consume components")
    ensure_not_held(traveler)
    check_version(step, expected_version)
    if step.status != StepStatus.IN_PROGRESS:
        raise StepStateRefused(
            gettext("step %(sequence)s is not in progress") % {"sequence": step.sequence}, field="step"
        )
    component = _find_component(identifier or "", part_number)
    expected = {c["part_id"]: c for c in step.components}
    if not expected:
        raise ComponentRefused(
            gettext("step %(sequence)s consumes no components") % {"sequence": step.sequence}, field="identifier"
        )
    if component.part_id not in expected:
        wanted = ", ".join(c["part_number"] for c in expected.values())
        raise ComponentRefused(
            gettext("%(component)s is the wrong part: step %(sequence)s takes %(wanted)s")
            % {"component": component, "sequence": step.sequence, "wanted": wanted},
            field="identifier",
        )
    if component.pk == traveler.item_id:
        raise ComponentRefused(gettext("an item cannot be consumed into itself"), field="identifier")
    if component.status == Item.Status.SCRAPPED:
        raise ComponentRefused(gettext("%(component)s is scrapped") % {"component": component}, field="identifier")
    if component.on_hold:
        raise ComponentRefused(gettext("%(component)s is on hold") % {"component": component}, field="identifier")
    if component.status == Item.Status.IN_PRODUCTION:
        raise ComponentRefused(
            gettext("%(component)s is still in production: its traveler is not closed") % {"component": component},
            field="identifier",
        )
    try:
        qty = Decimal(str(quantity))
    except InvalidOperation:
        raise ComponentRefused(
            gettext("'%(quantity)s' is not a quantity") % {"quantity": quantity}, field="quantity"
        ) from None
    if component.tracking == Item.Tracking.SERIAL:
        if component.status == Item.Status.CONSUMED or component.consumed_in.filter(active=True).exists():
            where = component.consumed_in.filter(active=True).select_related("traveler").first()
            raise ComponentRefused(
                gettext("%(component)s is already installed in %(value)s")
                % {"component": component, "value": where.traveler.number if where else "another item"},
                field="identifier",
            )
        qty = Decimal(1)
    elif not qty.is_finite() or qty <= 0:
        raise ComponentRefused(gettext("the quantity must be positive"), field="quantity")
    elif qty > component.quantity_available:
        raise ComponentRefused(
            gettext("lot %(identifier)s has only %(quantity_available)s left")
            % {"identifier": component.identifier, "quantity_available": component.quantity_available},
            field="quantity",
        )
    try:
        with transaction.atomic():
            consumption = Consumption.objects.create(
                traveler=traveler,
                step=step,
                component=component,
                component_is_serial=component.tracking == Item.Tracking.SERIAL,
                quantity=qty,
                consumed_at=clock(traveler),
                consumed_by=actor,
            )
    except IntegrityError as exc:  # the partial unique index: installed elsewhere at the same moment
        raise ComponentRefused(
            gettext("%(component)s was just installed elsewhere") % {"component": component}, field="identifier"
        ) from exc
    component.quantity_available -= qty
    if component.quantity_available == 0:
        component.status = Item.Status.CONSUMED
    component.save(update_fields=["quantity_available", "status"])
    bump(traveler, step=step)
    audit(
        traveler,
        action="component.consumed",
        obj=consumption,
        actor=actor,
        changes={"component": [None, str(component)], "quantity": [None, qty]},
        state=consumption_state(consumption),
    )
    emit(
        traveler,
        "component.consumed",
        {"component": {"part": component.part.number, component.tracking: component.identifier, "quantity": qty}},
        step=step,
    )
    return consumption


def component_remove(
    *,
    consumption: Consumption,
    reason: str,
    actor: User,
    secret: str,
    username: str | None = None,
    session_key: str | None = None,
) -> Consumption:
    """Take a component out again (e.g. in rework): signed, never a delete."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _component_remove(consumption=consumption, reason=reason, actor=actor, authority=authority)


@transaction.atomic
def _component_remove(
    *, consumption: Consumption, reason: str, actor: User, authority: SigningAuthority
) -> Consumption:
    traveler, step = lock_step(consumption.step_id)
    require_perm(actor, "perform_step", "remove components")
    ensure_not_held(traveler)
    consumption = Consumption.objects.select_for_update().select_related("component__part").get(pk=consumption.pk)
    if not consumption.active:
        raise ComponentRefused(gettext("this component was already removed"), field="consumption")
    if not (reason or "").strip():
        raise ComponentRefused(gettext("say why the component is removed"), field="reason")
    now = clock(traveler)
    consumption.active, consumption.removed_at, consumption.removed_by = False, now, actor
    consumption.removal_reason = reason.strip()
    consumption.removal_signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.REMOVED,
        record_type="travelers.consumption",
        record_id=consumption.pk,
        content=consumption_content(consumption, traveler.number),
        audit_chain=f"traveler:{traveler.pk}",
        comment=consumption.removal_reason,
        signed_at=now,
    )
    consumption.save(update_fields=["active", "removed_at", "removed_by", "removal_reason", "removal_signature"])
    component = Item.objects.select_for_update().get(pk=consumption.component_id)
    component.quantity_available += consumption.quantity
    component.status = Item.Status.AVAILABLE
    component.save(update_fields=["quantity_available", "status"])
    bump(traveler, step=step)
    audit(
        traveler,
        action="component.removed",
        obj=consumption,
        actor=actor,
        reason=consumption.removal_reason,
        changes={"active": [True, False]},
        state=consumption_state(consumption),
    )
    emit(
        traveler,
        "component.removed",
        {"component": {"part": component.part.number, component.tracking: component.identifier}},
        step=step,
    )
    return consumption
