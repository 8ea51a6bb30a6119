"""The areas bar: each role sees the areas it may use, the current one marked, on every page."""

from __future__ import annotations

import pytest

from mes.navigation import areas_for
from tests.travelers.conftest import shop  # noqa: F401 - the small shop: its people and roles

pytestmark = pytest.mark.django_db


def labels(user, path="/x/") -> list[str]:
    return [str(a["label"]) for a in areas_for(user, path)]


def test_each_role_sees_the_areas_it_may_use(shop):  # noqa: F811
    assert labels(shop.operator) == ["Station", "Traceability"]
    assert labels(shop.inspector) == ["Station", "Quality", "Routing changes", "Traceability", "Audit trail"]
    assert labels(shop.supervisor) == ["Supervision", "Traceability", "Sync status"]
    assert labels(shop.engineer) == ["Supervision", "Routing changes", "Traceability"]


def test_the_current_area_is_marked(shop):  # noqa: F811
    current = [str(a["label"]) for a in areas_for(shop.inspector, "/trace/items/1/") if a["current"]]
    assert current == ["Traceability"]
    assert [a["current"] for a in areas_for(shop.operator, "/")] == [True, False]


def test_a_page_shows_the_bar_with_the_current_area(client, shop):  # noqa: F811
    client.force_login(shop.supervisor)
    html = client.get("/supervisor/").content.decode()
    assert 'aria-label="Areas"' in html
    assert '<a href="/supervisor/" aria-current="page">Supervision</a>' in html
    assert (
        'href="/integrations/status"' in html
        and 'href="/quality/"' not in html.split('aria-label="Areas"')[1].split("</nav>")[0]
    )
