"""A small shop for traveler tests: one site, a serialized part with a four-step released routing,
and an operator, a second operator, an inspector and a supervisor, each in their role and qualified."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from mes.masterdata import services as md
from mes.masterdata.models import Part, RoutingStep, RoutingStepComponent
from tests.factories import (
    DEFAULT_PASSWORD,
    OperationFactory,
    PartFactory,
    PartRevisionFactory,
    QualificationFactory,
    SiteFactory,
    UserFactory,
    WorkCenterFactory,
    release_routing,
)
from travelers import services

PASSWORD = DEFAULT_PASSWORD


def person(role: str, username: str, operations, kind: str | None):
    user = UserFactory(username=username, first_name=username.capitalize(), last_name="Smith")
    user.groups.add(Group.objects.get(name=role))
    for op in operations if kind else []:
        QualificationFactory(user=user, operation=op, kind=kind)
    return user


def build_routing(part_revision, ops, wc, *, component_part=None):
    routing = md.routing_create_draft(part_revision=part_revision)
    bore = md.routing_step_add(
        routing=routing,
        sequence=10,
        operation=ops["machining"],
        work_center=wc,
        title="Bore the housing",
        instructions="Bore to **12.700 mm**.",
    )
    md.characteristic_add(
        step=bore,
        code="BORE_DIA",
        name="Bore diameter",
        unit="mm",
        nominal=Decimal("12.700"),
        lower_limit=Decimal("12.687"),
        upper_limit=Decimal("12.713"),
    )
    md.characteristic_add(step=bore, code="SURFACE", name="Surface visual", kind="pass_fail", on_out_of_spec="warn")
    assemble = md.routing_step_add(
        routing=routing,
        sequence=20,
        operation=ops["assembly"],
        work_center=wc,
        title="Torque the cover",
        signoff=RoutingStep.Signoff.OPERATOR_AND_INSPECTOR,
    )
    md.characteristic_add(
        step=assemble,
        code="TORQUE",
        name="Cover torque",
        unit="N*m",
        nominal=Decimal(25),
        lower_limit=Decimal(23),
        upper_limit=Decimal(27),
        on_out_of_spec="warn",
        decimals=1,
    )
    if component_part is not None:
        RoutingStepComponent.objects.create(step=assemble, part=component_part, quantity=1)
    mark = md.routing_step_add(
        routing=routing,
        sequence=30,
        operation=ops["marking"],
        work_center=wc,
        title="Mark the serial",
        may_run_out_of_order=True,
    )
    md.characteristic_add(step=mark, code="MARK_OK", name="Marking legible", kind="pass_fail")
    md.routing_step_add(routing=routing, sequence=40, operation=ops["inspection"], work_center=wc, title="Final visual")
    return release_routing(routing=routing)


@pytest.fixture
def shop(db):
    site = SiteFactory(code="WIC", time_zone="America/Chicago", legacy_system="legacy-wic")
    wc = WorkCenterFactory(site=site, code="CELL-1")
    ops = {
        name: OperationFactory(code=name.upper(), name=name.capitalize())
        for name in ("machining", "assembly", "marking", "inspection", "coating")
    }
    md.operation_alias_create(operation=ops["machining"], source_system="legacy-wic", site=site, code="MC-10")
    pin_part = PartFactory(number="PIN-1", name="Hinge pin")
    pin_rev = PartRevisionFactory(part=pin_part, revision="A")
    bush_part = PartFactory(number="BUSH-1", name="Bushing", tracking=Part.Tracking.LOT)
    PartRevisionFactory(part=bush_part, revision="A")
    part_revision = PartRevisionFactory(part=PartFactory(number="HSG-1", name="Housing"), revision="A")
    routing = build_routing(part_revision, ops, wc, component_part=pin_part)
    all_ops = list(ops.values())
    people = SimpleNamespace(
        operator=person("Operator", "olga", all_ops, "perform"),
        operator2=person("Operator", "oscar", all_ops, "perform"),
        inspector=person("Inspector", "ines", all_ops, "inspect"),
        supervisor=person("Supervisor", "sam", [], None),
        engineer=person("Engineer", "erin", [], None),
    )
    order = services.work_order_create(
        number="WO-1",
        part_revision=part_revision,
        quantity=5,
        site=site,
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    return SimpleNamespace(
        site=site,
        wc=wc,
        ops=ops,
        routing=routing,
        part_revision=part_revision,
        order=order,
        pin_part=pin_part,
        pin_rev=pin_rev,
        bush_part=bush_part,
        **vars(people),
    )


@pytest.fixture
def traveler(shop):
    return services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)


def step_of(traveler, sequence):
    return traveler.steps.get(sequence=sequence)


def do_step(shop, traveler, sequence, values: dict, *, performer=None, inspector=None):
    """Start, record every value, sign; buy off when the step needs an inspector."""
    performer = performer or shop.operator
    step = services.step_start(step=step_of(traveler, sequence), actor=performer)
    for code, (value, unit) in values.items():
        services.measurement_record(step=step, characteristic=code, value=value, unit=unit, actor=performer)
    step = services.step_perform(step=step, actor=performer, secret=PASSWORD, username=performer.get_username())
    if step.requires_inspection:
        step = services.step_inspect(
            step=step,
            actor=inspector or shop.inspector,
            secret=PASSWORD,
            username=(inspector or shop.inspector).get_username(),
        )
    return step


def run_to_signoff(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    do_step(shop, traveler, 20, {"TORQUE": ("25.0", "N*m")})
    do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    do_step(shop, traveler, 40, {})
    traveler.refresh_from_db()
    return traveler
