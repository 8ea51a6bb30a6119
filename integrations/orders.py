"""Work orders on the way in: the neutral shape every inbound adapter parses into, and the import
that resolves legacy codes to the shared data model and writes through the traveler services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from mes.masterdata.errors import CodeNotMapped
from mes.masterdata.models import PartRevision, Site
from mes.masterdata.services import operation_resolve
from travelers.models import WorkOrder
from travelers.services import work_order_create

from .errors import MessageRefused


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


def _site(order: WorkOrderIn, adapter) -> Site:
    if order.site_code:
        site = Site.objects.filter(code=order.site_code).first()
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


def resolve(orders: list[WorkOrderIn], *, adapter, source: str) -> list[tuple[WorkOrderIn, Site, PartRevision]]:
    """Check every order against master data before anything is written. Unknown operation codes go to
    the unmapped-code queue (committed, so they stay queued) and refuse the whole message."""
    if not orders:
        raise MessageRefused("the message holds no work order", field="payload")
    resolved, unmapped, seen = [], [], set()
    for order in orders:
        if order.action != "add":
            raise MessageRefused(f"{order.where}: action {order.action} is not handled yet", field="action")
        if order.part_revision is None:
            raise MessageRefused(f"{order.where}: the message names no revision of {order.part_number}", field="part")
        if order.quantity is None or order.quantity <= 0 or order.quantity != int(order.quantity):
            raise MessageRefused(f"{order.where}: quantity must be a positive whole number", field="quantity")
        site = _site(order, adapter)
        part_revision = (
            PartRevision.objects.select_related("part")
            .filter(part__number=order.part_number, revision=order.part_revision)
            .first()
        )
        if part_revision is None:
            raise MessageRefused(
                f"{order.where}: unknown part {order.part_number} rev {order.part_revision}", field="part"
            )
        for code in order.operation_codes:
            if (site.pk, code) in seen:  # each distinct code is resolved (or queued) once per message
                continue
            seen.add((site.pk, code))
            try:
                operation_resolve(
                    source_system=adapter.source_system,
                    site=site,
                    code=code,
                    context={
                        "adapter": adapter.name,
                        "source": source,
                        "where": order.where,
                        "work_order": order.number,
                    },
                )
            except CodeNotMapped as exc:
                unmapped.append(f"{order.where}: {exc.message}")
        resolved.append((order, site, part_revision))
    if unmapped:
        raise MessageRefused("; ".join(dict.fromkeys(unmapped)), field="operation")
    return resolved


def import_orders(resolved, *, adapter, message) -> list[WorkOrder]:
    """Write the resolved orders in one transaction (all or none), each linked to its message."""
    from .models import WorkOrderProvenance

    made = []
    with transaction.atomic():
        for order, site, part_revision in resolved:
            existing = WorkOrder.objects.filter(number=order.number).first()
            if existing is not None:
                same_source = existing.source_system == adapter.source_system and (
                    existing.external_id == (order.external_id or order.number)
                )
                if not same_source:
                    raise MessageRefused(
                        f"{order.where}: work order {order.number} already exists from "
                        f"{existing.source_system or 'Traveler'}",
                        field="number",
                    )
                work_order = existing  # a newer version of an order we have: provenance only
            else:
                work_order = work_order_create(
                    number=order.number,
                    part_revision=part_revision,
                    quantity=order.quantity,
                    site=site,
                    due_date=order.due_date,
                    source_system=adapter.source_system,
                    external_id=order.external_id or order.number,
                )
            WorkOrderProvenance.objects.get_or_create(work_order=work_order, message=message)
            made.append(work_order)
    return made
