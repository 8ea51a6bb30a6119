"""The master-data admin's unmapped-code queue: mapping a code makes the alias and resolves the entry."""

from __future__ import annotations

import pytest

from mes.masterdata import services
from mes.masterdata.models import (
    Operation,
    OperationAlias,
    UnmappedCode,
)
from tests.admin_forms import post_data
from tests.mes.admin_support import *  # noqa: F403 - the fixtures data, superuser_client, _media_in_tmp
from tests.mes.admin_support import admin_url

pytestmark = pytest.mark.django_db


def test_mapping_an_unmapped_code_creates_the_alias_and_resolves_the_entry(superuser_client, data):
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    response = superuser_client.get(url)
    assert response.status_code == 200
    assert 'name="map_to_operation"' in response.content.decode()
    response = superuser_client.post(url, {"map_to_operation": data.deburr.pk, "site_only": "on"})
    assert response.status_code == 302
    alias = OperationAlias.objects.get(source_system="mes7", code=data.open_entry.code)
    assert alias.operation == data.deburr and alias.site == data.site
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_at is not None and data.open_entry.resolved_alias == alias
    assert services.operation_resolve(source_system="mes7", site=data.site, code=data.open_entry.code) == data.deburr


def test_mapping_for_every_site_makes_a_system_wide_alias(superuser_client, data):
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    assert superuser_client.post(url, {"map_to_operation": data.coating.pk}).status_code == 302
    alias = OperationAlias.objects.get(source_system="mes7", code=data.open_entry.code)
    assert alias.site is None


def test_mapping_conflict_is_a_form_error_and_leaves_the_entry_open(superuser_client, data):
    # The code was mapped to coating while the entry was queued (a race the service reports).
    code = data.open_entry.code
    OperationAlias.objects.create(operation=data.coating, source_system="mes7", site=data.site, code=code)
    url = admin_url(UnmappedCode, "change", data.open_entry.pk)
    response = superuser_client.post(url, {"map_to_operation": data.deburr.pk, "site_only": "on"})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["map_to_operation"] == [
        f"'{code}' from mes7 already means {data.coating.code}"
    ]
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_at is None


def test_resolved_entry_is_read_only(superuser_client, data):
    resolved = UnmappedCode.objects.filter(resolved_at__isnull=False).first()
    url = admin_url(UnmappedCode, "change", resolved.pk)
    response = superuser_client.get(url)
    assert response.status_code == 200
    assert 'name="map_to_operation"' not in response.content.decode()
    assert superuser_client.post(url, {"map_to_operation": data.coating.pk}).status_code == 403


def test_queue_filters_open_and_resolved(superuser_client, data):
    url = admin_url(UnmappedCode, "changelist")
    open_page = superuser_client.get(url, {"state": "open"})
    assert [e.pk for e in open_page.context["cl"].result_list] == [data.open_entry.pk]
    resolved_page = superuser_client.get(url, {"state": "resolved"})
    assert all(e.resolved_at for e in resolved_page.context["cl"].result_list)
    assert resolved_page.context["cl"].result_count == 1


def test_alias_added_through_operation_inline_resolves_queued_code(superuser_client, data):
    url = admin_url(Operation, "change", data.deburr.pk)
    payload = post_data(superuser_client.get(url))
    n = int(payload["aliases-TOTAL_FORMS"])
    payload["aliases-TOTAL_FORMS"] = str(n + 1)
    payload.update(
        {f"aliases-{n}-source_system": "mes7", f"aliases-{n}-site": str(data.site.pk), f"aliases-{n}-code": "XA"}
    )
    response = superuser_client.post(url, payload)
    assert response.status_code == 302, response.context["errors"]
    data.open_entry.refresh_from_db()
    assert data.open_entry.resolved_alias.operation == data.deburr
