"""Importing resolved work orders (integrations.orders.resolve gives them): in one transaction, all or
none, each order created, changed, cancelled, left unchanged or kept as a conflict, and linked to its
message with what was done to it; travelers released on import when the adapter says so. A message's
new orders are written together (work_orders_create_many), so its queries do not grow with them."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction

from mes.numbers import decimal_text
from travelers.errors import TravelerError, WorkOrderStarted
from travelers.models import Item, WorkOrder
from travelers.selectors.orders import released_quantity, released_routing, route_difference
from travelers.services import work_order_cancel, work_order_change, work_order_release
from travelers.services.release import check_order_quantity, work_orders_create_many

from .errors import MessageRefused
from .models import WorkOrderProvenance
from .orders import ResolvedOrder


def import_orders(resolved: list[ResolvedOrder], *, adapter, message) -> list[WorkOrder]:
    """Write the resolved orders in one transaction (all or none), each linked to its message with what
    was done to it: created; changed (a Change, or the order sent again with other content, before work
    began); cancelled (a Delete before work began); unchanged; or a conflict, not applied (a change or a
    deletion after work began), shown on the sync status page.

    The orders are checked one by one in the message's order (the first refusal is the one reported, as
    ever), but the new ones are written together (work_orders_create_many): one statement for the work
    orders, one round trip for their audit events, one statement for their provenance — so a file's
    queries do not grow with its new orders."""
    made: list[WorkOrder | ResolvedOrder] = []  # a ResolvedOrder holds the place of an order still to write
    pending: list[ResolvedOrder] = []
    orders = WorkOrder.objects.select_related("site", "part_revision__part")
    releases = adapter.release_policy == adapter.ReleasePolicy.ON_IMPORT
    with transaction.atomic():
        # The message's orders that exist already, in one query; an order named twice in one message is
        # looked up again the second time (the first may have just made or changed it).
        known = {w.number: w for w in orders.filter(number__in={r.number for r in resolved})}
        seen: set[str] = set()
        created: dict[str, WorkOrder] = {}
        for r in resolved:
            if r.number in seen:
                created.update(_create_pending(pending, adapter=adapter, message=message))
                existing = orders.filter(number=r.number).first()
            else:
                existing = known.get(r.number)
                seen.add(r.number)
            if existing is not None and not (
                existing.source_system == adapter.source_system
                and existing.external_id == (r.order.external_id or r.number)
            ):
                raise MessageRefused(
                    f"{r.order.where}: work order {r.number} already exists from "
                    f"{existing.source_system or 'Traveler'}",
                    field="number",
                )
            if r.order.action == "delete":
                work_order = _delete(r, existing, message=message)
            elif existing is None:  # checked now, written with the other new ones
                check_order_quantity(r.revision_to_make.part, Decimal(r.quantity or 0), r.unit)
                pending.append(r)
                made.append(r)
                if releases:  # a release reads the order: write it first
                    created.update(_create_pending(pending, adapter=adapter, message=message))
                    _release_on_import(r, created[r.number], adapter=adapter, message=message)
                continue
            else:
                work_order = _change(r, existing, message=message)
            if work_order is None:
                continue
            if r.order.action != "delete" and releases:
                _release_on_import(r, work_order, adapter=adapter, message=message)
            made.append(work_order)
        created.update(_create_pending(pending, adapter=adapter, message=message))
    return [created[m.number] if isinstance(m, ResolvedOrder) else m for m in made]


def _create_pending(pending: list[ResolvedOrder], *, adapter, message) -> dict[str, WorkOrder]:
    """Write the orders waiting in `pending` (and empty it): their work orders by number."""
    if not pending:
        return {}
    work_orders = work_orders_import_new(pending, adapter=adapter, message=message)
    pending.clear()
    return {w.number: w for w in work_orders}


def work_orders_import_new(resolved: list[ResolvedOrder], *, adapter, message) -> list[WorkOrder]:
    """New work orders of a message, written together by travelers' work_orders_create_many (each
    audited as work_order_create audits one), then their provenance in one statement. The caller
    checked each (check_order_quantity; not known before) in the message's order; it runs inside the
    import's transaction."""
    work_orders = work_orders_create_many(
        [
            WorkOrder(
                number=r.number,
                part_revision=r.part_revision,
                quantity=r.quantity,
                quantity_unit=r.unit,
                site=r.site,
                due_date=r.order.due_date,
                source_system=adapter.source_system,
                external_id=r.order.external_id or r.number,
                ordered_operations=list(r.operations),
            )
            for r in resolved
        ]
    )
    WorkOrderProvenance.objects.bulk_create(
        [
            WorkOrderProvenance(
                work_order=w, message=message, action=WorkOrderProvenance.Action.CREATED, note=_created_note(r)
            )
            for r, w in zip(resolved, work_orders, strict=True)
        ]
    )
    return work_orders


def _created_note(r: ResolvedOrder) -> str:
    notes = list(r.notes)
    if r.order.action == "change":
        notes.insert(0, "a change of an order not known before: created")
    if r.route_difference:
        notes.append(f"route differs: {r.route_difference}")
    return "; ".join(notes)


