"""`manage.py seed_demo`: the demo factory loads whole, and loading it again changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import serializers
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from mes.compliance.roles import ROLES
from mes.compliance.signing import signed_content
from mes.compliance.verify import verify_records
from mes.masterdata import services
from mes.masterdata.errors import CodeNotMapped, QualificationExpired
from mes.masterdata.models import (
    Characteristic,
    Operation,
    Part,
    PartRevision,
    Qualification,
    Routing,
    RoutingStep,
    Site,
    StepAttachment,
)
from mes.masterdata.states import RoutingStatus
from tests.factories import obsolete_routing
from travelers import reports, spc
from travelers.demo.parts import PARTS
from travelers.demo.people import DEMO_PASSWORD, DEMO_USERS, ROUTING_AUTHOR
from travelers.demo.seed import demo_seed
from travelers.demo.seed_report import CREATED, UPDATED
from travelers.models import Measurement, Nonconformance, Traveler, WorkOrder

pytestmark = pytest.mark.django_db

# Rows whose content the seed owns; a second run must leave every one of them byte for byte the same.
SEEDED_APPS = ("auth", "masterdata", "compliance", "travelers")


@pytest.fixture(autouse=True)
def _fast_hasher_and_private_media(settings, tmp_path):
    # PBKDF2 at full strength costs a quarter second per demo user and per login; the demo's logins
    # behave the same with any hasher. Instruction drawings go to a throwaway media folder.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"


def seed(*options: str) -> str:
    out = StringIO()
    call_command("seed_demo", *options, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    """Master data only: the demo travelers (signed through the services) are slow, and one test below
    loads them."""
    return seed("--no-travelers")


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def seeded_rows() -> str:
    return "".join(
        serializers.serialize("json", model._default_manager.order_by("pk"))
        for label in SEEDED_APPS
        for model in apps.get_app_config(label).get_models()
    )


def test_seed_demo_run_twice_creates_and_changes_nothing_the_second_time():
    seeded = seed()
    assert "Demo factory loaded" in seeded
    assert "sites              3 created" in seeded
    assert f"users              {len(DEMO_USERS)} created" in seeded
    assert f"routings           {len(PARTS)} created" in seeded
    counts, rows = row_counts(), seeded_rows()

    second = seed()

    assert "nothing changed" in second
    assert " created" not in second and " updated" not in second
    assert row_counts() == counts
    assert seeded_rows() == rows

    # The demo travelers stand in every state, made through the services.
    statuses = {(t.item.identifier): (t.status, t.on_hold) for t in Traveler.objects.select_related("item")}
    assert statuses["H-24-0006"] == ("active", False)  # pending: nothing started
    assert statuses["H-24-0005"] == ("active", False)  # in progress, with a correction
    assert statuses["H-24-0004"] == ("active", True)  # held with an open NCR
    assert statuses["H-24-0003"] == ("awaiting_signoff", False)
    assert statuses["H-24-0001"] == ("closed", False)
    assert Measurement.objects.filter(supersedes__isnull=False, step__traveler__item__identifier="H-24-0005").exists()
    assert Nonconformance.objects.filter(traveler__item__identifier="H-24-0004", status="open").exists()
    assembly = Traveler.objects.get(item__identifier="A-24-0001")
    assert sorted(c.component.identifier for c in assembly.consumptions.select_related("component")) == [
        "H-24-0001",
        "L24-117",
        "P-24-0001",
    ]
    # a re-planned traveler and a rejected, reworked and approved one: closed, and every signature verifies
    replanned = Traveler.objects.get(item__identifier="H-24-0007")
    replan = replanned.replans.get()
    assert replanned.status == "closed" and replan.to_routing.revision == replan.from_routing.revision + 1
    assert signed_content(replan.signature)["routing_revision"] == replan.from_routing.revision
    reworked = Traveler.objects.get(item__identifier="H-24-0008")
    assert reworked.status == "closed" and reworked.steps.filter(origin="rework", status="completed").exists()
    assert reworked.ncrs.get().disposition == "rework"
    assert [str(f) for f in verify_records().findings] == []
    # The housings' bore drifts as the boring bar wears: in spec, yet the control chart signals the change.
    series = reports.spc_series("7420-101", "BORE_DIA", last=100)
    values = [m.value_numeric for m in series]
    assert all(m.judgment == "in_spec" for m in series)
    assert spc.beyond_limits(values, spc.individuals_limits(values)) == [len(values) - 2, len(values) - 1]


def test_every_role_has_a_demo_user_with_a_profile_and_only_managers_reach_the_admin(seeded):
    user_model = get_user_model()
    for role in ROLES:
        users = user_model.objects.filter(groups__name=role, profile__isnull=False)
        assert users.exists(), f"no demo user with a profile in role {role}"
    for entry in DEMO_USERS:
        user = user_model.objects.select_related("profile__site").get(username=entry["username"])
        assert user.groups.filter(name=entry["role"]).exists()
        assert user.profile.employee_number == entry["employee_number"]
        assert user.profile.printed_name == entry["printed_name"]
        assert user.profile.site.code == entry["site"]
        assert user.is_staff == (entry["role"] in {"Supervisor", "Engineer", "Administrator"}), user.username
        assert user.is_superuser == (entry["role"] == "Administrator"), user.username
    operator_sites = {u["site"] for u in DEMO_USERS if u["role"] == "Operator"}
    assert len(operator_sites) >= 2
    assert sum(u["role"] == "Inspector" for u in DEMO_USERS) >= 2


def test_every_demo_user_can_log_in_with_the_demo_password(seeded):
    for entry in DEMO_USERS:
        user = authenticate(request=RequestFactory().post("/"), username=entry["username"], password=DEMO_PASSWORD)
        assert user is not None, entry["username"]
        validate_password(DEMO_PASSWORD, user)  # raises when a validator refuses it


def test_three_sites_in_three_time_zones_each_with_its_legacy_system_and_work_centers(seeded):
    sites = list(Site.objects.prefetch_related("work_centers"))
    assert len({site.time_zone for site in sites}) == 3
    assert len({site.legacy_system for site in sites}) == 3
    for site in sites:
        assert site.legacy_system
        assert 4 <= len(site.work_centers.all()) <= 6


def test_each_part_has_a_released_routing_of_6_to_12_steps_at_its_site(seeded):
    home_site = {spec.number: spec.site for spec in PARTS}
    parts = list(Part.objects.all())
    assert len(parts) >= 5
    assert any(part.tracking == Part.Tracking.LOT for part in parts)
    for part in parts:
        revision = PartRevision.objects.filter(part=part).order_by("-revision").first()
        routing = Routing.objects.get(part_revision=revision, status=RoutingStatus.RELEASED)
        assert routing.released_at and routing.released_by.username == ROUTING_AUTHOR
        steps = list(routing.steps.select_related("work_center__site"))
        assert 6 <= len(steps) <= 12, part.number
        for step in steps:
            assert step.work_center.site.code == home_site[part.number]
            assert step.instructions.strip()
        assert any(step.requires_inspection for step in steps), part.number


def test_routings_record_every_kind_of_characteristic(seeded):
    assert set(Characteristic.objects.values_list("kind", flat=True)) == set(Characteristic.Kind.values)
    bore = Characteristic.objects.filter(code="BORE_DIA").get()
    assert (bore.unit, bore.nominal, bore.lower_limit, bore.upper_limit, bore.decimals) == (
        "mm",
        Decimal("12.700"),
        Decimal("12.687"),
        Decimal("12.713"),
        3,
    )
    torque = Characteristic.objects.get(code="NUT_TORQUE")
    assert (torque.unit, torque.nominal, torque.lower_limit, torque.upper_limit) == ("N*m", 25, 23, 27)
    assert Characteristic.objects.get(step__routing__part_revision__part__number="7420-101", code="COAT_THK").unit == (
        "um"
    )
    indication = Characteristic.objects.filter(code="PT_INDICATION").first()
    assert indication.choices == ["none", "linear", "rounded"]
    outcomes = set(Characteristic.objects.values_list("on_out_of_spec", flat=True))
    assert outcomes == {"hold", "warn"}
    assert (
        Characteristic.objects.filter(on_out_of_spec="hold").count()
        > 3 * Characteristic.objects.filter(on_out_of_spec="warn").count()
    )
    assert RoutingStep.objects.filter(may_run_out_of_order=True).exists()


def test_an_instruction_drawing_is_attached_as_svg(seeded):
    drawing = StepAttachment.objects.get(step__routing__part_revision__part__number="7420-101")
    assert drawing is not None
    with drawing.file.open("rb") as handle:
        content = handle.read()
    assert content.startswith(b"<svg") and b"12.700" in content
    assert drawing.file.name == f"instructions/{drawing.sha256[:2]}/{drawing.sha256}/section-A-A.svg"
    assert len(content) == drawing.size


def test_coating_codes_of_the_three_sites_resolve_to_one_and_the_same_operation(seeded):
    resolved = set()
    for site_code, code in [("WIC", "CT1"), ("TLS", "Coat1"), ("QRO", "Coating-1")]:
        site = Site.objects.get(code=site_code)
        resolved.add(services.operation_resolve(source_system=site.legacy_system, site=site, code=code))
    assert resolved == {Operation.objects.get(code="COATING")}
    toulouse = Site.objects.get(code="TLS")
    with pytest.raises(CodeNotMapped):  # a code means something at its own site only
        services.operation_resolve(source_system=toulouse.legacy_system, site=toulouse, code="CT1")


def test_one_expired_qualification_is_refused_as_expired(seeded):
    today = timezone.localdate()
    expired = Qualification.objects.select_related("user", "operation").get(expires_on__lt=today)
    with pytest.raises(QualificationExpired):
        services.qualification_check(user=expired.user, operation=expired.operation, kind=expired.kind)


def test_operators_may_perform_and_inspectors_may_inspect_their_sites_work(seeded):
    user_model = get_user_model()
    coating = Operation.objects.get(code="COATING")
    maria, dwight = user_model.objects.get(username="maria"), user_model.objects.get(username="dwight")
    assert services.qualification_check(user=maria, operation=coating, kind="perform")
    assert services.qualification_check(user=dwight, operation=coating, kind="inspect")


def test_work_orders_at_every_site_some_from_the_legacy_mes(seeded):
    today = timezone.localdate()
    for site in Site.objects.all():
        orders = list(WorkOrder.objects.filter(site=site).select_related("part_revision__part"))
        assert len(orders) >= 2
        assert all(order.number.startswith(f"WO-{site.code}-") for order in orders)
        assert all(order.due_date > today for order in orders)
        legacy = [order for order in orders if order.external_id]
        assert legacy and all(order.source_system == site.legacy_system for order in legacy)


def test_a_released_routing_is_left_alone_and_an_engineers_draft_is_not_released(seeded):
    housing = Routing.objects.get(part_revision__part__number="7420-101", status=RoutingStatus.RELEASED)
    obsolete_routing(routing=housing)
    draft = services.routing_new_revision(routing=housing)
    bracket = Routing.objects.get(part_revision__part__number="5517-210", status=RoutingStatus.RELEASED)
    bracket_draft = services.routing_new_revision(routing=bracket)

    output = seed()

    draft.refresh_from_db()
    bracket_draft.refresh_from_db()
    assert draft.status == bracket_draft.status == RoutingStatus.DRAFT
    assert not Routing.objects.filter(part_revision__part__number="7420-101", status=RoutingStatus.RELEASED).exists()
    assert Routing.objects.get(part_revision__part__number="5517-210", status=RoutingStatus.RELEASED) == bracket
    assert "7420-101 rev C has a draft routing" in output


def test_a_run_on_a_later_day_moves_no_date(seeded):
    # Due dates and qualification dates are set relative to the day the demo is first loaded.
    due_dates = dict(WorkOrder.objects.values_list("number", "due_date"))
    qualification_dates = list(Qualification.objects.order_by("pk").values_list("valid_from", "expires_on"))
    assert due_dates["WO-WIC-10021"] == timezone.localdate() + dt.timedelta(days=7)

    report = demo_seed(today=timezone.localdate() + dt.timedelta(days=40), with_travelers=False)

    assert report.total(CREATED) == report.total(UPDATED) == 0
    assert dict(WorkOrder.objects.values_list("number", "due_date")) == due_dates
    assert list(Qualification.objects.order_by("pk").values_list("valid_from", "expires_on")) == qualification_dates
