"""Traveler execution through the services: release, order, values, corrections, holds, sign-off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import AuditEvent, Signature
from mes.compliance.signing import signature_verify
from mes.compliance.verify import verify_records
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from mes.masterdata.models import Characteristic
from tests.factories import release_routing
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from travelers import services
from travelers.errors import (
    MeasurementInvalid,
    NotAuthorized,
    RecordConflict,
    ReleaseRefused,
    StepOutOfOrder,
    StepStateRefused,
    TravelerHeld,
    TravelerNotOpen,
)
from travelers.models import Item, Measurement, Nonconformance, Traveler
from travelers.states import StepStatus, TravelerStatus

pytestmark = pytest.mark.django_db


def test_release_snapshots_the_routing(shop, traveler):
    assert traveler.status == TravelerStatus.ACTIVE and traveler.routing == shop.routing
    assert list(traveler.steps.values_list("sequence", "title")) == [
        (10, "Bore the housing"),
        (20, "Torque the cover"),
        (30, "Mark the serial"),
        (40, "Final visual"),
    ]
    bore = step_of(traveler, 10).characteristics.get(code="BORE_DIA")
    assert (bore.unit, bore.lower_limit, bore.upper_limit) == ("mm", Decimal("12.687"), Decimal("12.713"))
    assert bore.spec_revision == "HSG-1 rev A / routing r1"
    assert traveler.item.identifier == "SN-0001" and traveler.item.tracking == "serial"


def test_later_master_data_changes_never_alter_an_open_traveler(shop, traveler):
    draft = md.routing_new_revision(routing=shop.routing)
    Characteristic.objects.filter(step__routing=draft, code="BORE_DIA").update(upper_limit=Decimal("12.800"))
    release_routing(routing=draft)
    bore = step_of(traveler, 10).characteristics.get(code="BORE_DIA")
    assert bore.upper_limit == Decimal("12.713")
    newer = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    assert step_of(newer, 10).characteristics.get(code="BORE_DIA").upper_limit == Decimal("12.800")


def test_serial_is_unique_per_part_and_quantity_is_respected(shop, traveler):
    with pytest.raises(ReleaseRefused, match="serial number SN-0001 already exists"):
        services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    for n in range(2, 6):
        services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
    with pytest.raises(ReleaseRefused, match="is for 5; 5 already released"):
        services.traveler_release(work_order=shop.order, identifier="SN-0009", actor=shop.supervisor)


@pytest.mark.regulation("21 CFR 11.10(g)")
def test_an_operator_cannot_release_travelers(shop):
    with pytest.raises(NotAuthorized):
        services.traveler_release(work_order=shop.order, identifier="SN-7", actor=shop.operator)


@pytest.mark.regulation("21 CFR 11.10(f)")
def test_steps_wait_for_their_predecessors(shop, traveler):
    with pytest.raises(StepOutOfOrder, match="step 20 waits for step 10"):
        services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    assert step_of(traveler, 20).status == StepStatus.PENDING


def test_starting_a_step_is_two_round_trips_and_says_so_everywhere(shop, traveler):
    """The lock, the chain's head and the steps it waits for in one round trip; the step, the versions,
    its audit event and its outbox message in another."""
    step = step_of(traveler, 10)
    before = (traveler.version, step.version)
    assert shop.operator.has_perm("travelers.perform_step")  # the permissions, as a token brings them
    with CaptureQueriesContext(connection) as ctx:
        services.step_start(step=step, actor=shop.operator)
    sent = [
        q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))
    ]
    assert len(sent) == 2, sent
    stored = step_of(traveler, 10)
    assert (stored.status, stored.started_by, stored.version) == (StepStatus.IN_PROGRESS, shop.operator, before[1] + 1)
    traveler.refresh_from_db()
    assert traveler.version == before[0] + 1 and traveler.changed_at == stored.started_at
    event = AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}").latest("seq")
    assert (event.action, event.object_id, event.changes) == (
        "step.started",
        str(step.pk),
        {"status": ["pending", "in_progress"]},
    )
    message = OutboxMessage.objects.latest("id")
    assert message.event_type.endswith("step.started") and message.payload["data"]["step"]["status"] == "in_progress"


@pytest.mark.regulation("21 CFR 11.70")
def test_signing_a_step_writes_the_signature_and_the_step_together_and_they_verify(shop, traveler):
    """Signing "performed": the signature, the step, both audit events and the outbox message go in one
    round trip; the signature still verifies against the step's content and the chain stays whole."""
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.701", unit="mm", actor=shop.operator)
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    with CaptureQueriesContext(connection) as ctx:
        step = services.step_perform(
            step=step_of(traveler, 10), actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username()
        )
    inserts = [q["sql"] for q in ctx.captured_queries if 'INSERT INTO "compliance_signature"' in q["sql"]]
    assert len(inserts) == 1
    assert all(
        table in inserts[0] for table in ("travelers_travelerstep", "compliance_auditevent", "events_outboxmessage")
    )
    step = step_of(traveler, 10)
    assert step.status == StepStatus.COMPLETED and step.completed_at == step.performed_signature.signed_at
    assert signature_verify(step.performed_signature)
    last_two = AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}").order_by("-seq")[:2]
    assert [(e.action, e.object_id) for e in reversed(last_two)] == [
        ("signature.signed", str(step.performed_signature_id)),
        ("step.performed", str(step.pk)),
    ]
    assert verify_records().ok


