"""The master-data admin: every page renders for a superuser, in a fixed number of queries, and what a
role may not do is refused."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import Profile
from mes.masterdata.models import (
    Characteristic,
    Qualification,
    Routing,
    RoutingStep,
    UnmappedCode,
)
from tests.mes.admin_support import *  # noqa: F403 - the fixtures data, superuser_client, _media_in_tmp
from tests.mes.admin_support import admin_url, build_master_data, staff_in_role
from travelers.models import WorkOrder

pytestmark = pytest.mark.django_db


def test_every_changelist_and_add_page_renders_for_a_superuser(superuser_client, admin_user, data):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        response = superuser_client.get(admin_url(model, "changelist"))
        assert response.status_code == 200, f"{model.__name__} changelist: {response.status_code}"
        add = superuser_client.get(admin_url(model, "add"))
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert add.status_code == expected, f"{model.__name__} add page: {add.status_code}"


def test_every_change_page_renders_for_a_model_with_a_row(superuser_client, data):
    seen = set()
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        seen.add(model)
        response = superuser_client.get(admin_url(model, "change", obj.pk))
        assert response.status_code == 200, f"{model.__name__} change page: {response.status_code}"
    assert {Routing, RoutingStep, Characteristic, UnmappedCode, Qualification, WorkOrder, Profile} <= seen


def test_changelists_query_count_does_not_grow_with_rows(superuser_client, data, django_user_model):
    def counts():
        result = {}
        for model in admin.site._registry:
            with CaptureQueriesContext(connection) as queries:
                response = superuser_client.get(admin_url(model, "changelist"))
            assert response.status_code == 200
            result[model.__name__] = len(queries)
        return result

    before = counts()
    build_master_data("B", django_user_model)
    build_master_data("C", django_user_model)
    assert counts() == before


def test_unmapped_codes_cannot_be_added_by_hand(superuser_client):
    assert superuser_client.get(admin_url(UnmappedCode, "add")).status_code == 403


def test_operator_gets_403_on_routing_add_page(client, django_user_model, data):
    client.force_login(staff_in_role(django_user_model, "op", "Operator"))
    assert client.get(admin_url(Routing, "add")).status_code == 403
    assert client.get(admin_url(Routing, "changelist")).status_code == 200
