"""The shared data model: codes, routings, units and qualifications."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mes.masterdata import services, units
from mes.masterdata.errors import (
    AliasConflict,
    CodeNotMapped,
    InvalidLimits,
    InvalidUnit,
    NotQualified,
    QualificationExpired,
    RoutingNotEditable,
    RoutingTransitionRefused,
)
from mes.masterdata.models import Characteristic, OperationAlias, Routing, RoutingStep, UnmappedCode
from mes.masterdata.states import RoutingStatus
from mes.masterdata.units import convert
from tests.factories import (
    OperationFactory,
    PartRevisionFactory,
    QualificationFactory,
    SiteFactory,
    UserFactory,
    release_routing,
    released_routing,
)

pytestmark = pytest.mark.django_db


# --- Three dialects, one operation -------------------------------------------------------------------


@pytest.fixture
def three_sites():
    coating = OperationFactory(code="COATING", name="Coating")
    sites = {
        "CT1": SiteFactory(code="WIC", legacy_system="legacy-wic"),
        "Coat1": SiteFactory(code="TLS", legacy_system="legacy-tls"),
        "Coating-1": SiteFactory(code="QRO", legacy_system="legacy-qro"),
    }
    for code, site in sites.items():
        services.operation_alias_create(operation=coating, source_system=site.legacy_system, site=site, code=code)
    return coating, sites


def test_three_dialects_resolve_to_one_operation(three_sites):
    coating, sites = three_sites
    resolved = {
        services.operation_resolve(source_system=site.legacy_system, site=site, code=code)
        for code, site in sites.items()
    }
    assert resolved == {coating}


def test_a_code_means_nothing_at_another_site(three_sites):
    _, sites = three_sites
    tls = sites["Coat1"]
    with pytest.raises(CodeNotMapped):
        services.operation_resolve(source_system=tls.legacy_system, site=tls, code="CT1")


def test_unknown_code_is_queued_then_resolves_once_mapped(three_sites):
    coating, sites = three_sites
    wic = sites["CT1"]
    context = {"file": "schedule-0042.xml", "line": 17}
    with pytest.raises(CodeNotMapped) as refused:
        services.operation_resolve(source_system="legacy-wic", site=wic, code="CT2", context=context)
    assert "CT2" in refused.value.message and "unmapped-code queue" in refused.value.message
    entry = UnmappedCode.objects.get(code="CT2")
    assert (entry.source_system, entry.site, entry.context, entry.resolved_at) == ("legacy-wic", wic, context, None)

    # Seen again: counted on the same queue entry, not queued twice.
    with pytest.raises(CodeNotMapped):
        services.operation_resolve(source_system="legacy-wic", site=wic, code="CT2", context={"file": "b.xml"})
    entry.refresh_from_db()
    assert entry.occurrences == 2 and entry.context == {"file": "b.xml"}
    assert UnmappedCode.objects.filter(code="CT2").count() == 1

    alias = services.unmapped_code_map(entry=entry, operation=coating)
    entry.refresh_from_db()
    assert entry.resolved_alias == alias and entry.resolved_at is not None
    assert services.operation_resolve(source_system="legacy-wic", site=wic, code="CT2") == coating


def test_system_wide_alias_applies_at_every_site_but_a_site_alias_wins(three_sites):
    coating, sites = three_sites
    machining = OperationFactory(code="MACHINING")
    services.operation_alias_create(operation=machining, source_system="erp", site=None, code="OP10")
    services.operation_alias_create(operation=coating, source_system="erp", site=sites["Coat1"], code="OP10")
    assert services.operation_resolve(source_system="erp", site=sites["CT1"], code="OP10") == machining
    assert services.operation_resolve(source_system="erp", site=sites["Coat1"], code="OP10") == coating


def test_alias_cannot_mean_two_operations(three_sites):
    _, sites = three_sites
    wic = sites["CT1"]
    other = OperationFactory(code="PAINT")
    with pytest.raises(AliasConflict) as refused:
        services.operation_alias_create(operation=other, source_system="legacy-wic", site=wic, code="CT1")
    assert refused.value.field == "code" and "COATING" in refused.value.message
    assert OperationAlias.objects.filter(code="CT1").count() == 1


def test_database_refuses_a_duplicate_system_wide_alias():
    op = OperationFactory()
    OperationAlias.objects.create(operation=op, source_system="erp", site=None, code="X1")
    with pytest.raises(IntegrityError), transaction.atomic():
        OperationAlias.objects.create(operation=op, source_system="erp", site=None, code="X1")


# --- Routings: released means frozen ------------------------------------------------------------------


def test_released_routing_refuses_changes_through_the_services():
    routing = released_routing(steps=2)
    with pytest.raises(RoutingNotEditable):
        services.routing_step_add(routing=routing, sequence=30, operation=OperationFactory(), title="Late step")
    with pytest.raises(RoutingNotEditable):
        services.characteristic_add(
            step=routing.steps.first(),
            code="NEW",
            name="New",
            unit="mm",
            lower_limit=Decimal(1),
            upper_limit=Decimal(2),
        )
    with pytest.raises(RoutingTransitionRefused):
        release_routing(routing=routing)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE masterdata_routing SET description = 'tampered' WHERE id = %(routing)s",
        "UPDATE masterdata_routing SET status = 'draft' WHERE id = %(routing)s",
        "DELETE FROM masterdata_routing WHERE id = %(routing)s",
        "UPDATE masterdata_routingstep SET title = 'tampered' WHERE id = %(step)s",
        "DELETE FROM masterdata_routingstep WHERE id = %(step)s",
        "UPDATE masterdata_characteristic SET upper_limit = 99 WHERE id = %(characteristic)s",
        "DELETE FROM masterdata_characteristic WHERE id = %(characteristic)s",
        "INSERT INTO masterdata_characteristic (step_id, sequence, code, name, kind, unit, decimals, choices, "
        "required, on_out_of_spec) VALUES (%(step)s, 99, 'SNEAK', 'Sneak', 'text', '', 0, '[]', false, 'warn')",
    ],
)
@pytest.mark.regulation("21 CFR 11.10(k)")
def test_released_routing_cannot_change_even_through_sql(statement):
    routing = released_routing(steps=1)
    step = routing.steps.get()
    ids = {"routing": routing.pk, "step": step.pk, "characteristic": step.characteristics.get().pk}
    with pytest.raises(IntegrityError, match="cannot be"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, ids)
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.RELEASED and routing.description == ""
    assert Characteristic.objects.get(pk=ids["characteristic"]).upper_limit == Decimal("12.713")


def test_draft_routing_can_be_edited_through_sql():
    routing = services.routing_create_draft(part_revision=PartRevisionFactory())
    with connection.cursor() as cursor:
        cursor.execute("UPDATE masterdata_routing SET description = 'fine' WHERE id = %s", [routing.pk])
    routing.refresh_from_db()
    assert routing.description == "fine"


def test_new_revision_copies_steps_and_characteristics_into_a_draft():
    routing = released_routing(steps=3)
    draft = services.routing_new_revision(routing=routing)
    assert (draft.status, draft.revision, draft.based_on) == (RoutingStatus.DRAFT, routing.revision + 1, routing)

    def shape(r: Routing):
        return [
            (
                s.sequence,
                s.operation_id,
                s.title,
                s.signoff,
                [(c.code, c.unit, c.nominal, c.lower_limit, c.upper_limit) for c in s.characteristics.all()],
            )
            for s in r.steps.prefetch_related("characteristics")
        ]

    assert shape(draft) == shape(routing)
    assert not set(draft.steps.values_list("pk", flat=True)) & set(routing.steps.values_list("pk", flat=True))
    # The copy is editable; the original is not touched by editing it.
    services.routing_step_add(routing=draft, sequence=40, operation=OperationFactory(), title="Added in r2")
    assert routing.steps.count() == 3 and draft.steps.count() == 4


def test_releasing_the_new_revision_supersedes_the_old_one():
    routing = released_routing(steps=1)
    draft = services.routing_new_revision(routing=routing)
    release_routing(routing=draft)
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.SUPERSEDED and routing.retired_at is not None
    released = Routing.objects.filter(part_revision=routing.part_revision, status=RoutingStatus.RELEASED)
    assert list(released) == [draft]


def test_database_allows_one_released_routing_per_part_revision():
    routing = released_routing(steps=1)
    draft = services.routing_new_revision(routing=routing)
    with pytest.raises(IntegrityError), transaction.atomic():
        Routing.objects.filter(pk=draft.pk).update(status=RoutingStatus.RELEASED)


def test_only_one_draft_at_a_time():
    routing = released_routing(steps=1)
    services.routing_new_revision(routing=routing)
    with pytest.raises(RoutingTransitionRefused, match="already has a draft"):
        services.routing_new_revision(routing=routing)


def test_an_empty_routing_cannot_be_released():
    routing = services.routing_create_draft(part_revision=PartRevisionFactory())
    with pytest.raises(RoutingNotEditable, match="at least one step"):
        release_routing(routing=routing)
    routing.refresh_from_db()
    assert routing.status == RoutingStatus.DRAFT


# --- Characteristics and units -----------------------------------------------------------------------


@pytest.fixture
def draft_step():
    routing = services.routing_create_draft(part_revision=PartRevisionFactory())
    return services.routing_step_add(routing=routing, sequence=10, operation=OperationFactory(), title="Bore")


@pytest.mark.parametrize("unit", ["mmm", "furlongz", "1/0", "", "N·mm·"])
def test_bad_unit_is_refused_with_a_clear_message(draft_step, unit):
    with pytest.raises(InvalidUnit) as refused:
        services.characteristic_add(
            step=draft_step, code="D", name="Dia", unit=unit, lower_limit=Decimal(1), upper_limit=Decimal(2)
        )
    assert refused.value.field == "unit"
    assert refused.value.message in {f"unknown unit '{unit}'", "a unit is required"}
    assert not Characteristic.objects.exists()


@pytest.mark.parametrize("unit", ["mm", "in", "N*m", "N·m", "°C", "degC", "µm", "um", "HRC", "kN"])
def test_shop_units_are_accepted(draft_step, unit):
    if unit == "HRC":  # hardness scales are not physical units: recorded as dimensionless numbers
        unit = "dimensionless"
    char = services.characteristic_add(
        step=draft_step, code="X", name="X", unit=unit, lower_limit=Decimal(1), upper_limit=Decimal(2)
    )
    assert char.unit == unit


def test_lower_limit_above_upper_is_refused(draft_step):
    with pytest.raises(InvalidLimits, match="lower limit 13 is above upper limit 12") as refused:
        services.characteristic_add(
            step=draft_step, code="D", name="Dia", unit="mm", lower_limit=Decimal(13), upper_limit=Decimal(12)
        )
    assert refused.value.field == "lower_limit"


def test_pass_fail_characteristic_has_no_unit(draft_step):
    with pytest.raises(InvalidUnit, match="has no unit"):
        services.characteristic_add(step=draft_step, code="V", name="Visual", kind="pass_fail", unit="mm")


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        ("0.5", "in", "mm", "12.7"),
        ("20", "degC", "degF", "68"),
        ("1000", "um", "mm", "1"),
        ("25", "N·m", "N*m", "25"),
    ],
)
def test_values_convert_between_compatible_units(value, source, target, expected):
    assert convert(Decimal(value), source, target) == Decimal(expected)


def test_incompatible_units_do_not_convert():
    with pytest.raises(InvalidUnit, match="'N\\*m' cannot be converted to 'mm'"):
        convert(Decimal(1), "N*m", "mm")


# --- Qualifications ----------------------------------------------------------------------------------


def test_valid_qualification_is_returned():
    qual = QualificationFactory()
    assert services.qualification_check(user=qual.user, operation=qual.operation, kind="perform") == qual


@pytest.mark.regulation("21 CFR 11.10(i)")
def test_expired_qualification_is_reported_as_expired():
    today = timezone.localdate()
    qual = QualificationFactory(valid_from=today - dt.timedelta(days=400), expires_on=today - dt.timedelta(days=1))
    with pytest.raises(QualificationExpired) as refused:
        services.qualification_check(user=qual.user, operation=qual.operation, kind="perform")
    assert f"expired on {qual.expires_on:%Y-%m-%d}" in refused.value.message
    assert refused.value.field == "qualification"


@pytest.mark.regulation("21 CFR 11.10(i)")
def test_unqualified_user_is_reported_as_not_qualified():
    user, op = UserFactory(), OperationFactory(name="Coating")
    QualificationFactory(user=user, operation=op, kind="perform")
    with pytest.raises(NotQualified) as refused:
        services.qualification_check(user=user, operation=op, kind="inspect")
    assert not isinstance(refused.value, QualificationExpired)
    assert "not qualified to inspect Coating" in refused.value.message


def test_step_order_fields_are_kept():
    routing = services.routing_create_draft(part_revision=PartRevisionFactory())
    step = services.routing_step_add(
        routing=routing,
        sequence=10,
        operation=OperationFactory(),
        title="Deburr",
        signoff=RoutingStep.Signoff.OPERATOR_AND_INSPECTOR,
        may_run_out_of_order=True,
    )
    assert step.requires_inspection and step.may_run_out_of_order


def test_unit_registry_is_built_once_even_under_threads():
    units._registry = None
    units._unit.cache_clear()
    seen = []
    barrier = threading.Barrier(8)

    def convert_once():
        barrier.wait()
        seen.append(units.convert(Decimal("1"), "in", "mm"))

    threads = [threading.Thread(target=convert_once) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [Decimal("25.4")] * 8


def test_an_overlong_unit_is_refused_not_truncated():
    with pytest.raises(InvalidUnit, match="unknown unit"):
        convert(Decimal(1), "mm" + " " * 3 + "x" * 80, "mm")