def _release_on_import(r: ResolvedOrder, work_order: WorkOrder, *, adapter, message) -> None:
    """The adapter releases travelers on import: those the order still needs, numbered as the message
    says, else by the site's numbering rule. A refusal refuses the whole message (a dead letter that
    says why), so that no order of it waits half-imported."""
    work_order.refresh_from_db()
    if work_order.status not in (WorkOrder.Status.RELEASED, WorkOrder.Status.IN_PROGRESS):
        return
    if work_order.quantity - released_quantity(work_order) <= 0:
        return
    if adapter.release_as_id is None:
        raise MessageRefused(
            f"adapter {adapter.name} releases travelers on import but names no account to release them as "
            "(release_as, in the admin)",
            field="release_as",
        )
    used = set(Item.objects.filter(work_order=work_order).values_list("identifier", flat=True))
    serials = [s for s in r.order.serials if s not in used] or None
    lot = r.order.lot if r.order.lot and r.order.lot not in used else None
    lots = [(lot, work_order.quantity - released_quantity(work_order))] if lot else None
    if work_order.part_revision.part.tracking == "serial":
        lots = None
    else:
        serials = None
    try:
        travelers = work_order_release(work_order=work_order, actor=adapter.release_as, serials=serials, lots=lots)
    except TravelerError as exc:
        raise MessageRefused(
            f"{r.order.where}: work order {r.number}: its travelers could not be released on import: {exc.message}",
            field=exc.field,
        ) from exc
    row = WorkOrderProvenance.objects.get(work_order=work_order, message=message)
    released = "travelers released on import: " + ", ".join(f"{t.number} ({t.item.identifier})" for t in travelers)
    row.note = f"{row.note}; {released}" if row.note else released
    row.save(update_fields=["note"])


def _provenance(work_order, message, action: str, notes) -> None:
    note = "; ".join(n for n in notes if n)
    if not WorkOrderProvenance.objects.filter(work_order=work_order, message=message).exists():
        WorkOrderProvenance.objects.create(work_order=work_order, message=message, action=action, note=note)


def _change(r: ResolvedOrder, existing: WorkOrder, *, message) -> WorkOrder:
    """A Change (or Replace), or the same order sent again: apply what differs before work began."""
    asked = "changed" if r.order.action == "change" else "sent again"
    try:
        work_order, changes = work_order_change(
            work_order=existing,
            quantity=r.quantity,
            quantity_unit=r.unit,
            due_date=r.order.due_date,
            part_revision=r.part_revision,
            ordered_operations=r.operations,
            reason=f"{asked} by {existing.source_system} (inbox message {message.pk})",
        )
    except WorkOrderStarted as exc:
        wanted = _differences(existing, r)
        note = f"not applied: {exc.message}; the legacy MES {asked} it with {wanted}"
        _provenance(existing, message, WorkOrderProvenance.Action.CONFLICT, [note])
        return existing
    if not changes:
        _provenance(work_order, message, WorkOrderProvenance.Action.UNCHANGED, [])
        return work_order
    described = "; ".join(
        f"{name.replace('_', ' ')} {_shown(old)} → {_shown(new)}" for name, (old, new) in changes.items()
    )
    notes = [f"{asked}: {described}", *r.notes]
    difference = route_difference(released_routing(work_order.part_revision), work_order.ordered_operations)
    if difference and "ordered_operations" in changes:
        notes.append(f"route differs: {difference}")
    _provenance(work_order, message, WorkOrderProvenance.Action.CHANGED, notes)
    return work_order


def _delete(r: ResolvedOrder, existing: WorkOrder | None, *, message) -> WorkOrder | None:
    if existing is None:
        return None  # nothing to cancel: the inbox message says so in what it produced
    try:
        work_order, cancelled = work_order_cancel(
            work_order=existing,
            reason=f"deleted by {existing.source_system} (inbox message {message.pk})",
        )
    except WorkOrderStarted as exc:
        _provenance(existing, message, WorkOrderProvenance.Action.CONFLICT, [f"not cancelled: {exc.message}"])
        return existing
    if existing.status == WorkOrder.Status.CANCELLED:
        _provenance(work_order, message, WorkOrderProvenance.Action.UNCHANGED, ["already cancelled"])
    else:
        shown = f"; travelers cancelled: {', '.join(cancelled)}" if cancelled else ""
        _provenance(work_order, message, WorkOrderProvenance.Action.CANCELLED, [f"cancelled{shown}"])
    return work_order


def _shown(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def _differences(existing: WorkOrder, r: ResolvedOrder) -> str:
    wanted = []
    if r.part_revision is not None and r.part_revision.pk != existing.part_revision_id:
        wanted.append(f"part revision {r.part_revision.revision}")
    if r.quantity is not None and (r.quantity != existing.quantity or r.unit != existing.quantity_unit):
        was = quantity_text(existing.quantity, existing.quantity_unit)
        wanted.append(f"quantity {quantity_text(r.quantity, r.unit)} (was {was})")
    if r.order.due_date and r.order.due_date != existing.due_date:
        wanted.append(f"due date {r.order.due_date} (was {existing.due_date or 'none'})")
    if r.operations != list(existing.ordered_operations):
        wanted.append(f"route {', '.join(r.operations) or 'none'}")
    return ", ".join(wanted) or "the same content"


def quantity_text(quantity: Decimal, unit: str) -> str:
    return f"{decimal_text(quantity)} {unit}"
