"""Changing and cancelling work orders, as the legacy MES asks: allowed only before work begins.

Before any step of any of its travelers has left "pending", a work order may change (quantity, due date,
part revision, the route the sender listed) or be cancelled; travelers it no longer needs — the newest
ones beyond a lowered quantity, or every one on a changed revision — are cancelled with it. Once work has
begun, WorkOrderStarted is raised and nothing changes: the caller shows the conflict to a person.
Each change is audited (old → new) and announced (work_order.changed / work_order.cancelled, and
traveler.cancelled per traveler) in the same transaction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import audit_record
from mes.events.services import outbox_emit
from mes.masterdata.models import PartRevision
from mes.numbers import decimal_text
from travelers.errors import ReleaseRefused, WorkOrderStarted
from travelers.models import Item, NumberingRule, Traveler, WorkOrder
from travelers.selectors.orders import released_quantity, work_order_started
from travelers.states import TRAVELER_ALLOWED, TravelerStatus, transition

from .common import audit, emit, require_perm
from .release import check_order_quantity, traveler_release


def work_order_ref(order: WorkOrder) -> dict:
    """A work order as events describe it (canonical codes, decimals as strings)."""
    return {
        "work_order": order.number,
        "site": order.site.code,
        "part": {"number": order.part_revision.part.number, "revision": order.part_revision.revision},
        "quantity": order.quantity,
        "quantity_unit": order.quantity_unit,
        "due_date": order.due_date.isoformat() if order.due_date else None,
        "status": order.status,
        "source_system": order.source_system or None,
        "external_id": order.external_id or None,
    }


def _lock(work_order: WorkOrder) -> WorkOrder:
    return (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("site", "part_revision__part")
        .get(pk=work_order.pk)
    )


def _refuse_when_started(order: WorkOrder, doing: str) -> None:
    if order.status in (WorkOrder.Status.COMPLETED, WorkOrder.Status.CANCELLED):
        raise WorkOrderStarted(
            gettext("work order %(number)s is %(status)s: it cannot %(doing)s")
            % {"number": order.number, "status": order.status, "doing": doing},
            field="work_order",
        )
    if work_order_started(order):
        raise WorkOrderStarted(
            gettext("work on order %(number)s has begun: it cannot %(doing)s here; settle it with the legacy MES")
            % {"number": order.number, "doing": doing},
            field="work_order",
        )


def _cancel_traveler(traveler: Traveler, *, actor: User | None, reason: str) -> None:
    traveler.status = transition(traveler.status, TravelerStatus.CANCELLED, TRAVELER_ALLOWED, traveler.number)
    traveler.version += 1
    Traveler.objects.filter(pk=traveler.pk).update(status=traveler.status, version=traveler.version)
    Item.objects.filter(pk=traveler.item_id).update(status=Item.Status.CANCELLED, quantity_available=0)
    audit(
        traveler,
        action="traveler.cancelled",
        obj=traveler,
        actor=actor,
        changes={"status": [TravelerStatus.ACTIVE, TravelerStatus.CANCELLED]},
        reason=reason,
    )
    emit(traveler, "traveler.cancelled", {"reason": reason})


def _open_travelers(order: WorkOrder) -> list[Traveler]:
    return list(
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .filter(work_order=order, status=TravelerStatus.ACTIVE)
        .order_by("-released_at", "-number")
    )


@transaction.atomic
def work_order_change(
    *,
    work_order: WorkOrder,
    actor: User | None = None,
    quantity: Decimal | None = None,
    quantity_unit: str | None = None,
    due_date: dt.date | None = None,
    part_revision: PartRevision | None = None,
    ordered_operations: list[str] | None = None,
    reason: str = "",
) -> tuple[WorkOrder, dict]:
    """Apply what changed (arguments left None stay as they are); returns the order and its changes
    {field: [old, new]} (empty: nothing differed, nothing written). WorkOrderStarted once work began."""
    order = _lock(work_order)
    new_revision = part_revision if part_revision is not None else order.part_revision
    new_quantity = Decimal(quantity) if quantity is not None else order.quantity
    new_unit = quantity_unit or order.quantity_unit
    changes: dict[str, list] = {}
    if new_revision.pk != order.part_revision_id:
        changes["part_revision"] = [str(order.part_revision), str(new_revision)]
    if new_quantity != order.quantity or new_unit != order.quantity_unit:
        changes["quantity"] = [
            f"{decimal_text(order.quantity)} {order.quantity_unit}",
            f"{decimal_text(new_quantity)} {new_unit}",
        ]
    if due_date is not None and due_date != order.due_date:
        changes["due_date"] = [order.due_date, due_date]
    if ordered_operations is not None and list(ordered_operations) != list(order.ordered_operations):
        changes["ordered_operations"] = [order.ordered_operations, list(ordered_operations)]
    if not changes:
        return order, {}
    _refuse_when_started(order, "change")
    check_order_quantity(new_revision.part, new_quantity, new_unit)
    travelers = _open_travelers(order)
    if "part_revision" in changes:
        surplus = travelers  # their routing is the old revision's
    else:
        surplus, released = [], sum(t.item.quantity for t in travelers)
        for t in travelers:  # newest first
            if released <= new_quantity:
                break
            surplus.append(t)
            released -= t.item.quantity
    why = reason or "work order changed"
    for t in surplus:
        _cancel_traveler(t, actor=actor, reason=f"{why}: no longer needed")
    if surplus:
        changes["travelers_cancelled"] = [None, [t.number for t in surplus]]
    order.part_revision = new_revision
    order.quantity, order.quantity_unit = new_quantity, new_unit
    if due_date is not None:
        order.due_date = due_date
    if ordered_operations is not None:
        order.ordered_operations = list(ordered_operations)
    if surplus and not order.travelers.exclude(status=TravelerStatus.CANCELLED).exists():
        order.status = WorkOrder.Status.RELEASED
    order.save(update_fields=["part_revision", "quantity", "quantity_unit", "due_date", "ordered_operations", "status"])
    audit_record(
        chain=f"workorder:{order.pk}",
        action="workorder.changed",
        object_type="travelers.workorder",
        object_id=order.pk,
        actor=actor,
        changes=changes,
        reason=why,
    )
    outbox_emit(
        event_type="work_order.changed",
        aggregate_type="work_order",
        aggregate_id=order.number,
        data={**work_order_ref(order), "changes": changes, "reason": why},
        site_code=order.site.code,
    )
    return order, changes


@transaction.atomic
def work_order_cancel(
    *, work_order: WorkOrder, actor: User | None = None, reason: str = ""
) -> tuple[WorkOrder, list[str]]:
    """Cancel an order whose work has not begun, and its travelers; returns the order and the numbers
    of the travelers cancelled. A cancelled order stays cancelled (a repeat changes nothing)."""
    order = _lock(work_order)
    if order.status == WorkOrder.Status.CANCELLED:
        return order, []
    _refuse_when_started(order, "be cancelled")
    why = reason or "work order cancelled"
    travelers = _open_travelers(order)
    for t in travelers:
        _cancel_traveler(t, actor=actor, reason=why)
    old = order.status
    order.status = WorkOrder.Status.CANCELLED
    order.save(update_fields=["status"])
    numbers = [t.number for t in travelers]
    audit_record(
        chain=f"workorder:{order.pk}",
        action="workorder.cancelled",
        object_type="travelers.workorder",
        object_id=order.pk,
        actor=actor,
        changes={"status": [old, order.status], "travelers_cancelled": [None, numbers]},
        reason=why,
    )
    outbox_emit(
        event_type="work_order.cancelled",
        aggregate_type="work_order",
        aggregate_id=order.number,
        data={**work_order_ref(order), "travelers_cancelled": numbers, "reason": why},
        site_code=order.site.code,
    )
    return order, numbers


# --- Releasing a work order's travelers ------------------------------------------------------------------


def _rule(order: WorkOrder) -> NumberingRule:
    part = order.part_revision.part
    rules = NumberingRule.objects.select_for_update(of=("self",)).order_by("pk")
    rule = rules.filter(site=order.site, part=part).first() or rules.filter(site=order.site, part__isnull=True).first()
    if rule is None:
        kind = "serial" if part.tracking == "serial" else "lot"
        raise ReleaseRefused(
            gettext(
                "there is no numbering rule for %(number)s at %(code)s: give the %(kind)s numbers, or add a rule "
                "(admin → Travelers → Numbering rules)"
            )
            % {"number": part.number, "code": order.site.code, "kind": kind},
            field="identifiers",
        )
    return rule


def _next_identifiers(order: WorkOrder, count: int) -> list[str]:
    """`count` unused serial or lot numbers from the order's numbering rule (locked until commit)."""
    rule = _rule(order)
    part = order.part_revision.part
    today = timezone.localdate()
    found: list[str] = []
    attempts = 0
    while len(found) < count:
        attempts += 1
        if attempts > count + 10_000:
            raise ReleaseRefused(
                gettext("the numbering rule %(rule)s finds no unused number") % {"rule": rule}, field="identifiers"
            )
        candidate = rule.pattern.format(
            site=order.site.code, part=part.number, year=today.year, yy=f"{today.year % 100:02d}", seq=rule.next_value
        )
        rule.next_value += 1
        if candidate not in found and not Item.objects.filter(part=part, identifier=candidate).exists():
            found.append(candidate)
    NumberingRule.objects.filter(pk=rule.pk).update(next_value=rule.next_value)
    return found


