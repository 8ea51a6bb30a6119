"""What a closed traveler tells the legacy MES: one read of the travelers' records, in plain objects,
shared by every writer of completions (B2MML performance documents, the legacy database).

Closed travelers are read-only, so reading them again later gives the same answer: a writer that runs
twice writes the same thing twice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q

from mes.masterdata.models import OperationAlias
from mes.numbers import decimal_at_places
from travelers.content import current_measurements
from travelers.models import Consumption, Measurement, Traveler, TravelerStep
from travelers.states import TravelerStatus


@dataclass
class Person:
    username: str
    printed_name: str
    signed_at: dt.datetime


@dataclass
class ValueOut:
    """One standing (not superseded) measurement: a test result."""

    code: str
    name: str
    kind: str
    value: str
    data_type: str  # a B2MML DataType: decimal, boolean, string
    unit: str
    judgment: str  # in_spec, out_of_spec, recorded
    nominal: str | None  # the limits as the characteristic shows them
    lower_limit: str | None
    upper_limit: str | None
    recorded_at: dt.datetime
    source: str
    corrected: bool


@dataclass
class ComponentOut:
    part_number: str
    revision: str
    identifier: str
    tracking: str  # serial or lot
    quantity: Decimal
    unit: str = "EA"  # EA, or the lot part's unit of measure


@dataclass
class StepOut:
    sequence: int
    title: str
    operation_code: str
    operation_name: str
    site_alias: str | None
    work_center: str | None
    status: str
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    performed_by: Person | None
    inspected_by: Person | None
    skip_reason: str
    values: list[ValueOut] = field(default_factory=list)
    components: list[ComponentOut] = field(default_factory=list)


@dataclass
class TravelerOut:
    number: str
    work_order: str
    work_order_external_id: str
    work_order_status: str
    source_system: str
    site_code: str
    part_number: str
    part_revision: str
    tracking: str
    identifier: str
    quantity: Decimal
    quantity_unit: str  # EA for a unit, else the lot's unit of measure (the work order's)
    released_at: dt.datetime
    closed_at: dt.datetime
    approved_by: Person | None
    steps: list[StepOut] = field(default_factory=list)

    @property
    def started_at(self) -> dt.datetime:
        starts = [s.started_at for s in self.steps if s.started_at]
        return min(starts) if starts else self.released_at


def _person(signature) -> Person | None:
    if signature is None:
        return None
    return Person(
        username=signature.signer.username, printed_name=signature.printed_name, signed_at=signature.signed_at
    )


def value_out(m: Measurement) -> ValueOut:
    """One recorded value as every completion format writes it (at the characteristic's decimals)."""
    c = m.characteristic
    if m.value_numeric is not None:
        value, data_type = decimal_at_places(m.value_numeric, c.decimals) or None, "decimal"
    elif m.value_bool is not None:
        value, data_type = ("true" if m.value_bool else "false"), "boolean"
    elif m.attachment_id:
        value, data_type = f"{m.attachment.filename} sha256:{m.attachment.sha256}", "string"
    else:
        value, data_type = m.value_text, "string"
    return ValueOut(
        code=c.code,
        name=c.name,
        kind=c.kind,
        value=value,
        data_type=data_type,
        unit=m.spec_unit or "",
        judgment=m.judgment,
        nominal=decimal_at_places(m.spec_nominal, c.decimals) or None,
        lower_limit=decimal_at_places(m.spec_lower, c.decimals) or None,
        upper_limit=decimal_at_places(m.spec_upper, c.decimals) or None,
        recorded_at=m.recorded_at,
        source=m.source,
        corrected=m.supersedes_id is not None,
    )


def _aliases(source_system: str, site_ids: set[int]) -> dict[tuple[int, int], str]:
    """(site id, operation id) -> the site's code for the operation; a site-specific alias wins."""
    found: dict[tuple[int, int], str] = {}
    rows = (
        OperationAlias.objects.filter(source_system=source_system)
        .filter(Q(site_id__in=site_ids) | Q(site__isnull=True))
        .order_by("site_id", "code")  # NULLs (system-wide) last: site-specific first
        .values_list("site_id", "operation_id", "code")
    )
    for site_id, operation_id, code in rows:
        for target in [site_id] if site_id else site_ids:
            found.setdefault((target, operation_id), code)
    return found


def closed_travelers(*, work_order=None, numbers=None, source_system: str | None = None) -> list[TravelerOut]:
    """The closed travelers of a work order (or the ones named), in traveler-number order, with their
    steps, standing values, components and signers. `source_system` picks whose operation codes to
    show beside the canonical ones (default: each site's legacy system)."""
    travelers = Traveler.objects.filter(status=TravelerStatus.CLOSED)
    if work_order is not None:
        travelers = travelers.filter(work_order=work_order)
    if numbers is not None:
        travelers = travelers.filter(number__in=list(numbers))
    steps = TravelerStep.objects.select_related(
        "operation",
        "work_center",
        "performed_signature__signer",
        "inspected_signature__signer",
    ).order_by("sequence")
    measurements = Measurement.objects.select_related("characteristic", "attachment").order_by(
        "characteristic__sequence", "characteristic_id", "recorded_at", "id"
    )
    consumptions = Consumption.objects.filter(active=True).select_related("component__part", "component__part_revision")
    travelers = list(
        travelers.select_related("site", "work_order", "item__part", "item__part_revision", "final_signature__signer")
        .prefetch_related(
            Prefetch("steps", queryset=steps),
            Prefetch("steps__measurements", queryset=measurements),
            Prefetch("steps__consumptions", queryset=consumptions),
        )
        .order_by("number")
    )
    alias_maps: dict[str, dict] = {}
    out = []
    for t in travelers:
        system = source_system or t.site.legacy_system
        if system not in alias_maps:
            alias_maps[system] = _aliases(system, {x.site_id for x in travelers})
        aliases = alias_maps[system]
        item = t.item
        record = TravelerOut(
            number=t.number,
            work_order=t.work_order.number,
            work_order_external_id=t.work_order.external_id or t.work_order.number,
            work_order_status=t.work_order.status,
            source_system=t.work_order.source_system,
            site_code=t.site.code,
            part_number=item.part.number,
            part_revision=item.part_revision.revision,
            tracking=item.tracking,
            identifier=item.identifier,
            quantity=item.quantity,
            quantity_unit="EA" if item.tracking == "serial" else t.work_order.quantity_unit,
            released_at=t.released_at,
            closed_at=t.closed_at,
            approved_by=_person(t.final_signature),
        )
        for s in t.steps.all():
            record.steps.append(
                StepOut(
                    sequence=s.sequence,
                    title=s.title,
                    operation_code=s.operation.code,
                    operation_name=s.operation.name,
                    site_alias=aliases.get((t.site_id, s.operation_id)),
                    work_center=s.work_center.code if s.work_center_id else None,
                    status=s.status,
                    started_at=s.started_at,
                    completed_at=s.completed_at,
                    performed_by=_person(s.performed_signature),
                    inspected_by=_person(s.inspected_signature),
                    skip_reason=s.skip_reason,
                    values=[value_out(m) for m in current_measurements(list(s.measurements.all()))],
                    components=[
                        ComponentOut(
                            part_number=c.component.part.number,
                            revision=c.component.part_revision.revision,
                            identifier=c.component.identifier,
                            tracking=c.component.tracking,
                            quantity=c.quantity,
                            unit="EA" if c.component.tracking == "serial" else c.component.part.quantity_unit,
                        )
                        for c in s.consumptions.all()
                    ],
                )
            )
        out.append(record)
    return out
