"""Work orders in, travelers out: releasing a traveler binds it to the released routing and copies
that routing's steps and characteristics as a snapshot no later master-data change can touch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import audit_record, audit_record_chains
from mes.masterdata.models import EACH, GAUGE_FIELDS, SPEC_FIELDS, Characteristic, Part, PartRevision, Routing, Site
from mes.masterdata.states import RoutingStatus
from mes.numbers import decimal_text
from travelers.errors import ReleaseRefused
from travelers.models import Item, Traveler, TravelerCharacteristic, TravelerStep, WorkOrder

from .common import audit, audit_steps_added, emit, require_perm, site_aliases


def next_number(sequence: str, prefix: str, width: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [sequence])
        return f"{prefix}{cursor.fetchone()[0]:0{width}d}"


MAX_QUANTITY_EXPONENT = 9  # the quantity columns hold 9 integer digits: at most 999,999,999.999


def positive_quantity(quantity: Decimal | int | str, *, field: str = "quantity") -> Decimal:
    """A positive, finite quantity a work order or a lot can hold; anything else refused by name."""
    value = Decimal(quantity)
    if not value.is_finite() or value <= 0:
        raise ReleaseRefused(
            gettext("quantity must be a positive number, not %(quantity)s") % {"quantity": quantity}, field=field
        )
    if value.adjusted() >= MAX_QUANTITY_EXPONENT:
        raise ReleaseRefused(
            gettext("%(quantity)s is more than a work order holds (at most 999,999,999)") % {"quantity": quantity},
            field=field,
        )
    return value


def check_order_quantity(part: Part, quantity: Decimal, unit: str) -> None:
    """A serialized part is ordered in whole pieces; a lot in its part's unit."""
    quantity = positive_quantity(quantity)
    expected = EACH if part.tracking == "serial" else part.quantity_unit
    if unit != expected:
        raise ReleaseRefused(
            gettext("%(number)s is ordered in %(expected)s, not %(unit)s")
            % {"number": part.number, "expected": expected, "unit": unit},
            field="quantity_unit",
        )
    if expected == EACH and quantity != quantity.to_integral_value():
        raise ReleaseRefused(
            gettext("%(decimal_text)s is not a whole number of pieces") % {"decimal_text": decimal_text(quantity)},
            field="quantity",
        )


@transaction.atomic
def work_order_create(
    *,
    number: str,
    part_revision: PartRevision,
    quantity: Decimal | int,
    site: Site,
    due_date: dt.date | None = None,
    source_system: str = "",
    external_id: str = "",
    quantity_unit: str = EACH,
    ordered_operations: list[str] | None = None,
    actor: User | None = None,
) -> WorkOrder:
    """A work order for `quantity` (in `quantity_unit`: EA for pieces, or a lot part's unit of measure)
    of a part revision at a site; `ordered_operations` is the route as the sender listed it, if it did."""
    check_order_quantity(part_revision.part, Decimal(quantity), quantity_unit)
    if WorkOrder.objects.filter(number=number).exists():
        raise ReleaseRefused(gettext("work order %(number)s already exists") % {"number": number}, field="number")
    order = WorkOrder.objects.create(
        number=number,
        part_revision=part_revision,
        quantity=quantity,
        quantity_unit=quantity_unit,
        site=site,
        due_date=due_date,
        source_system=source_system,
        external_id=external_id,
        ordered_operations=list(ordered_operations or []),
    )
    audit_record(
        chain=f"workorder:{order.pk}",
        action="workorder.created",
        object_type="travelers.workorder",
        object_id=order.pk,
        actor=actor,
        changes=work_order_created_changes(order),
    )
    return order


def work_order_created_changes(order: WorkOrder) -> dict[str, list]:
    """What the audit trail says of a new work order: the one shape for work_order_create and
    work_orders_create_many."""
    return {
        "number": [None, order.number],
        "part_revision": [None, str(order.part_revision)],
        "quantity": [None, f"{decimal_text(Decimal(order.quantity))} {order.quantity_unit}"],
        "site": [None, order.site.code],
        "source": [None, f"{order.source_system}:{order.external_id}".strip(":")],
    }


@transaction.atomic
def work_orders_create_many(orders: list[WorkOrder], *, actor: User | None = None) -> list[WorkOrder]:
    """New work orders (unsaved, each already checked by the caller as work_order_create checks one:
    check_order_quantity, not known before) written together: the orders in one statement, each audited
    as "workorder.created" in its own chain, events and head moves in one round trip
    (audit_record_chains). What an import of a file of orders uses."""
    created = WorkOrder.objects.bulk_create(orders)
    audit_record_chains(
        actor=actor,
        entries={
            f"workorder:{w.pk}": [
                {
                    "action": "workorder.created",
                    "object_type": "travelers.workorder",
                    "object_id": w.pk,
                    "changes": work_order_created_changes(w),
                }
            ]
            for w in created
        },
    )
    return created


def spec_revision_of(routing: Routing) -> str:
    """Which spec a value is judged against: part, part revision and routing revision."""
    part_revision = routing.part_revision
    return f"{part_revision.part.number} rev {part_revision.revision} / routing r{routing.revision}"


