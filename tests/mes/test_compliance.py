"""Part 11 controls: signing re-authentication, lockout, admin resets, and the audit chain verifier."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from mes.compliance.audit import audit_record
from mes.compliance.canonical import canonical_bytes, canonical_hash
from mes.compliance.credentials import (
    signing_pin_set,
    signing_secret_changed_by_user,
    signing_secret_reset_by_admin,
    signing_unlock,
)
from mes.compliance.errors import CredentialRefused, SignatureRefused, SigningLocked
from mes.compliance.models import AuditEvent, SigningCredential
from mes.compliance.signing import signature_record, signing_authenticate
from mes.compliance.verify import audit_problems
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.regulation("21 CFR 11.300(d)")
def test_wrong_password_is_refused_counted_and_locks_after_the_threshold(settings):
    settings.SIGNING_FAILURE_LIMIT = 3
    user = UserFactory()
    supervisor = UserFactory()
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    with pytest.raises(SignatureRefused, match=r"wrong password or PIN \(2 attempts left\)"):
        signing_authenticate(user=user, secret="guess-1", username=user.get_username())
    with pytest.raises(SignatureRefused, match=r"\(1 attempt left\)"):
        signing_authenticate(user=user, secret="guess-2", username=user.get_username())
    with pytest.raises(SigningLocked, match="locked after 3 failed attempts"):
        signing_authenticate(user=user, secret="guess-3", username=user.get_username())
    # Locked: even the right password is refused until a supervisor unlocks.
    with pytest.raises(SigningLocked, match="a supervisor must unlock it"):
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username())
    credential = SigningCredential.objects.get(user=user)
    assert credential.failed_attempts == 3 and credential.locked_at is not None
    actions = list(AuditEvent.objects.filter(chain=f"user:{user.pk}").values_list("action", flat=True))
    assert actions == ["signature.refused", "signature.refused", "signature.locked"]
    signing_unlock(
        user=user, actor=supervisor, secret=DEFAULT_PASSWORD, username=supervisor.get_username(),
        reason="verified identity at the desk",
    )  # fmt: skip
    assert signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username()).method == "password"


def test_a_right_secret_resets_the_count():
    user = UserFactory()
    with pytest.raises(SignatureRefused):
        signing_authenticate(user=user, secret="nope", username=user.get_username())
    signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username())
    assert SigningCredential.objects.get(user=user).failed_attempts == 0


def test_pin_signs_and_needs_the_password_to_set():
    user = UserFactory()
    with pytest.raises(SignatureRefused, match="current password is wrong"):
        signing_pin_set(user=user, current_password="bad", new_pin="482913")
    with pytest.raises(CredentialRefused, match="6 to 12 digits"):
        signing_pin_set(user=user, current_password=DEFAULT_PASSWORD, new_pin="12ab")
    with pytest.raises(CredentialRefused, match="three different digits"):
        signing_pin_set(user=user, current_password=DEFAULT_PASSWORD, new_pin="111111")
    signing_pin_set(user=user, current_password=DEFAULT_PASSWORD, new_pin="482913")
    assert SigningCredential.objects.get(user=user).pin_hash.startswith("pbkdf2_sha256_pin$60000$")
    assert signing_authenticate(user=user, secret="482913", username=user.get_username()).method == "pin"
    assert signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username()).method == "password"


@pytest.mark.regulation("21 CFR 11.200(a)(2)", "21 CFR 11.100(a)")
def test_nobody_signs_as_someone_else():
    user = UserFactory(username="olga")
    with pytest.raises(SignatureRefused, match="not the signed-in user"):
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username="ines")
    assert signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username="olga")


def test_after_an_admin_reset_the_user_must_set_a_new_secret_before_signing():
    user, admin = UserFactory(), UserFactory(is_staff=True, is_superuser=True)
    signing_secret_reset_by_admin(user=user, actor=admin, reason="forgot password")
    with pytest.raises(SignatureRefused, match="set by someone else"):
        signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username())
    signing_secret_changed_by_user(user=user)
    assert signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username())


@pytest.mark.regulation("21 CFR 11.70", "Annex 11 §14")
def test_signature_stores_the_hash_of_the_signed_envelope():
    user = UserFactory(first_name="Ines", last_name="Ortiz")
    authority = signing_authenticate(user=user, secret=DEFAULT_PASSWORD, username=user.get_username())
    with transaction.atomic():
        signature = signature_record(
            authority=authority, meaning="approved", record_type="demo.record", record_id=7, content={"value": "12.7"}
        )
    assert signature.printed_name == "Ines Ortiz" and signature.meaning == "approved"
    assert len(signature.content_hash) == 64 and signature.signed_at.tzinfo is not None
    assert "Ines Ortiz — Approved — " in signature.manifestation


def test_canonical_form_is_stable():
    assert canonical_bytes({"b": Decimal("12.700"), "a": [1, "é"]}) == '{"a":[1,"é"],"b":"12.7"}'.encode()
    assert canonical_hash({"x": Decimal("1.0")}) == canonical_hash({"x": Decimal("1")})


# --- The chain ---------------------------------------------------------------------------------------


def _chain(n: int, chain: str = "traveler:1"):
    user = UserFactory()
    with transaction.atomic():
        return [
            audit_record(
                chain=chain,
                action=f"thing.{i}",
                object_type="demo.thing",
                object_id=i,
                actor=user,
                changes={"value": [i, i + 1]},
            )
            for i in range(n)
        ]


def _tamper(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_an_intact_trail_verifies(capsys):
    _chain(5, chain="user:1")
    _chain(3, chain="user:2")
    assert audit_problems() == []
    call_command("verify_audit")
    out = capsys.readouterr().out
    # The configuration chain the migrations sealed is checked beside the two made here.
    config = AuditEvent.objects.filter(chain="config").count()
    assert config > 0
    assert "records intact" in out and f"{8 + config} events" in out and "3 chains" in out


@pytest.mark.regulation("21 CFR 11.10(a)", "21 CFR 11.10(e)")
def test_verify_audit_names_an_altered_event():
    events = _chain(5, chain="user:1")
    _tamper("UPDATE compliance_auditevent SET reason = 'nothing happened' WHERE id = %s", [events[2].pk])
    with pytest.raises(CommandError, match="records fail verification: 1 problem"):
        call_command("verify_audit")
    assert f"event {events[2].pk} (user:1 #3, thing.2): content does not match its keyed hash: it was altered" in [
        str(f) for f in audit_problems()
    ]


@pytest.mark.regulation("21 CFR 11.10(e)")
def test_verify_audit_detects_a_removed_event():
    events = _chain(5)
    _tamper("DELETE FROM compliance_auditevent WHERE id = %s", [events[1].pk])
    problems = audit_problems()
    assert problems and "expected #2 here" in problems[0].message and f"event {events[2].pk} " in problems[0].where


def test_verify_audit_detects_a_removed_last_event():
    events = _chain(3)
    _tamper("DELETE FROM compliance_auditevent WHERE id = %s", [events[-1].pk])
    problems = audit_problems()
    assert problems and "events were removed" in problems[0].message


@pytest.mark.regulation("21 CFR 11.10(e)")
def test_verify_audit_detects_reordered_events():
    events = _chain(4)
    # Swap #2 and #3 (through a free number: the pair (chain, seq) stays unique).
    _tamper("UPDATE compliance_auditevent SET seq = 99 WHERE id = %s", [events[1].pk])
    _tamper("UPDATE compliance_auditevent SET seq = 2 WHERE id = %s", [events[2].pk])
    _tamper("UPDATE compliance_auditevent SET seq = 3 WHERE id = %s", [events[1].pk])
    problems = audit_problems()
    assert problems and "#2" in problems[0].where


@pytest.mark.django_db(transaction=True)
def test_audit_record_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the transaction"):
        audit_record(chain="x", action="y", object_type="z", object_id=1)
