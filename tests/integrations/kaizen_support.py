"""Two sites that call coating by their own codes (CT1 at Wichita, Coat1 at Toulouse), each with a part
whose one-step routing measures COAT_THK, and a way to record values there through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from mes.masterdata import services as md
from tests.factories import (
    OperationFactory,
    PartFactory,
    PartRevisionFactory,
    SiteFactory,
    WorkCenterFactory,
    release_routing,
)
from tests.travelers.conftest import person
from travelers import services

SITES = {"WIC": ("legacy-wic", "CT1", "FIN-01"), "TLS": ("legacy-tls", "Coat1", "TRAIT-S")}


@pytest.fixture
def coating(db):
    coating = OperationFactory(code="COATING", name="Coating")
    shop = SimpleNamespace(op=coating, sites={}, counter=0)
    for code, (system, alias, wc_code) in SITES.items():
        site = SiteFactory(code=code, legacy_system=system)
        wc = WorkCenterFactory(site=site, code=wc_code)
        md.operation_alias_create(operation=coating, source_system=system, site=site, code=alias)
        revision = PartRevisionFactory(part=PartFactory(number=f"P-{code}", name=f"Part made at {code}"), revision="A")
        routing = md.routing_create_draft(part_revision=revision)
        step = md.routing_step_add(routing=routing, sequence=10, operation=coating, work_center=wc, title="Coat")
        md.characteristic_add(
            step=step,
            code="COAT_THK",
            name="Coating thickness",
            unit="um",
            lower_limit=Decimal(8),
            upper_limit=Decimal(18),
        )
        release_routing(routing=routing)
        order = services.work_order_create(
            number=f"WO-{code}",
            part_revision=revision,
            quantity=100,
            site=site,
            due_date=timezone.localdate() + dt.timedelta(days=3),
        )
        shop.sites[code] = SimpleNamespace(site=site, wc=wc, order=order, alias=alias)
    shop.operator = person("Operator", "olga", [coating], "perform")
    shop.supervisor = person("Supervisor", "sam", [], None)
    shop.engineer = person("Engineer", "erin", [], None)
    return shop


def release(shop, site: str):
    shop.counter += 1
    return services.traveler_release(
        work_order=shop.sites[site].order, identifier=f"SN-{site}-{shop.counter:03d}", actor=shop.supervisor
    )


def coat(shop, site: str, value: str):
    """A new traveler at `site`, its coating step started and COAT_THK recorded as `value` µm."""
    traveler = release(shop, site)
    step = services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="COAT_THK", value=value, unit="um", actor=shop.operator)
    return traveler
