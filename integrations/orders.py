"""Work orders on the way in: the neutral shape every inbound adapter parses into, and the import
that resolves legacy codes to the shared data model and writes through the traveler services.

Resolving (before anything is written) applies the adapter's rules, each decision kept as a note in the
order's provenance:
  * site: the message's (mapped by the adapter) or the adapter's own;
  * part: a part alias of the source system, else the part of that number; an unknown one joins the
    unknown operation codes in the unmapped-code queue and the message waits as a dead letter;
  * revision: the message's; when it names none, the adapter's `revisions` {"part": "rev"}, else the
    part's current released revision (the one with a released routing) — unless the adapter's
    `revision_rule` is "required";
  * quantity: converted from the sender's unit of measure to the part's (integrations.uom);
  * route: the operation codes resolved through the aliases, compared with the released routing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from mes.compliance.audit import audit_record_chains
from mes.masterdata.errors import CodeNotMapped
from mes.masterdata.models import Part, PartRevision, Site
from mes.masterdata.services import operation_resolve, part_resolve
from mes.numbers import decimal_text
from travelers.errors import TravelerError, WorkOrderStarted
from travelers.models import Item, WorkOrder
from travelers.selectors.orders import released_quantity, released_routing, route_difference
from travelers.services import work_order_cancel, work_order_change, work_order_release
from travelers.services.release import check_order_quantity

from .errors import MessageRefused
from .models import WorkOrderProvenance
from .uom import part_quantity


@dataclass
class WorkOrderIn:
    """One work order as a legacy system sent it, in neutral terms (codes not yet resolved)."""

    number: str
    part_number: str | None  # None only for a deletion that names no part
    part_revision: str | None  # None: the message names none (the adapter's rule decides)
    quantity: Decimal | int | None  # as sent, in `unit`; None only for a deletion
    unit: str = ""  # the sender's unit of measure ("" = none given: pieces)
    external_id: str = ""
    due_date: dt.date | None = None
    site_code: str | None = None
    operation_codes: list[str] = field(default_factory=list)  # the route as sent, legacy codes in order
    unnamed_segments: list[str] = field(default_factory=list)  # where segments naming no operation were
    action: str = "add"  # add, change or delete (what the sender asked for)
    serials: list[str] = field(default_factory=list)  # serial numbers the sender gave, if any
    lot: str = ""  # the lot number the sender gave, if any
    where: str = ""  # where in the message it was found: "row 3", "ProductionRequest[1]"


@dataclass
class ResolvedOrder:
    """A WorkOrderIn checked against master data: what Traveler will make of it."""

    order: WorkOrderIn
    site: Site
    part_revision: PartRevision | None  # None only for a deletion
    quantity: Decimal | None
    unit: str
    operations: list[str]  # canonical operation codes, in the order the sender listed them
    notes: list[str] = field(default_factory=list)
    route_difference: str | None = None  # against the released routing, when the sender listed a route

    @property
    def number(self) -> str:
        return self.order.number

    @property
    def revision_to_make(self) -> PartRevision:
        """The part revision of an order that is not a deletion."""
        if self.part_revision is None:
            raise ValueError(f"{self.order.where}: a deletion names no part revision")
        return self.part_revision


def _site(order: WorkOrderIn, adapter, sites: dict[str, Site | None]) -> Site:
    """The order's site; `sites` keeps the sites looked up by code, so that each is read once per message."""
    if order.site_code:
        if order.site_code not in sites:
            sites[order.site_code] = Site.objects.filter(code=order.site_code).first()
        site = sites[order.site_code]
        if site is None:
            raise MessageRefused(f"{order.where}: unknown site '{order.site_code}'", field="site")
        if adapter.site_id and site.pk != adapter.site_id:
            raise MessageRefused(
                f"{order.where}: site {order.site_code} is not this adapter's site {adapter.site.code}", field="site"
            )
        return site
    if adapter.site_id is None:
        raise MessageRefused(f"{order.where}: no site in the message and none configured on the adapter", field="site")
    return adapter.site


def _revision(order: WorkOrderIn, part: Part, adapter) -> tuple[PartRevision, str]:
    """The part revision to make, and a note when the message did not name it."""
    if order.part_revision is not None:
        revision = PartRevision.objects.select_related("part").filter(part=part, revision=order.part_revision).first()
        if revision is None:
            raise MessageRefused(f"{order.where}: unknown part {part.number} rev {order.part_revision}", field="part")
        return revision, ""
    settings = adapter.settings or {}
    by_rule = (settings.get("revisions") or {}).get(part.number)
    if by_rule:
        revision = PartRevision.objects.select_related("part").filter(part=part, revision=by_rule).first()
        if revision is None:
            raise MessageRefused(
                f"{order.where}: the adapter's revisions say {part.number} rev {by_rule}, which does not exist",
                field="part",
            )
        return revision, f"revision {by_rule} from the adapter's rule (the message named no revision)"
    if settings.get("revision_rule") == "required":
        raise MessageRefused(
            f"{order.where}: the message names no revision of {part.number}, and this adapter requires one",
            field="part",
        )
    released = list(
        PartRevision.objects.select_related("part")
        .filter(part=part, routings__status="released")
        .distinct()
        .order_by("revision")
    )
    if len(released) == 1:
        return released[0], (
            f"revision {released[0].revision}: the part's current released revision (the message named none)"
        )
    if not released:
        raise MessageRefused(
            f"{order.where}: the message names no revision of {part.number}, and no revision of it has a released "
            "routing to take instead",
            field="part",
        )
    names = ", ".join(r.revision for r in released)
    raise MessageRefused(
        f"{order.where}: the message names no revision of {part.number}, and several have released routings "
        f"({names}): name one in the message or in the adapter's revisions",
        field="part",
    )


