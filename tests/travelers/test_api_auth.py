"""The JSON API under /api/ and who may use it: a session with its CSRF token, a bearer token, or nothing
(401); reading needs the view permission."""

from __future__ import annotations

import pytest
from django.test import Client

from mes.compliance.models import AuditEvent
from mes.compliance.tokens import api_token_issue
from tests.travelers.conftest import PASSWORD, step_of
from tests.travelers.support import assert_error, client_for, get, post, records, steps_url

pytestmark = pytest.mark.django_db


@pytest.mark.regulation("21 CFR 11.10(d)")
def test_without_credentials_the_api_answers_401(shop, traveler):
    anonymous = Client()
    before = records()
    assert_error(get(anonymous, f"/travelers/{traveler.number}"), 401, "not_authenticated")
    assert_error(post(anonymous, steps_url(traveler, 10, "start")), 401, "not_authenticated")
    assert_error(post(Client(enforce_csrf_checks=True), steps_url(traveler, 10, "start")), 401, "not_authenticated")
    assert_error(
        get(anonymous, f"/travelers/{traveler.number}", HTTP_AUTHORIZATION="Bearer trv_forged"),
        401,
        "not_authenticated",
    )
    assert records() == before


def test_a_bearer_token_authenticates_without_csrf(shop, traveler):
    _, key = api_token_issue(user=shop.operator, name="line-3 tablet")
    bearer = Client(enforce_csrf_checks=True)
    r = get(bearer, f"/travelers/{traveler.number}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200, r.content
    r = post(bearer, steps_url(traveler, 10, "start"), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200, r.content
    assert step_of(traveler, 10).started_by == shop.operator
    assert AuditEvent.objects.filter(action="step.started", actor=shop.operator).exists()


def test_a_session_post_needs_the_csrf_token(shop, traveler):
    olga = client_for(shop.operator, enforce_csrf_checks=True)
    before = records()
    assert_error(post(olga, steps_url(traveler, 10, "start")), 403, "csrf_failed")
    assert records() == before
    assert get(olga, f"/travelers/{traveler.number}").status_code == 200  # reads need no token
    olga.get("/admin/login/")  # any page that sets the CSRF cookie
    token = olga.cookies["csrftoken"].value
    assert post(olga, steps_url(traveler, 10, "start"), HTTP_X_CSRFTOKEN=token).status_code == 200


def test_reading_needs_the_view_permission(shop, traveler, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password=PASSWORD)
    assert_error(get(client_for(nobody), f"/travelers/{traveler.number}"), 403, "permission_denied")
