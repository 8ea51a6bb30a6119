"""Nonconformances, dispositions, genealogy, separation of duties and qualifications at signing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from mes.masterdata.errors import NotQualified, QualificationExpired
from mes.masterdata.models import Qualification
from mes.masterdata.services import routing_create_draft, routing_step_add
from tests.factories import release_routing
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from travelers import services
from travelers.errors import ComponentRefused, NonconformanceRefused, SeparationOfDuties, TravelerNotOpen
from travelers.models import Item, Traveler
from travelers.states import StepStatus, TravelerStatus

pytestmark = pytest.mark.django_db


def _out_of_spec(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.690", actor=shop.operator)
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    big = step.measurements.get(characteristic__code="BORE_DIA")
    fixed = services.measurement_correct(
        measurement=big,
        value="12.730",
        reason="re-measured with the bore gauge",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    return step, fixed


def test_performer_cannot_inspect_their_own_step(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25", actor=shop.operator)
    step = services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    shop.operator.groups.add(shop.inspector.groups.first())  # even if they also hold the inspector role
    olga = type(shop.operator).objects.get(pk=shop.operator.pk)  # fresh permission cache
    for qual in shop.operator.qualifications.all():
        Qualification.objects.create(
            user=olga, operation=qual.operation, kind="inspect", valid_from=qual.valid_from, expires_on=qual.expires_on
        )
    with pytest.raises(SeparationOfDuties, match="another inspector must buy it off"):
        services.step_inspect(step=step, actor=olga, secret=PASSWORD, username=olga.get_username())
    assert step_of(traveler, 20).status == StepStatus.AWAITING_INSPECTION


def sign_step_10_performed(shop, traveler):
    """The operator starts step 10, records its two values and signs it performed."""
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.7", actor=shop.operator)
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    return services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())


def test_an_expired_qualification_blocks_signing(shop, traveler):
    today = timezone.localdate()
    Qualification.objects.filter(user=shop.operator, operation=shop.ops["machining"]).update(
        valid_from=today - dt.timedelta(days=400), expires_on=today - dt.timedelta(days=3)
    )
    with pytest.raises(QualificationExpired, match="expired on"):
        sign_step_10_performed(shop, traveler)
    assert step_of(traveler, 10).performed_signature is None


def test_signing_performed_needs_a_perform_qualification_for_the_steps_own_operation(shop, traveler):
    """The signer's qualifications are read with the step's lock, for the step's operation and "perform":
    one to inspect that operation, or to perform another, does not sign."""
    qual = Qualification.objects.get(user=shop.operator, operation=shop.ops["machining"], kind="perform")
    qual.kind = "inspect"
    qual.save()
    assert Qualification.objects.filter(user=shop.operator, kind="perform").exclude(pk=qual.pk).exists()
    with pytest.raises(NotQualified, match="not qualified to perform Machining"):
        sign_step_10_performed(shop, traveler)
    assert step_of(traveler, 10).performed_signature is None


def test_an_unqualified_inspector_cannot_buy_off(shop, traveler):
    Qualification.objects.filter(user=shop.inspector, operation=shop.ops["assembly"]).delete()
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25", actor=shop.operator)
    step = services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    with pytest.raises(NotQualified, match="not qualified to inspect Assembly"):
        services.step_inspect(step=step, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username())


def test_the_signature_records_the_qualification(shop, traveler):
    step = do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    qual = step.performed_signature.qualification
    assert qual.user == shop.operator and qual.kind == "perform" and qual.operation == shop.ops["machining"]
    assert "may perform MACHINING" in step.performed_signature.qualification_text


def test_rework_disposition_adds_steps_and_releases_the_hold(shop, traveler):
    step, fixed = _out_of_spec(shop, traveler)
    traveler.refresh_from_db()
    ncr = traveler.ncrs.get()
    assert traveler.on_hold and ncr.measurement == fixed
    with pytest.raises(NonconformanceRefused, match="at least one step"):
        services.ncr_disposition(
            ncr=ncr,
            disposition="rework",
            notes="hone",
            actor=shop.inspector,
            secret=PASSWORD,
            username=shop.inspector.get_username(),
        )
    services.ncr_disposition(
        ncr=ncr,
        disposition="rework",
        notes="hone the bore to size",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        rework_steps=[{"operation": "MACHINING", "title": "Hone bore", "instructions": "Hone to 12.700"}],
    )
    traveler.refresh_from_db()
    ncr.refresh_from_db()
    assert not traveler.on_hold and ncr.status == "closed" and ncr.disposition_signature.meaning == "dispositioned"
    rework = traveler.steps.get(sequence=11)
    assert rework.origin == "rework" and rework.ncr == ncr and rework.requires_inspection
    assert list(rework.characteristics.values_list("code", flat=True)) == ["BORE_DIA"]


def test_scrap_disposition_ends_the_traveler(shop, traveler):
    _out_of_spec(shop, traveler)
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="scrap",
        notes="bore oversize beyond repair",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.SCRAPPED and not traveler.on_hold
    assert Item.objects.get(pk=traveler.item_id).status == Item.Status.SCRAPPED
    with pytest.raises(TravelerNotOpen):
        services.step_start(step=step_of(traveler, 20), actor=shop.operator)


def test_a_bad_disposition_is_refused_and_changes_nothing(shop, traveler):
    _out_of_spec(shop, traveler)
    ncr = traveler.ncrs.get()
    with pytest.raises(NonconformanceRefused, match="'melt' is not a disposition"):
        services.ncr_disposition(
            ncr=ncr,
            disposition="melt",
            notes="x",
            actor=shop.inspector,
            secret=PASSWORD,
            username=shop.inspector.get_username(),
        )
    with pytest.raises(NonconformanceRefused, match="unknown operation 'WELD'") as refused:
        services.ncr_disposition(
            ncr=ncr,
            disposition="rework",
            notes="weld",
            actor=shop.inspector,
            secret=PASSWORD,
            username=shop.inspector.get_username(),
            rework_steps=[{"operation": "WELD", "title": "Weld"}],
        )
    assert refused.value.field == "rework_steps[0].operation"
    ncr.refresh_from_db()
    assert ncr.status == "open" and traveler.steps.count() == 4


# --- Genealogy ---------------------------------------------------------------------------------------


def _closed_pin(shop, serial: str):
    """A closed traveler for a hinge pin (received items are simpler, but this is the real path)."""
    if not shop.pin_rev.routings.exists():
        routing = routing_create_draft(part_revision=shop.pin_rev)
        routing_step_add(routing=routing, sequence=10, operation=shop.ops["machining"], title="Turn pin")
        release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-{serial}", part_revision=shop.pin_rev, quantity=1, site=shop.site)
    pin = services.traveler_release(work_order=order, identifier=serial, actor=shop.supervisor)
    do_step(shop, pin, 10, {})
    services.traveler_signoff(
        traveler=pin, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    return Item.objects.get(pk=pin.item_id)


def _at_assembly(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    return services.step_start(step=step_of(traveler, 20), actor=shop.operator)


def test_a_serial_cannot_be_consumed_twice(shop, traveler):
    pin = _closed_pin(shop, "PIN-0001")
    step = _at_assembly(shop, traveler)
    services.component_consume(step=step, identifier="PIN-0001", actor=shop.operator)
    other = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    other_step = _at_assembly(shop, other)
    with pytest.raises(ComponentRefused, match=f"already installed in {traveler.number}"):
        services.component_consume(step=other_step, identifier="PIN-0001", actor=shop.operator)
    pin.refresh_from_db()
    assert pin.status == Item.Status.CONSUMED and pin.consumed_in.count() == 1


def test_removing_a_component_is_signed_and_frees_it(shop, traveler):
    _closed_pin(shop, "PIN-0002")
    step = _at_assembly(shop, traveler)
    consumption = services.component_consume(step=step, identifier="PIN-0002", actor=shop.operator)
    removed = services.component_remove(
        consumption=consumption,
        reason="pin scored during fit",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
    )
    assert not removed.active and removed.removal_signature.meaning == "removed"
    assert Item.objects.get(identifier="PIN-0002").status == Item.Status.AVAILABLE
    assert traveler.consumptions.count() == 1  # the history stays


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("wrong_part", "is the wrong part: step 20 takes PIN-1"),
        ("held", "is on hold"),
        ("scrapped", "is scrapped"),
        ("unknown", "no unit or lot NOPE is known"),
        ("in_production", "still in production"),
    ],
)
def test_components_are_refused_when_they_should_be(shop, traveler, setup, message):
    step = _at_assembly(shop, traveler)
    identifier = "PIN-0003"
    if setup == "wrong_part":
        Item.objects.create(
            part=shop.bush_part,
            part_revision=shop.bush_part.revisions.get(),
            tracking="lot",
            identifier="LOT-B1",
            quantity=Decimal(50),
            quantity_available=Decimal(50),
            status=Item.Status.AVAILABLE,
        )
        identifier = "LOT-B1"
    elif setup == "unknown":
        identifier = "NOPE"
    elif setup == "in_production":  # a pin whose own traveler is still open
        pin = _closed_pin(shop, "PIN-0009")
        order = services.work_order_create(number="WO-PIN-0004", part_revision=shop.pin_rev, quantity=1, site=shop.site)
        identifier = services.traveler_release(
            work_order=order, identifier="PIN-0004", actor=shop.supervisor
        ).item.identifier
        assert pin.status == Item.Status.AVAILABLE
    else:
        pin = _closed_pin(shop, identifier)
        Item.objects.filter(pk=pin.pk).update(**({"on_hold": True} if setup == "held" else {"status": "scrapped"}))
    with pytest.raises(ComponentRefused, match=message):
        services.component_consume(step=step, identifier=identifier, actor=shop.operator)
    assert not traveler.consumptions.exists()


def test_full_traveler_history_counts(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    assert Traveler.objects.get(pk=traveler.pk).status == TravelerStatus.AWAITING_SIGNOFF


def test_rework_after_a_rejection_comes_after_the_last_step(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    services.traveler_signoff(
        traveler=traveler,
        approve=False,
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        reason="burr on the flange",
    )
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="rework",
        notes="deburr again",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        rework_steps=[{"operation": "MACHINING", "title": "Deburr flange"}],
    )
    assert traveler.steps.get(ncr=ncr).sequence == 41
