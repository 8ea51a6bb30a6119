"""Records an auditor can trust (21 CFR 11.10(c)/(e), 11.70; Annex 11 §7, §9; AC 120-78B).

Each attack a validation auditor tried is reproduced here and shown refused by the database or found by
the verifier; the two legitimate histories that used to read as broken (a signed re-plan; a rejection,
rework and approval) verify."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from mes.compliance import checkpoints, keys
from mes.compliance.canonical import canonical_bytes, canonical_hash
from mes.compliance.models import AuditEvent, IntegrityRun, Signature
from mes.compliance.signing import signature_verify, signed_content, signed_envelope
from mes.compliance.verify import verify_records
from mes.events.models import OutboxMessage
from mes.masterdata.services import characteristic_add, routing_new_revision
from tests.factories import release_routing
from tests.tampering import as_superuser
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from travelers import services
from travelers.models import Hold, Measurement, TravelerCharacteristic

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.regulation(
        "21 CFR 11.10(a)", "21 CFR 11.10(c)", "21 CFR 11.10(e)", "21 CFR 11.70", "Annex 11 §9", "AC 120-78B records"
    ),
]


def findings(**kwargs) -> list[str]:
    return [str(f) for f in verify_records(**kwargs).findings]


def all_verify(traveler) -> None:
    sigs = Signature.objects.all()
    assert sigs.exists()
    assert [s.pk for s in sigs if not signature_verify(s)] == []
    assert findings() == []


# --- The two legitimate histories ----------------------------------------------------------------------------


def replanned(shop, traveler):
    """Step 10 done, then re-planned onto a new routing revision whose later steps have a tighter torque."""
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    draft = routing_new_revision(routing=shop.routing)
    step = draft.steps.get(sequence=20)
    step.characteristics.filter(code="TORQUE").delete()
    characteristic_add(
        step=step, code="TORQUE", name="Cover torque", unit="N*m", nominal=Decimal(25), lower_limit=Decimal(24),
        upper_limit=Decimal(26), on_out_of_spec="warn", decimals=1,
    )  # fmt: skip
    new = release_routing(routing=draft)
    return services.traveler_replan(
        traveler=traveler,
        routing=new,
        actor=shop.supervisor,
        secret=PASSWORD,
        username=shop.supervisor.get_username(),
        reason="new torque fixture",
    )


def test_a_replanned_traveler_verifies_everywhere(shop, traveler, client):
    traveler = replanned(shop, traveler)
    # the re-plan's steps come after the old ones (20, 30, 40 were skipped with the re-plan as reason)
    for sequence, values in ((41, {"TORQUE": ("25.0", "N*m")}), (42, {"MARK_OK": ("pass", "")}), (43, {})):
        do_step(shop, traveler, sequence, values)
    traveler.refresh_from_db()
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    replan = traveler.replans.get()
    assert (replan.from_routing.revision, replan.to_routing.revision) == (1, 2)
    # the re-plan signed the traveler as it stood before: routing r1, four steps
    content = signed_content(replan.signature)
    assert content["routing_revision"] == 1 and [s["sequence"] for s in content["steps"]] == [10, 20, 30, 40]
    traveler.refresh_from_db()
    assert signed_content(traveler.final_signature)["routing_revision"] == 2
    all_verify(traveler)
    # and the quality screen says so
    client.force_login(shop.inspector)
    html = client.get(f"/quality/travelers/{traveler.number}/signatures/").content.decode()
    assert (
        ">BROKEN<" not in html
        and html.count(">verified<") == Signature.objects.exclude(record_type="masterdata.routingchange").count()
    )


def test_a_rejected_reworked_and_approved_traveler_verifies_everywhere(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    services.traveler_signoff(
        traveler=traveler,
        approve=False,
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        reason="burr",
    )
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="rework",
        notes="deburr the flange",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        rework_steps=[{"operation": "MACHINING", "title": "Deburr the flange"}],
    )
    rework = traveler.steps.get(origin="rework")
    do_step(shop, traveler, rework.sequence, {}, inspector=shop.inspector)
    traveler.refresh_from_db()
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    rejection = Signature.objects.get(meaning="rejected")
    assert rework.sequence not in [s["sequence"] for s in signed_content(rejection)["steps"]]
    all_verify(traveler)


# --- A database superuser rewriting history ---------------------------------------------------------------------


def plain_sha256_rewrite(traveler, measurement):
    """The attack of the review: change a value, then recompute every signature's hash and the whole audit
    chain the plain way (SHA-256 of the canonical JSON, which anyone can rebuild), and move the head."""
    as_superuser("UPDATE travelers_measurement SET entered_value = '12.690' WHERE id = %s", [measurement.pk])
    for sig in Signature.objects.all():
        envelope = signed_envelope(signature=sig, content=signed_content(sig))
        as_superuser(
            "UPDATE compliance_signature SET content_hash = %s WHERE id = %s", [canonical_hash(envelope), sig.pk]
        )
    prev = "0" * 64
    for event in AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}").order_by("seq"):
        content = {k: getattr(event, k) for k in ("chain", "seq", "occurred_at", "actor_name", "action")}
        content.update(prev_hash=prev, changes=event.changes, object_id=event.object_id)
        digest = hashlib.sha256(canonical_bytes(content)).hexdigest()
        as_superuser(
            "UPDATE compliance_auditevent SET hash = %s, prev_hash = %s WHERE id = %s", [digest, prev, event.pk]
        )
        prev = digest
    as_superuser(
        "UPDATE compliance_auditchainhead SET last_hash = %s WHERE chain = %s", [prev, f"traveler:{traveler.pk}"]
    )


def test_a_superuser_rewrite_with_plain_hashes_recomputed_is_detected(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    bore = Measurement.objects.get(step__traveler=traveler, characteristic__code="BORE_DIA")
    assert findings() == []
    plain_sha256_rewrite(traveler, bore)
    found = findings()
    assert any("content does not match its keyed hash" in f for f in found)
    assert any("signature" in f and "no longer hashes to what was signed" in f for f in found)
    assert any(f"travelers_measurement {bore.pk}" in f and "changed behind the services' back" in f for f in found)


def test_a_deleted_chain_with_its_head_is_detected_by_the_checkpoint(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    checkpoints.checkpoint_write()
    chain = f"traveler:{traveler.pk}"
    as_superuser("DELETE FROM compliance_auditevent WHERE chain = %s", [chain])
    as_superuser("DELETE FROM compliance_auditchainhead WHERE chain = %s", [chain])
    found = findings()
    assert f"chain {chain}: is in the checkpoints but gone from the database" in found
    assert f"traveler {traveler.number}: has no audit trail at all" in found


def test_a_truncated_tail_with_the_head_moved_back_is_detected_by_the_checkpoint(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    checkpoints.checkpoint_write()
    chain = f"traveler:{traveler.pk}"
    last, before = AuditEvent.objects.filter(chain=chain).order_by("-seq")[:2]
    as_superuser("DELETE FROM compliance_auditevent WHERE id = %s", [last.pk])
    as_superuser(
        "UPDATE compliance_auditchainhead SET last_seq = %s, last_hash = %s WHERE chain = %s",
        [before.seq, before.hash, chain],
    )
    found = findings()
    assert any(
        f"chain {chain}: checkpoint says it reached #{last.seq}; the database ends at #{before.seq}" in f for f in found
    )


def test_a_rewritten_event_is_detected_even_with_a_valid_looking_chain(shop, traveler):
    """Without the key a forger cannot produce keyed hashes; the checkpoint shows even the hash they copied."""
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    checkpoints.checkpoint_write(full=True)
    chain = f"traveler:{traveler.pk}"
    last = AuditEvent.objects.filter(chain=chain).order_by("-seq").first()
    as_superuser("UPDATE compliance_auditevent SET hash = %s WHERE id = %s", ["f" * 64, last.pk])
    as_superuser("UPDATE compliance_auditchainhead SET last_hash = %s WHERE chain = %s", ["f" * 64, chain])
    assert f"chain {chain} #{last.seq}: differs from the checkpointed event: history was rewritten" in findings()


# --- Rows written behind the services' back --------------------------------------------------------------------


def closed(shop, traveler):
    traveler = run_to_signoff(shop, traveler)
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    traveler.refresh_from_db()
    return traveler


def correction_insert(bore) -> str:
    columns = [
        f.column
        for f in Measurement._meta.concrete_fields
        if f.column not in ("id", "supersedes_id", "entered_value", "correction_reason")
    ]
    return (
        f"INSERT INTO travelers_measurement ({', '.join(columns)}, supersedes_id, entered_value, correction_reason) "
        f"SELECT {', '.join(columns)}, id, '12.690', 'fixed later' FROM travelers_measurement WHERE id = {bore.pk}"
    )


def test_a_correction_inserted_after_close_is_refused_and_else_found(shop, traveler):
    traveler = closed(shop, traveler)
    bore = Measurement.objects.get(step__traveler=traveler, characteristic__code="BORE_DIA")
    with pytest.raises(IntegrityError, match="closed: nothing is added or changed"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(correction_insert(bore))
    as_superuser(correction_insert(bore))
    new = Measurement.objects.get(supersedes=bore)
    assert f"travelers_measurement {new.pk} (traveler {traveler.number}): has no audit event" in findings()


def test_a_signed_hold_cannot_be_deleted_and_its_deletion_is_found(shop, traveler):
    hold = services.hold_place(traveler=traveler, reason="drawing query", actor=shop.supervisor)
    services.hold_release(
        hold=hold, actor=shop.supervisor, secret=PASSWORD, username=shop.supervisor.get_username(), reason="answered"
    )
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic():
        Hold.objects.filter(pk=hold.pk).delete()
    with pytest.raises(IntegrityError, match="is released: it never changes again"), transaction.atomic():
        Hold.objects.filter(pk=hold.pk).update(release_reason="never mind")
    as_superuser("DELETE FROM travelers_hold WHERE id = %s", [hold.pk])
    found = findings()
    gone = f"traveler {traveler.number} audit trail: names travelers_hold {hold.pk}, which is not in the database"
    assert gone in found
    assert any("signs travelers.hold" in f and "which is gone" in f for f in found)


def test_limits_of_an_open_traveler_cannot_change_and_a_change_is_found(shop, traveler):
    bore = TravelerCharacteristic.objects.get(step__traveler=traveler, code="BORE_DIA")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        TravelerCharacteristic.objects.filter(pk=bore.pk).update(upper_limit=Decimal("13.2"))
    as_superuser("UPDATE travelers_travelercharacteristic SET upper_limit = 13.2 WHERE id = %s", [bore.pk])
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    m = services.measurement_record(step=step, characteristic="BORE_DIA", value="13.1", unit="mm", actor=shop.operator)
    assert m.judgment == "in_spec"  # judged against the forged limit…
    assert any(
        f"traveler {traveler.number} event #2: steps [10, 20, 30, 40]" in f and "differ from what was sealed" in f
        for f in findings()
    )  # …and the verifier names the step snapshot that no longer matches its seal


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE compliance_auditchainhead SET last_seq = last_seq - 1",
        "UPDATE compliance_auditchainhead SET last_hash = repeat('f', 64)",
        "DELETE FROM compliance_auditchainhead",
        "INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) VALUES ('forged', 5, repeat('a', 64))",
    ],
)
def test_the_chain_head_only_advances(shop, traveler, statement):
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)


def test_no_session_can_switch_the_guards_off(shop, traveler):
    bore = TravelerCharacteristic.objects.get(step__traveler=traveler, code="BORE_DIA")
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{pgtrigger_append_only_0a8c0}"])
            cursor.execute(
                "SELECT set_config('pgtrigger.ignore', (SELECT '{' || string_agg(tgname, ',') || '}' FROM pg_trigger "
                "WHERE tgname LIKE 'pgtrigger_%%'), true)"
            )
            cursor.execute("UPDATE travelers_travelercharacteristic SET upper_limit = 13.2 WHERE id = %s", [bore.pk])
    assert findings() == []


def test_a_disabled_guard_is_reported(shop, traveler):
    as_superuser("ALTER TABLE travelers_measurement DISABLE TRIGGER USER")
    try:
        assert any("database guard travelers_measurement.append_only is disabled" in f for f in findings())
    finally:
        as_superuser("ALTER TABLE travelers_measurement ENABLE TRIGGER USER")


# --- Keys -----------------------------------------------------------------------------------------------------


@pytest.mark.regulation("Annex 11 §17")
def test_rotating_the_key_keeps_old_records_verifiable(shop, traveler, settings):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    old = settings.INTEGRITY_KEYS
    settings.INTEGRITY_KEYS = old + ",test-2:" + keys.new_key_line("x").split()[1]
    do_step(shop, traveler, 20, {"TORQUE": ("25.0", "N*m")})
    assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {"test-1", "test-2"}
    assert findings() == []
    settings.INTEGRITY_KEYS = "test-2:" + settings.INTEGRITY_KEYS.split("test-2:")[1]  # the old key lost
    assert any("key 'test-1' is used by records but not in this installation's ring" in f for f in findings())


# --- The alert ------------------------------------------------------------------------------------------------------


@pytest.mark.regulation("Annex 11 §11")
def test_a_failed_check_alerts_quality_and_the_outbox(shop, traveler, client):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    call_command("verify_audit")
    client.force_login(shop.inspector)
    assert "Record integrity check failed" not in client.get("/quality/").content.decode()
    bore = Measurement.objects.get(step__traveler=traveler, characteristic__code="BORE_DIA")
    as_superuser("UPDATE travelers_measurement SET entered_value = '12.690' WHERE id = %s", [bore.pk])
    with pytest.raises(CommandError, match="records fail verification"):
        call_command("verify_audit")
    run = IntegrityRun.objects.order_by("-started_at").first()
    assert run.ok is False and run.problem_count >= 2
    event = OutboxMessage.objects.get(event_type="integrity.failed")
    assert event.payload["data"]["problems"] == run.problem_count
    page = client.get("/quality/").content.decode()
    assert "Record integrity check failed" in page and f"travelers_measurement {bore.pk}" in page
    client.force_login(shop.operator)  # operators are not alarmed by it
    assert "Record integrity check failed" not in client.get("/").content.decode()


def test_the_verifier_names_what_it_checked(shop, traveler, capsys):
    traveler = closed(shop, traveler)
    checkpoints.checkpoint_write()
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "records intact" in out
    for what in ("signatures", "records", "events", "chains", "checkpoints"):
        assert what in out
    assert json.loads(json.dumps(IntegrityRun.objects.get().counts))["signatures"] == Signature.objects.count()


@pytest.mark.django_db(transaction=True)
def test_the_verifier_shares_the_records_between_processes(shop, traveler):
    """verify_audit --workers N: worker processes check the records while the chains are walked; they
    report the same, findings included."""
    traveler = closed(shop, traveler)
    serial, parallel = verify_records(workers=1), verify_records(workers=2)
    assert parallel.ok and parallel.counts == serial.counts
    bore = Measurement.objects.get(step__traveler=traveler, characteristic__code="BORE_DIA")
    with transaction.atomic():
        as_superuser("UPDATE travelers_measurement SET entered_value = '12.690' WHERE id = %s", [bore.pk])
    found = [str(f) for f in verify_records(workers=2).findings]
    assert any(f"travelers_measurement {bore.pk}" in f for f in found), found