def characteristic_snapshot(
    step: TravelerStep, characteristic: Characteristic | TravelerCharacteristic, spec_revision: str
) -> TravelerCharacteristic:
    """An unsaved copy of a spec for a traveler step: from a routing characteristic, or from another
    traveler characteristic (a rework step re-measures what the NCR was about)."""
    source_id = getattr(characteristic, "source_id", characteristic.pk)
    return TravelerCharacteristic(
        step=step,
        source_id=source_id,
        spec_revision=spec_revision,
        **{name: getattr(characteristic, name) for name in (*SPEC_FIELDS, *GAUGE_FIELDS)},
    )


def _snapshot_steps(traveler: Traveler, routing: Routing) -> list[TravelerStep]:
    spec_revision = spec_revision_of(routing)
    aliases = site_aliases(traveler.site)
    steps = list(routing.steps.select_related("operation").prefetch_related("characteristics", "components__part"))
    new_steps = TravelerStep.objects.bulk_create(
        TravelerStep(
            traveler=traveler,
            sequence=s.sequence,
            source_step=s,
            operation=s.operation,
            operation_alias=aliases.get(s.operation_id, ""),
            work_center_id=s.work_center_id,
            title=s.title,
            instructions=s.instructions,
            signoff=s.signoff,
            may_run_out_of_order=s.may_run_out_of_order,
            components=[
                {"part_id": c.part_id, "part_number": c.part.number, "quantity": str(c.quantity)}
                for c in s.components.all()
            ],
            created_at=traveler.released_at,
        )
        for s in steps
    )
    TravelerCharacteristic.objects.bulk_create(
        characteristic_snapshot(new_step, c, spec_revision)
        for new_step, s in zip(new_steps, steps, strict=True)
        for c in s.characteristics.all()
    )
    return new_steps


@transaction.atomic
def traveler_release(
    *, work_order: WorkOrder, identifier: str, actor: User | None, quantity: Decimal | None = None
) -> Traveler:
    """Create the unit (serial) or lot and its traveler, bound to the part revision's released routing."""
    require_perm(actor, "release_traveler", "release travelers")
    work_order = (
        WorkOrder.objects.select_for_update().select_related("part_revision__part", "site").get(pk=work_order.pk)
    )
    if work_order.status in (WorkOrder.Status.COMPLETED, WorkOrder.Status.CANCELLED):
        raise ReleaseRefused(
            gettext("work order %(number)s is %(status)s") % {"number": work_order.number, "status": work_order.status},
            field="work_order",
        )
    identifier = (identifier or "").strip()
    if not identifier:
        raise ReleaseRefused(gettext("a serial or lot number is required"), field="identifier")
    part = work_order.part_revision.part
    routing = (
        Routing.objects.select_related("part_revision__part")
        .filter(part_revision=work_order.part_revision, status=RoutingStatus.RELEASED)
        .first()
    )
    if routing is None:
        raise ReleaseRefused(
            gettext("%(part_revision)s has no released routing") % {"part_revision": work_order.part_revision},
            field="routing",
        )
    is_serial = part.tracking == "serial"
    if is_serial:
        qty = Decimal(1)
    elif quantity is None:
        raise ReleaseRefused(gettext("a lot needs a positive quantity"), field="quantity")
    else:
        qty = positive_quantity(quantity)
    released_qty = sum((i.quantity for i in work_order.items.exclude(status=Item.Status.CANCELLED)), Decimal(0))
    if released_qty + qty > work_order.quantity:
        raise ReleaseRefused(
            gettext("work order %(number)s is for %(decimal_text)s; %(decimal_text2)s already released")
            % {
                "number": work_order.number,
                "decimal_text": decimal_text(work_order.quantity),
                "decimal_text2": decimal_text(released_qty),
            },
            field="quantity",
        )
    try:
        with transaction.atomic():
            item = Item.objects.create(
                part=part,
                part_revision=work_order.part_revision,
                tracking=part.tracking,
                identifier=identifier,
                quantity=qty,
                quantity_available=qty,
                work_order=work_order,
            )
    except IntegrityError as exc:
        kind = "serial number" if is_serial else "lot number"
        raise ReleaseRefused(
            gettext("%(number)s %(kind)s %(identifier)s already exists")
            % {"number": part.number, "kind": kind, "identifier": identifier},
            field="identifier",
        ) from exc
    now = timezone.now()
    traveler = Traveler.objects.create(
        number=next_number("travelers_traveler_number_seq", "T-", 7),
        item=item,
        work_order=work_order,
        routing=routing,
        site=work_order.site,
        released_at=now,
        released_by=actor,
        changed_at=now,
    )
    steps = _snapshot_steps(traveler, routing)
    if work_order.status == WorkOrder.Status.RELEASED:
        work_order.status = WorkOrder.Status.IN_PROGRESS
        work_order.save(update_fields=["status"])
    audit(
        traveler,
        action="traveler.released",
        obj=traveler,
        actor=actor,
        changes={
            "item": [None, str(item)],
            "routing": [None, str(routing)],
            "work_order": [None, work_order.number],
        },
    )
    audit_steps_added(traveler, steps, actor=actor, origin="routing", reason=f"routing r{routing.revision}")
    emit(traveler, "traveler.released", {"routing_revision": routing.revision})
    return traveler
