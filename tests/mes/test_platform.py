"""Settings, logins, time zones, logs and roles: what every part of the product stands on."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as dj_settings
from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone
from django.utils.module_loading import import_string

from mes.compliance.roles import ROLES
from mes.masterdata.middleware import SiteTimezoneMiddleware
from mes.observability import RequestIdMiddleware
from tests.factories import DEFAULT_PASSWORD, SiteFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_reports_nothing_with_debug_off_and_a_real_key():
    env = {**os.environ, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "TRAVELER_HTTPS": "true"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_refuse_a_database_that_is_not_postgresql():
    env = {**os.environ, "DATABASE_URL": "sqlite:///var/nope.sqlite3"}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='mes.settings'; django.setup()",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr


@pytest.mark.django_db
def test_repeated_failed_logins_lock_the_account(client, settings):
    user = UserFactory(username="mia", is_staff=True)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/admin/login/", {"username": "mia", "password": "wrong-guess"})
        assert response.status_code == 200  # the form again, with its error
    last_try = client.post("/admin/login/", {"username": "mia", "password": "wrong-guess"})
    assert last_try.status_code == 429  # the limit-th failure locks
    locked = client.post("/admin/login/", {"username": "mia", "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert user.check_password(DEFAULT_PASSWORD)  # locked out, not changed


@pytest.mark.django_db
def test_a_correct_login_works_and_the_session_expires_when_idle(client, settings):
    UserFactory(username="noah", is_staff=True)
    response = client.post("/admin/login/", {"username": "noah", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


@pytest.mark.django_db
def test_times_are_shown_in_the_users_site_zone():
    user = UserFactory()
    user.profile.site = SiteFactory(code="QRO", time_zone="America/Mexico_City")
    user.profile.save()
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        seen["local"] = timezone.localtime(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC))
        return HttpResponse()

    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    SiteTimezoneMiddleware(view)(request)
    assert seen["zone"] == "America/Mexico_City"
    assert seen["local"].hour == 6  # 12:00 UTC is 06:00 in Querétaro
    assert timezone.get_current_timezone_name() == "UTC"  # and nothing leaks past the request


def test_station_zone_wins_over_the_home_site():
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get("/")
    request.session = {"site_time_zone": "Europe/Paris"}
    SiteTimezoneMiddleware(view)(request)
    assert seen["zone"] == "Europe/Paris"


def test_logs_are_json_lines_carrying_the_request_id():
    config = dj_settings.LOGGING
    formatter_conf = dict(config["formatters"]["json"])
    formatter = import_string(formatter_conf.pop("()"))(**formatter_conf)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(import_string(config["filters"]["request_id"]["()"])())
    logger = logging.getLogger("traveler.test")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("step started", extra={"traveler": "T-1"})
        return HttpResponse()

    try:
        response = RequestIdMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="tablet-7:0042"))
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue().strip())
    assert line["message"] == "step started"
    assert line["request_id"] == "tablet-7:0042" == response["X-Request-ID"]
    assert line["traveler"] == "T-1" and line["level"] == "INFO" and "time" in line


def test_a_forged_request_id_is_replaced():
    response = RequestIdMiddleware(lambda r: __import__("django.http").http.HttpResponse())(
        RequestFactory().get("/", HTTP_X_REQUEST_ID="x" * 500 + "\n")
    )
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_every_role_is_a_group_with_its_permissions():
    for role, codenames in ROLES.items():
        group = Group.objects.get(name=role)
        have = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert have == set(codenames), role
    operator = UserFactory()
    operator.groups.add(Group.objects.get(name="Operator"))
    assert operator.has_perm("masterdata.view_routing")
    assert not operator.has_perm("masterdata.change_routing")
