"""The master-data admin and people: qualifications, what each role may do, users with their profiles."""

from __future__ import annotations

import pytest
from django.urls import reverse

from mes.masterdata.models import (
    OperationAlias,
    Qualification,
    Routing,
    RoutingChange,
    UnmappedCode,
)
from tests.mes.admin_support import *  # noqa: F403 - the fixtures data, superuser_client, _media_in_tmp
from tests.mes.admin_support import admin_url, staff_in_role

pytestmark = pytest.mark.django_db


# --- Qualifications -----------------------------------------------------------------------------------


def test_qualification_status_column_and_expired_filter(superuser_client, data):
    url = admin_url(Qualification, "changelist")
    html = superuser_client.get(url).content.decode()
    for status in ("Valid", "Expired", "Not yet valid"):
        assert f'<td class="field-status">{status}</td>' in html
    expired = superuser_client.get(url, {"validity": "expired"}).context["cl"].result_list
    assert [q.operation for q in expired] == [data.deburr]


# --- Roles --------------------------------------------------------------------------------------------


def test_engineer_maps_a_code_and_asks_for_a_drafts_release(client, django_user_model, data):
    client.force_login(staff_in_role(django_user_model, "eng", "Engineer"))
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    assert client.post(url, {"map_to_operation": data.deburr.pk, "site_only": "on"}).status_code == 302
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_at is not None

    response = client.post(
        admin_url(Routing, "changelist"), {"action": "release_drafts", "_selected_action": [data.draft.pk]}
    )
    assert response["Location"].startswith(reverse("masterdata:change_new", args=[data.draft.pk]))
    response = client.post(response["Location"], {"action": "release", "reason": "deburr alias mapped"})
    assert response.status_code == 302
    assert RoutingChange.objects.get(routing=data.draft).requested_by.username == "eng"


def test_supervisor_sees_the_queue_but_cannot_map(client, django_user_model, data):
    client.force_login(staff_in_role(django_user_model, "sup", "Supervisor"))
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert 'name="map_to_operation"' not in response.content.decode()
    assert client.post(url, {"map_to_operation": data.deburr.pk}).status_code == 403
    assert not OperationAlias.objects.filter(code=data.open_entry.code).exists()


# --- Users and profiles -------------------------------------------------------------------------------


def test_user_added_with_its_profile_inline(superuser_client, data, django_user_model):
    response = superuser_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "olga",
            "usable_password": "true",
            "password1": "a-Long-pass-phrase-9",
            "password2": "a-Long-pass-phrase-9",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-0-employee_number": "4711",
            "profile-0-printed_name": "Olga Operator",
            "profile-0-site": str(data.site.pk),
        },
    )
    assert response.status_code == 302, response.context["errors"]
    profile = django_user_model.objects.get(username="olga").profile
    assert (profile.employee_number, profile.printed_name, profile.site) == ("4711", "Olga Operator", data.site)
    changelist = superuser_client.get(reverse("admin:auth_user_changelist"), {"q": "4711"})
    assert [u.username for u in changelist.context["cl"].result_list] == ["olga"]