def test_a_free_order_step_may_run_first_and_blocks_nobody(shop, traveler):
    do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    assert step_of(traveler, 30).status == StepStatus.COMPLETED
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    services.step_start(step=step_of(traveler, 20), actor=shop.operator)


def test_value_in_other_unit_is_converted_and_both_are_kept(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    m = services.measurement_record(step=step, characteristic="BORE_DIA", value="0.5", unit="in", actor=shop.operator)
    assert (m.entered_value, m.entered_unit) == ("0.5", "in")
    assert m.value_numeric == Decimal("12.7") and m.judgment == "in_spec" and m.deviation == 0
    assert m.spec_revision == "HSG-1 rev A / routing r1" and m.source == "manual"


@pytest.mark.parametrize(
    ("value", "unit", "field", "message"),
    [
        ("abc", "mm", "value", "'abc' is not a number"),
        ("NaN", "mm", "value", "'NaN' is not a finite number"),
        ("12.7", "furlongz", "unit", "unknown unit 'furlongz'"),
        ("12.7", "N*m", "unit", "'N*m' cannot be converted to mm"),
        ("", "mm", "value", "enter a value"),
    ],
)
def test_bad_values_are_refused_naming_the_problem_and_nothing_is_saved(shop, traveler, value, unit, field, message):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    before = (Measurement.objects.count(), AuditEvent.objects.count(), OutboxMessage.objects.count())
    with pytest.raises(MeasurementInvalid) as refused:
        services.measurement_record(step=step, characteristic="BORE_DIA", value=value, unit=unit, actor=shop.operator)
    assert (refused.value.field, refused.value.message) == (field, message)
    assert (Measurement.objects.count(), AuditEvent.objects.count(), OutboxMessage.objects.count()) == before


@pytest.mark.regulation("21 CFR 11.10(f)")
def test_values_wait_until_the_step_is_started(shop, traveler):
    with pytest.raises(StepStateRefused, match="in progress"):
        services.measurement_record(
            step=step_of(traveler, 10), characteristic="BORE_DIA", value="12.7", actor=shop.operator
        )


def test_out_of_spec_value_holds_the_traveler_and_opens_an_ncr(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    m = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.720", actor=shop.operator)
    assert m.judgment == "out_of_spec" and m.deviation == Decimal("0.007")
    traveler.refresh_from_db()
    assert traveler.on_hold
    ncr = Nonconformance.objects.get(traveler=traveler)
    assert ncr.automatic and ncr.measurement == m and ncr.status == "open"
    assert ncr.description == "Bore diameter measured 12.72 mm, above the upper limit 12.713 mm by 0.007 mm"
    with pytest.raises(TravelerHeld, match="on hold"):
        services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)


def test_out_of_spec_on_a_warn_characteristic_only_warns(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    m = services.measurement_record(step=step, characteristic="SURFACE", value="fail", actor=shop.operator)
    traveler.refresh_from_db()
    assert m.judgment == "out_of_spec" and not traveler.on_hold and not traveler.ncrs.exists()


def test_a_second_value_for_the_same_characteristic_is_a_conflict(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.700", actor=shop.operator)
    with pytest.raises(RecordConflict, match="already recorded as 12.700 mm by Olga Smith"):
        services.measurement_record(step=step, characteristic="BORE_DIA", value="12.705", actor=shop.operator2)
    assert Measurement.objects.filter(step=step).count() == 1


def test_a_stale_version_is_a_conflict(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    seen = step.version
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    with pytest.raises(RecordConflict, match="changed on another screen"):
        services.measurement_record(
            step=step, characteristic="BORE_DIA", value="12.7", actor=shop.operator2, expected_version=seen
        )


@pytest.mark.regulation("21 CFR 11.10(e)")
def test_correction_supersedes_and_the_original_stays(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    original = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.07", actor=shop.operator)
    services.ncr_disposition  # noqa: B018 - the typo held the traveler; an inspector closes the NCR below
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="typo, part re-measured",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    fixed = services.measurement_correct(
        measurement=original,
        value="12.707",
        reason="typing error",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    assert fixed.supersedes == original and fixed.correction_reason == "typing error"
    assert fixed.correction_signature.meaning == "corrected" and signature_verify(fixed.correction_signature)
    original.refresh_from_db()
    assert original.entered_value == "12.07"  # never updated
    assert Measurement.objects.filter(step=step, characteristic__code="BORE_DIA").count() == 2
    with pytest.raises(StepStateRefused, match="still needs a value for SURFACE$"):  # the correction stands
        services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())


@pytest.mark.regulation("21 CFR 11.10(f)")
def test_a_held_traveler_cannot_progress_until_released(shop, traveler):
    hold = services.hold_place(traveler=traveler, reason="customer query", actor=shop.operator)
    with pytest.raises(TravelerHeld, match="customer query"):
        services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    with pytest.raises(NotAuthorized):
        services.hold_release(
            hold=hold, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username(), reason="answered"
        )
    services.hold_release(
        hold=hold, actor=shop.supervisor, secret=PASSWORD, username=shop.supervisor.get_username(), reason="answered"
    )
    traveler.refresh_from_db()
    assert not traveler.on_hold
    services.step_start(step=step_of(traveler, 10), actor=shop.operator)


def test_supervisor_skips_a_step_with_reason_and_signature(shop, traveler):
    with pytest.raises(NotAuthorized):
        services.step_skip(
            step=step_of(traveler, 10),
            actor=shop.operator,
            secret=PASSWORD,
            username=shop.operator.get_username(),
            reason="x",
        )
    with pytest.raises(StepStateRefused, match="say why"):
        services.step_skip(
            step=step_of(traveler, 10),
            actor=shop.supervisor,
            secret=PASSWORD,
            username=shop.supervisor.get_username(),
            reason=" ",
        )
    step = services.step_skip(
        step=step_of(traveler, 10),
        actor=shop.supervisor,
        secret=PASSWORD,
        username=shop.supervisor.get_username(),
        reason="bore done by the supplier",
    )
    assert step.status == StepStatus.SKIPPED and step.skip_signature.meaning == "skipped"
    services.step_start(step=step_of(traveler, 20), actor=shop.operator)


def test_a_step_needs_its_required_values_before_it_is_signed(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    with pytest.raises(StepStateRefused, match="still needs a value for BORE_DIA, SURFACE"):
        services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.701", unit="mm", actor=shop.operator)
    with pytest.raises(StepStateRefused, match="still needs a value for SURFACE$"):
        services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())


def test_inspection_step_awaits_a_buy_off(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25", actor=shop.operator)
    step = services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    assert step.status == StepStatus.AWAITING_INSPECTION
    step = services.step_inspect(
        step=step, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    assert step.status == StepStatus.COMPLETED
    assert (step.performed_signature.printed_name, step.inspected_signature.meaning) == ("Olga Smith", "inspected")


def test_full_run_closes_the_traveler_and_announces_it(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.CLOSED and traveler.final_signature.meaning == "approved"
    assert signature_verify(traveler.final_signature)
    closed = OutboxMessage.objects.get(event_type="traveler.closed")
    data = closed.payload["data"]
    assert closed.payload["type"] == "traveler.closed" and closed.payload["id"] == str(closed.message_id)
    assert data["serial"] == "SN-0001" and data["part"] == {"number": "HSG-1", "revision": "A"}
    assert {v["characteristic"] for v in data["values"]} == {"BORE_DIA", "SURFACE", "TORQUE", "MARK_OK"}
    assert traveler.item.__class__.objects.get(pk=traveler.item_id).status == Item.Status.AVAILABLE
    with pytest.raises(TravelerNotOpen, match="read-only"):
        services.hold_place(traveler=traveler, reason="late", actor=shop.operator)


def test_rejection_at_signoff_needs_a_reason_and_holds_with_an_ncr(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    with pytest.raises(StepStateRefused, match="say why"):
        services.traveler_signoff(
            traveler=traveler,
            approve=False,
            actor=shop.inspector,
            secret=PASSWORD,
            username=shop.inspector.get_username(),
        )
    services.traveler_signoff(
        traveler=traveler,
        approve=False,
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        reason="marking smudged",
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.ACTIVE and traveler.on_hold
    assert traveler.ncrs.get().description == "Rejected at final sign-off: marking smudged"


def test_measurement_events_are_self_describing_with_the_site_alias(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="0.5", unit="in", actor=shop.operator)
    message = OutboxMessage.objects.get(event_type="measurement.recorded")
    data = message.payload["data"]
    assert data["step"]["operation"] == {"code": "MACHINING", "name": "Machining", "site_alias": "MC-10"}
    assert data["value"]["value"] == "12.7" and data["value"]["unit"] == "mm"
    assert data["value"]["entered_value"] == "0.5" and data["value"]["entered_unit"] == "in"
    assert message.site_code == "WIC" and message.work_center_code == "CELL-1"
    assert message.payload["dataschema"].endswith("/measurement.recorded/v1.json")


@pytest.mark.regulation("21 CFR 11.10(e)")
def test_every_change_is_audited_in_one_chain(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    actions = list(AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}").values_list("action", flat=True))
    assert actions == [
        "traveler.released",
        "steps.added",
        "step.started",
        "measurement.recorded",
        "measurement.recorded",
        "signature.signed",
        "step.performed",
    ]
    assert list(AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}").values_list("seq", flat=True)) == list(
        range(1, 8)
    )


# --- Records the database itself protects ------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE travelers_measurement SET entered_value = '12.000'",
        "DELETE FROM travelers_measurement",
        "UPDATE compliance_signature SET printed_name = 'Someone Else'",
        "DELETE FROM compliance_signature",
        "UPDATE compliance_auditevent SET reason = 'rewritten'",
        "DELETE FROM compliance_auditevent",
    ],
)
@pytest.mark.regulation("21 CFR 11.10(c)", "AC 120-78B records")
def test_direct_sql_cannot_change_records(shop, traveler, statement):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Measurement.objects.filter(entered_value="12.700").exists()
    assert Signature.objects.filter(printed_name="Olga Smith").exists()


@pytest.mark.regulation("21 CFR 11.70", "AC 120-78B signatures")
def test_signature_over_changed_content_reads_as_broken(shop, traveler):
    step = do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    signature = step.performed_signature
    assert signature_verify(signature)
    with connection.cursor() as cursor:
        # What a database superuser could do: run with triggers off.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE travelers_measurement SET entered_value = '12.690' WHERE step_id = %s", [step.pk])
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert not signature_verify(signature)


@pytest.mark.regulation("21 CFR 11.70")
def test_a_signature_moved_to_another_record_reads_as_broken(shop, traveler):
    first = do_step(shop, traveler, 10, {"BORE_DIA": ("12.700", "mm"), "SURFACE": ("pass", "")})
    second = do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE compliance_signature SET record_id = %s WHERE id = %s",
            [str(second.pk), first.performed_signature_id],
        )
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
    assert not signature_verify(Signature.objects.get(pk=first.performed_signature_id))


def test_traveler_rows_stay_consistent(shop, traveler):
    assert Traveler.objects.filter(number__startswith="T-").count() == 1


def test_use_as_is_after_a_rejection_brings_the_traveler_back_to_signoff(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    services.traveler_signoff(
        traveler=traveler,
        approve=False,
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        reason="paperwork query",
    )
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="query answered by engineering",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF and not traveler.on_hold
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.CLOSED
