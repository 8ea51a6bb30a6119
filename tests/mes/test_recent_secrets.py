"""A secret that matched its slow hash a moment ago signs again without the slow hash; everything else
(a wrong secret, a changed secret, an old match, a lock) is checked and counted as before."""

from __future__ import annotations

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group

from mes.compliance import recent_secrets, signing
from mes.compliance.credentials import signing_pin_set, signing_unlock
from mes.compliance.errors import SignatureRefused, SigningLocked
from mes.compliance.models import AuditEvent, SigningCredential
from mes.compliance.signing import signing_authenticate
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
PIN = "482913"


@pytest.fixture
def slow_checks(monkeypatch, settings):
    """Counts the slow-hash checks of PINs and of passwords made while signing."""
    settings.SIGNING_SECRET_MEMORY_SECONDS = 600
    recent_secrets.forget_all()
    counts = {"pin": 0, "password": 0}
    pin_check, password_check = signing.check_password, AbstractBaseUser.check_password

    def counted_pin_check(*args, **kwargs):
        counts["pin"] += 1
        return pin_check(*args, **kwargs)

    def counted_password_check(self, raw):
        counts["password"] += 1
        return password_check(self, raw)

    monkeypatch.setattr(signing, "check_password", counted_pin_check)
    monkeypatch.setattr(AbstractBaseUser, "check_password", counted_password_check)
    yield counts
    recent_secrets.forget_all()


def sign(user, secret):
    return signing_authenticate(user=user, secret=secret, username=user.get_username())


def operator_with_pin():
    user = UserFactory()
    signing_pin_set(user=user, current_password=DEFAULT_PASSWORD, new_pin=PIN)
    return user


def test_a_pin_that_just_signed_signs_again_without_the_slow_hash(slow_checks):
    user = operator_with_pin()
    assert sign(user, PIN).method == "pin"
    assert sign(user, PIN).method == "pin"
    assert sign(user, PIN).method == "pin"
    assert slow_checks["pin"] == 1


def test_a_password_that_just_signed_signs_again_without_the_slow_hash(slow_checks):
    user = UserFactory()
    assert sign(user, DEFAULT_PASSWORD).method == "password"
    assert sign(user, DEFAULT_PASSWORD).method == "password"
    assert slow_checks["password"] == 1


@pytest.mark.regulation("21 CFR 11.300(d)")
def test_a_wrong_pin_after_a_remembered_one_is_checked_refused_and_counted(slow_checks):
    user = operator_with_pin()
    sign(user, PIN)
    with pytest.raises(SignatureRefused, match=r"wrong password or PIN \(2 attempts left\)"):
        sign(user, "482914")
    assert slow_checks["pin"] == 2  # the wrong one went to the slow hash
    assert SigningCredential.objects.get(user=user).failed_attempts == 1
    assert AuditEvent.objects.filter(chain=f"user:{user.pk}", action="signature.refused").count() == 1
    assert sign(user, PIN).method == "pin"  # and the right one still signs, resetting the count
    assert SigningCredential.objects.get(user=user).failed_attempts == 0


def test_an_old_pin_no_longer_signs_once_a_new_one_is_chosen(slow_checks):
    user = operator_with_pin()
    sign(user, PIN)
    signing_pin_set(user=user, current_password=DEFAULT_PASSWORD, new_pin="739104")
    with pytest.raises(SignatureRefused, match="wrong password or PIN"):
        sign(user, PIN)
    assert sign(user, "739104").method == "pin"


@pytest.mark.regulation("21 CFR 11.300(d)")
def test_a_locked_signer_is_refused_even_with_a_remembered_pin(slow_checks, settings):
    settings.SIGNING_FAILURE_LIMIT = 2
    user = operator_with_pin()
    supervisor = UserFactory()
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    sign(user, PIN)
    for wrong in ("111222", "333444"):
        with pytest.raises(SignatureRefused):
            sign(user, wrong)
    with pytest.raises(SigningLocked):
        sign(user, PIN)
    signing_unlock(
        user=user,
        actor=supervisor,
        secret=DEFAULT_PASSWORD,
        username=supervisor.get_username(),
        reason="identity checked",
    )
    assert sign(user, PIN).method == "pin"


def test_a_match_older_than_the_setting_goes_to_the_slow_hash_again(slow_checks, monkeypatch):
    user = operator_with_pin()
    clock = [1000.0]
    monkeypatch.setattr(recent_secrets.time, "monotonic", lambda: clock[0])
    sign(user, PIN)
    clock[0] += 599
    sign(user, PIN)
    assert slow_checks["pin"] == 1
    clock[0] += 2  # 601 s after the slow check
    sign(user, PIN)
    assert slow_checks["pin"] == 2


def test_zero_seconds_checks_the_slow_hash_on_every_signing(slow_checks, settings):
    settings.SIGNING_SECRET_MEMORY_SECONDS = 0
    user = operator_with_pin()
    sign(user, PIN)
    sign(user, PIN)
    assert slow_checks["pin"] == 2


def test_a_match_is_remembered_for_its_own_user_and_stored_hash_only(settings):
    settings.SIGNING_SECRET_MEMORY_SECONDS = 600
    recent_secrets.forget_all()
    calls = []

    def full(result):
        return lambda: calls.append(result) or result

    assert recent_secrets.matches(user_id=1, encoded="h1", secret="s", full_check=full(True))
    assert recent_secrets.matches(user_id=1, encoded="h1", secret="s", full_check=full(False))  # remembered
    assert not recent_secrets.matches(user_id=2, encoded="h1", secret="s", full_check=full(False))
    assert not recent_secrets.matches(user_id=1, encoded="h2", secret="s", full_check=full(False))
    assert not recent_secrets.matches(user_id=1, encoded="h1", secret="t", full_check=full(False))
    assert not recent_secrets.matches(user_id=1, encoded="h1", secret="", full_check=full(True))
    assert calls == [True, False, False, False]
    recent_secrets.forget_all()
