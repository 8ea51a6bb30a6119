"""The pages people meet when something is refused or missing: styled like the product (its stylesheet, its
icon, a way back), JSON under /api/; the favicon is found; a record's time is shown once when it is UTC."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.test import Client

from tests.travelers.conftest import shop  # noqa: F401 - the small shop: its people and roles

pytestmark = pytest.mark.django_db


def styled(response) -> str:
    html = response.content.decode()
    assert "traveler/app.css" in html and "traveler/favicon.svg" in html
    assert 'href="/"' in html  # a way back
    return html


def test_a_refused_page_is_styled_and_says_what_to_do(client, shop):  # noqa: F811
    client.force_login(shop.operator)
    response = client.get("/audit/")
    assert response.status_code == 403
    assert "You may not open this page" in styled(response)


def test_an_unknown_page_is_a_styled_404_and_the_api_stays_json(client, shop):  # noqa: F811
    client.force_login(shop.operator)
    response = client.get("/trace/items/999999/")
    assert response.status_code == 404
    assert "Page not found" in styled(response)
    api = client.get("/api/nowhere")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_a_failed_csrf_check_is_a_styled_page(shop):  # noqa: F811
    client = Client(enforce_csrf_checks=True)
    response = client.post("/station/login/", {"badge": "x", "secret": "y"})
    assert response.status_code == 403
    assert "This form has expired" in styled(response)


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


@pytest.mark.parametrize(
    ("code", "kind", "shown"),
    [
        ("awaiting_signoff", "traveler", "Awaiting final sign-off"),
        ("in_spec", "judgment", "In spec"),
        ("awaiting_inspection", "step", "Awaiting inspection"),
        ("no_such_code", "traveler", "no_such_code"),
    ],
)
def test_a_stored_code_shows_as_its_enums_label(code, kind, shown):
    html = Template("{% load traveler_records %}{{ code|label:kind }}").render(Context({"code": code, "kind": kind}))
    assert html == shown


def test_a_utc_time_is_shown_once_and_a_site_time_with_utc_beside_it():
    when = dt.datetime(2026, 12, 1, 21, 11, 31, tzinfo=dt.UTC)
    render = Template("{% load traveler_records %}{% moment when zone %}").render
    utc = render(Context({"when": when, "zone": "UTC"}))
    assert utc.count("21:11:31 UTC") == 1
    chicago = render(Context({"when": when, "zone": "America/Chicago"}))
    assert "15:11:31 CST" in chicago and "(2026-12-01 21:11:31 UTC)" in chicago
