"""An order imported from the legacy MES by an adapter that leaves the release to a supervisor waits on
/supervisor/release/, says where it came from, and is released there like any other."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.adapters.file_drop import file_receive
from integrations.models import Adapter
from mes.compliance.models import AuditEvent
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from travelers.models import Traveler, WorkOrder

NESTED = (Path(__file__).resolve().parent / "fixtures" / "b2mml" / "V0600-ProductionSchedule-nested.xml").read_text()


@pytest.fixture
def imported(drop, tmp_path):
    drop.settings = {**drop.settings, "site_codes": {"MX30": "WIC"}}
    drop.save()
    assert drop.release_policy == Adapter.ReleasePolicy.SUPERVISOR
    path = tmp_path / "order.xml"
    path.write_text(NESTED)
    assert file_receive(adapter=drop, path=path).status == "imported"
    return WorkOrder.objects.get(number="60017734")


def test_an_imported_order_waits_for_a_supervisor_who_releases_it_on_screen(wic, imported, client):
    assert imported.source_system == "legacy-wic" and not Traveler.objects.filter(work_order=imported).exists()
    client.force_login(wic.supervisor)
    html = client.get("/supervisor/release/").content.decode()
    assert 'id="work-order-60017734"' in html and "imported from legacy-wic" in html
    response = client.post(
        "/supervisor/release/",
        {"work_order": "60017734", f"wo-{imported.pk}-serials": "VB-1\nVB-2\nVB-3"},
    )
    assert response.status_code == 302
    travelers = list(Traveler.objects.filter(work_order=imported).order_by("number"))
    assert [t.item.identifier for t in travelers] == ["VB-1", "VB-2", "VB-3"]
    assert all(t.released_by == wic.supervisor for t in travelers)
    assert AuditEvent.objects.filter(chain=f"traveler:{travelers[0].pk}", action="traveler.released").exists()
    page = client.get("/supervisor/release/").content.decode()
    assert "Work order 60017734: released" in page and 'id="work-order-60017734"' not in page


def test_a_refused_release_of_an_imported_order_releases_nothing(wic, imported, client):
    client.force_login(wic.supervisor)
    response = client.post(
        "/supervisor/release/",
        {"work_order": "60017734", f"wo-{imported.pk}-serials": "VB-1\nVB-2\nVB-3\nVB-4"},
    )
    assert response.status_code == 409
    assert "4 serial numbers, but only 3 EA remain to release" in response.content.decode()
    assert not Traveler.objects.filter(work_order=imported).exists()
