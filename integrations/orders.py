"""Work orders on the way in: the neutral shape every inbound adapter parses into, and resolving its
legacy codes to the shared data model (integrations.order_import writes what resolving gives).

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

from mes.masterdata.errors import CodeNotMapped
from mes.masterdata.models import Part, PartRevision, Site
from mes.masterdata.services import operation_resolve, part_resolve
from travelers.selectors.orders import released_routing, route_difference

from .errors import MessageRefused
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
