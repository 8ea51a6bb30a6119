"""A signer's secret that just matched is remembered for a few minutes (mes.compliance.secret_checks): the same
secret signs again without a second PBKDF2 check, while everything that must still refuse does."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.hashers import check_password

from mes.compliance import secret_checks
from mes.compliance.credentials import signing_pin_set, signing_secret_reset_by_admin
from mes.compliance.errors import SignatureRefused, SigningLocked
from mes.compliance.models import SigningCredential
from mes.compliance.signing import signing_authenticate
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

PIN = "482913"


@pytest.fixture
def full_checks():
    """Counts the hash checks done the full way (django's check_password) during a test."""
    secret_checks.forget_all()
    with mock.patch.object(secret_checks, "check_password", wraps=check_password) as counted:
        yield counted
    secret_checks.forget_all()


@pytest.fixture
def signer():
    user = UserFactory()
    signing_pin_set(user=user, current_password=DEFAULT_PASSWORD, new_pin=PIN)
    return user


def sign(user, secret):
    return signing_authenticate(user=user, secret=secret, username=user.get_username())


def test_the_same_pin_signs_again_without_a_second_full_check(signer, full_checks):
    assert sign(signer, PIN).method == "pin"
    assert full_checks.call_count == 1
    for _ in range(5):
        assert sign(signer, PIN).method == "pin"
    assert full_checks.call_count == 1


def test_a_password_is_remembered_the_same_way(full_checks):
    user = UserFactory()
    assert sign(user, DEFAULT_PASSWORD).method == "password"
    assert sign(user, DEFAULT_PASSWORD).method == "password"
    assert full_checks.call_count == 1


@pytest.mark.regulation("21 CFR 11.300(d)")
def test_a_wrong_pin_after_a_right_one_is_checked_in_full_and_counted(signer, full_checks, settings):
    settings.SIGNING_FAILURE_LIMIT = 3
    sign(signer, PIN)
    checks = full_checks.call_count
    with pytest.raises(SignatureRefused, match="wrong password or PIN"):
        sign(signer, "482914")
    assert full_checks.call_count > checks  # not answered from memory
    assert SigningCredential.objects.get(user=signer).failed_attempts == 1


@pytest.mark.regulation("21 CFR 11.300(d)")
def test_a_locked_signer_is_refused_though_the_pin_is_remembered(signer, full_checks, settings):
    settings.SIGNING_FAILURE_LIMIT = 2
    sign(signer, PIN)
    for guess in ("000001", "000002"):
        with pytest.raises(SignatureRefused):
            sign(signer, guess)
    with pytest.raises(SigningLocked):
        sign(signer, PIN)


def test_a_new_pin_forgets_the_old_one(signer, full_checks):
    sign(signer, PIN)
    signing_pin_set(user=signer, current_password=DEFAULT_PASSWORD, new_pin="739104")
    with pytest.raises(SignatureRefused, match="wrong password or PIN"):
        sign(signer, PIN)
    assert sign(signer, "739104").method == "pin"


def test_a_reset_secret_does_not_sign_from_memory(signer, full_checks):
    sign(signer, PIN)
    sign(signer, DEFAULT_PASSWORD)
    admin = UserFactory(is_staff=True, is_superuser=True)
    signing_secret_reset_by_admin(user=signer, actor=admin, reason="badge lost")
    with pytest.raises(SignatureRefused, match="set by someone else"):
        sign(signer, PIN)
    with pytest.raises(SignatureRefused, match="set by someone else"):
        sign(signer, DEFAULT_PASSWORD)


def test_the_memory_lasts_its_time_from_the_full_check_only(signer, full_checks, settings):
    settings.SIGNING_SECRET_MEMORY_SECONDS = 300
    with mock.patch.object(secret_checks.time, "monotonic", return_value=1_000.0) as clock:
        sign(signer, PIN)
        clock.return_value = 1_299.0
        sign(signer, PIN)  # remembered; does not extend the time
        assert full_checks.call_count == 1
        clock.return_value = 1_301.0
        sign(signer, PIN)
        assert full_checks.call_count == 2


def test_zero_seconds_turns_the_memory_off(signer, full_checks, settings):
    settings.SIGNING_SECRET_MEMORY_SECONDS = 0
    sign(signer, PIN)
    sign(signer, PIN)
    assert full_checks.call_count == 2


def test_only_so_many_hashes_are_remembered(full_checks, monkeypatch):
    monkeypatch.setattr(secret_checks, "REMEMBERED_LIMIT", 2)
    hashes = {secret: f"md5$salt{secret}$x" for secret in ("a1", "b2", "c3")}
    with mock.patch.object(secret_checks, "check_password", return_value=True):
        for secret, encoded in hashes.items():
            assert secret_checks.secret_matches(secret, encoded)
    assert list(secret_checks._remembered) == [hashes["b2"], hashes["c3"]]