def resolve(orders: list[WorkOrderIn], *, adapter, source: str) -> list[ResolvedOrder]:
    """Check every order against master data before anything is written. Unknown parts and operation
    codes go to the unmapped-code queue (committed, so they stay queued) and refuse the whole message."""
    if not orders:
        raise MessageRefused("the message holds no work order", field="payload")
    resolved, unmapped, seen, parts, revisions, routings = [], [], {}, {}, {}, {}
    sites: dict[str, Site | None] = {}
    for order in orders:
        site = _site(order, adapter, sites)
        context = {"adapter": adapter.name, "source": source, "where": order.where, "work_order": order.number}
        if order.action == "delete":
            resolved.append(ResolvedOrder(order, site, None, None, "", []))
            continue
        if order.quantity is None or order.quantity <= 0:
            raise MessageRefused(f"{order.where}: quantity must be positive", field="quantity")
        part_key = (site.pk, order.part_number or "")
        if part_key not in parts:  # each distinct part is resolved (or queued) once per message
            try:
                parts[part_key] = part_resolve(
                    source_system=adapter.source_system, site=site, code=order.part_number or "", context=context
                )
            except CodeNotMapped as exc:
                parts[part_key] = None
                unmapped.append(f"{order.where}: {exc.message}")
        part = parts[part_key]
        if part is None:
            continue
        revision_key = (part.pk, order.part_revision)
        if revision_key not in revisions:  # each part revision is looked up once per message
            revisions[revision_key] = _revision(order, part, adapter)
        part_revision, revision_note = revisions[revision_key]
        amount = part_quantity(
            quantity=order.quantity, unit_code=order.unit, part=part, settings=adapter.settings, where=order.where
        )
        operations = []
        for code in order.operation_codes:
            key = (site.pk, code)
            if key not in seen:  # each distinct code is resolved (or queued) once per message
                try:
                    seen[key] = operation_resolve(
                        source_system=adapter.source_system, site=site, code=code, context=context
                    ).code
                except CodeNotMapped as exc:
                    seen[key] = None
                    unmapped.append(f"{order.where}: {exc.message}")
            operations.append(seen[key])
        notes = [n for n in (revision_note, f"quantity {amount.note}" if amount.note else "") if n]
        if order.unnamed_segments:
            notes.append(f"segments naming no operation: {', '.join(order.unnamed_segments)}")
        operations = [c for c in operations if c]
        if operations and part_revision.pk not in routings:
            routings[part_revision.pk] = released_routing(part_revision)
        difference = route_difference(routings.get(part_revision.pk), operations)
        resolved.append(
            ResolvedOrder(order, site, part_revision, amount.quantity, amount.unit, operations, notes, difference)
        )
    if unmapped:
        raise MessageRefused("; ".join(dict.fromkeys(unmapped)), field="operation")
    return resolved


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
    work_orders = work_orders_create_many(pending, adapter=adapter, message=message)
    pending.clear()
    return {w.number: w for w in work_orders}


def work_orders_create_many(resolved: list[ResolvedOrder], *, adapter, message) -> list[WorkOrder]:
    """New work orders, as travelers.services.work_order_create makes them one by one (each audited as
    "workorder.created" in its own chain, with the same changes), written together: the orders in one
    statement, their events and head moves in one round trip (audit_record_chains), their provenance in
    one statement. The caller checked each (checked_order_quantity, not known before) in the message's
    order; it runs inside the import's transaction."""
    work_orders = WorkOrder.objects.bulk_create(
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
    audit_record_chains(
        actor=None,
        entries={
            f"workorder:{w.pk}": [
                {
                    "action": "workorder.created",
                    "object_type": "travelers.workorder",
                    "object_id": w.pk,
                    "changes": {
                        "number": [None, w.number],
                        "part_revision": [None, str(w.part_revision)],
                        "quantity": [None, f"{decimal_text(Decimal(w.quantity))} {w.quantity_unit}"],
                        "site": [None, w.site.code],
                        "source": [None, f"{w.source_system}:{w.external_id}".strip(":")],
                    },
                }
            ]
            for w in work_orders
        },
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