@transaction.atomic
def work_order_release(
    *,
    work_order: WorkOrder,
    actor: User,
    serials: list[str] | None = None,
    lots: list[tuple[str | None, Decimal]] | None = None,
) -> list[Traveler]:
    """Release the travelers a work order still needs, all or none: a serialized part one per unit —
    with the serial numbers given, else as many as remain, numbered by the site's rule; a lot part one per
    lot given as (lot number or None for the rule's next, quantity), else one lot of what remains."""
    require_perm(actor, "release_traveler", "release travelers")
    order = _lock(work_order)
    if order.status in (WorkOrder.Status.COMPLETED, WorkOrder.Status.CANCELLED):
        raise ReleaseRefused(
            gettext("work order %(number)s is %(status)s") % {"number": order.number, "status": order.status},
            field="work_order",
        )
    part = order.part_revision.part
    remaining = order.quantity - released_quantity(order)
    if remaining <= 0:
        raise ReleaseRefused(
            gettext("every traveler of work order %(number)s is released already") % {"number": order.number},
            field="work_order",
        )
    shown = f"{decimal_text(remaining)} {order.quantity_unit}"
    if part.tracking == "serial":
        if lots:
            raise ReleaseRefused(
                gettext("%(number)s is serialized: give serial numbers, not lots") % {"number": part.number},
                field="lots",
            )
        numbers = [s.strip() for s in serials or [] if s.strip()]
        if len(set(numbers)) != len(numbers):
            raise ReleaseRefused(gettext("a serial number is given twice"), field="serials")
        if len(numbers) > remaining:
            raise ReleaseRefused(
                gettext("%(len)s serial numbers, but only %(shown)s remain to release")
                % {"len": len(numbers), "shown": shown},
                field="serials",
            )
        numbers = numbers or _next_identifiers(order, int(remaining))
        plan: list[tuple[str, Decimal | None]] = [(n, None) for n in numbers]
    else:
        if serials:
            raise ReleaseRefused(
                gettext("%(number)s is made in lots: give lots with quantities") % {"number": part.number},
                field="serials",
            )
        given: list[tuple[str | None, Decimal]] = [(n.strip() if n else None, Decimal(q)) for n, q in lots or []]
        if any(q <= 0 for _, q in given):
            raise ReleaseRefused(gettext("each lot needs a positive quantity"), field="lots")
        total = sum((q for _, q in given), Decimal(0))
        if total > remaining:
            raise ReleaseRefused(
                gettext("the lots add up to %(decimal_text)s %(quantity_unit)s, but only %(shown)s remain")
                % {"decimal_text": decimal_text(total), "quantity_unit": order.quantity_unit, "shown": shown},
                field="lots",
            )
        given = given or [(None, remaining)]
        generated = iter(_next_identifiers(order, sum(1 for n, _ in given if not n)))
        plan = [(n or next(generated), q) for n, q in given]
    return [traveler_release(work_order=order, identifier=n, quantity=q, actor=actor) for n, q in plan]
