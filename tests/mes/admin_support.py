"""What the master-data admin tests share: master data built the way the application builds it, the
fixtures (`data`, a logged-in `superuser_client`, uploads under a temporary MEDIA_ROOT), and helpers
that name admin URLs and read pages.

Test modules take the fixtures with `from tests.mes.admin_support import *` (the names in __all__) and
import the helpers by name."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from mes.compliance.models import Profile
from mes.masterdata import services
from mes.masterdata.errors import CodeNotMapped
from mes.masterdata.models import (
    Characteristic,
    Operation,
    Part,
    PartRevision,
    Qualification,
    Routing,
    RoutingStepComponent,
    Site,
    UnmappedCode,
    WorkCenter,
)
from tests.factories import release_routing
from travelers.models import WorkOrder

__all__ = ["_media_in_tmp", "data", "superuser_client"]  # the fixtures

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


# --- Data, built the way the application builds it -----------------------------------------------


def build_master_data(tag: str, django_user_model) -> SimpleNamespace:
    """One site's worth of every kind of master data; `tag` keeps codes of several calls apart."""
    engineer = django_user_model.objects.create_user(f"eng-{tag.lower()}", password="x-Engineer-pass-1")
    Profile.objects.create(user=engineer, employee_number=f"E-{tag}", printed_name=f"Eve Engineer {tag}")
    site = Site.objects.create(code=f"S{tag}", name=f"Plant {tag}", time_zone="Europe/Paris", legacy_system="mes7")
    Profile.objects.filter(user=engineer).update(site=site)
    work_center = WorkCenter.objects.create(site=site, code="BOOTH1", name="Paint booth")
    coating = Operation.objects.create(code=f"COAT-{tag}", name=f"Coating {tag}")
    deburr = Operation.objects.create(code=f"DEBURR-{tag}", name=f"Deburring {tag}")
    services.operation_alias_create(operation=coating, source_system="mes7", site=site, code=f"C{tag}")
    with pytest.raises(CodeNotMapped):
        services.operation_resolve(source_system="mes7", site=site, code=f"X{tag}", context={"file": "in.xml"})
    open_entry = UnmappedCode.objects.get(code=f"X{tag}", resolved_at__isnull=True)
    services.unmapped_code_record(kind="operation", source_system="mes7", site=site, code=f"D{tag}", context={})
    services.operation_alias_create(operation=deburr, source_system="mes7", site=site, code=f"D{tag}")

    part = Part.objects.create(number=f"P-{tag}", name="Bracket", customer="Acme")
    part_revision = PartRevision.objects.create(part=part, revision="A", drawing_number=f"DWG-{tag}")
    released = services.routing_create_draft(part_revision=part_revision, description="first", actor=engineer)
    step = services.routing_step_add(
        routing=released, sequence=10, operation=deburr, title="Deburr edges", work_center=work_center
    )
    services.characteristic_add(
        step=step,
        code="BORE_DIA",
        name="Bore diameter",
        unit="mm",
        nominal=Decimal("10"),
        lower_limit=Decimal("9.95"),
        upper_limit=Decimal("10.05"),
    )
    services.characteristic_add(step=step, code="VISUAL", name="No burrs", kind=Characteristic.Kind.PASS_FAIL)
    services.step_attachment_add(
        step=step, title="Drawing", filename="drawing.png", content=PNG, content_type="image/png"
    )
    screw = Part.objects.create(number=f"SCREW-{tag}", name="Screw M4", tracking=Part.Tracking.LOT)
    RoutingStepComponent.objects.create(step=step, part=screw, quantity=4)  # no service writes components yet
    coat = services.routing_step_add(routing=released, sequence=20, operation=coating, title="Coat")
    services.characteristic_add(
        step=coat, code="THICK", name="Coat thickness", unit="um", lower_limit=Decimal(20), upper_limit=Decimal(40)
    )
    release_routing(routing=released, actor=engineer)
    draft = services.routing_new_revision(routing=released, actor=engineer)

    today = timezone.localdate()
    year = dt.timedelta(days=365)
    for operation, kind, start, end in [
        (coating, Qualification.Kind.PERFORM, today - year, today + year),
        (deburr, Qualification.Kind.PERFORM, today - 2 * year, today - year),
        (coating, Qualification.Kind.INSPECT, today + year, today + 2 * year),
    ]:
        Qualification.objects.create(user=engineer, operation=operation, kind=kind, valid_from=start, expires_on=end)
    WorkOrder.objects.create(
        number=f"WO-{tag}",
        part_revision=part_revision,
        quantity=5,
        site=site,
        source_system="erp",
        external_id=f"ERP-{tag}",
    )
    return SimpleNamespace(
        engineer=engineer,
        site=site,
        coating=coating,
        deburr=deburr,
        open_entry=open_entry,
        part_revision=part_revision,
        released=Routing.objects.get(pk=released.pk),
        draft=draft,
    )


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def data(django_user_model):
    return build_master_data("A", django_user_model)


@pytest.fixture
def superuser_client(client, admin_user):
    client.force_login(admin_user)
    return client


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def editable_inputs(html: str) -> list[str]:
    """Names of the inputs, selects and text areas a user could type into or pick from."""
    tags = re.finditer(r"<(input|select|textarea)\b[^>]*>", html)
    return [
        name.group(1)
        for tag in tags
        if 'type="hidden"' not in tag.group(0) and (name := re.search(r'name="([^"]+)"', tag.group(0)))
    ]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def staff_in_role(django_user_model, username: str, role: str):
    user = django_user_model.objects.create_user(username, password="x-Role-pass-12", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user
