"""Shared fixtures. The suite runs on PostgreSQL: DATABASE_URL when set, else the private server."""

from __future__ import annotations

import base64
import os

import pytest
from django.conf import settings as django_settings
from django.db import connections

from mes import embedded
from mes.bootstrap import prepare
from mes.catalogs import compile_catalogs

pytest_plugins = ["tests.validation"]  # the `regulation` marker and the results validation_report reads

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# The integrity key of the test runs (a test key, public on purpose): set in the environment too, so the
# workers and servers tests start as subprocesses seal and check with the same key.
TEST_INTEGRITY_KEYS = "test-1:" + base64.b64encode(b"traveler test integrity key 0001").decode()
os.environ["INTEGRITY_KEYS"] = TEST_INTEGRITY_KEYS
# Settings were read before this file: the migrations that build the test database seal with the key too.
django_settings.INTEGRITY_KEYS = TEST_INTEGRITY_KEYS


def pytest_configure(config):
    # The laptop's secret key, broker folders and private PostgreSQL (when DATABASE_URL is not set).
    prepare()


def pytest_sessionstart(session):
    # French and Spanish pages need the compiled catalogs; `make test` builds them, a bare pytest too.
    compile_catalogs()


def pytest_unconfigure(config):
    # Stop the private PostgreSQL if this test run is what started it.
    if embedded.started_here:
        for conn in connections.all():
            conn.close()
            close_pool = getattr(conn, "close_pool", None)
            if close_pool:
                close_pool()
        embedded.stop()


def require_service(reason: str):
    """Skip with `reason` on a laptop; under CI=true the service must be there, so fail instead."""
    if IN_CI:
        pytest.fail(f"required service missing under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _plain_http_test_client(settings, tmp_path_factory):
    # The test client speaks plain HTTP; production redirects to HTTPS. Tests don't collectstatic.
    settings.SECURE_SSL_REDIRECT = False
    settings.INTEGRITY_KEYS, settings.INTEGRITY_KEY_FILE, settings.INTEGRITY_KEY_ID = TEST_INTEGRITY_KEYS, "", ""
    # Each test has a data lake of its own (packages, Parquet, integrity checkpoints).
    settings.DATA_LAKE_URL = str(tmp_path_factory.mktemp("lake"))
    # A fast hasher: PBKDF2 costs 0.3 s a check, and signing re-checks a secret every time.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "mes.compliance.hashers.SigningPinHasher",
    ]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_user(db, django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.com", "x-Admin-pass-1")
