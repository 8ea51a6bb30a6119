"""The shop-floor tablet pages: the station queue, scanning to open a traveler, reading the traveler
screen, the files it serves, and what keeps the pages robust. The step's actions are in
test_station_step_views, signing and correcting in test_station_signing_views."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from mes.masterdata import services as md
from mes.masterdata.models import Part
from tests.factories import (
    PartFactory,
    PartRevisionFactory,
    UserFactory,
    WorkCenterFactory,
    release_routing,
    released_routing,
)
from tests.travelers.support import HX, started, station_client, step_path, text
from travelers import services
from travelers.demo.pictures import tiny_png
from travelers.qr import traveler_qr_payload

pytestmark = pytest.mark.django_db


# --- The station queue -------------------------------------------------------------------------------------


def test_station_home_lists_the_travelers_waiting_here_with_their_hold(shop, traveler):
    held = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    services.hold_place(traveler=held, reason="chip on flange", actor=shop.operator)
    response = station_client(shop.operator).get("/")
    assert response.status_code == 200
    page = text(response)
    assert "SN-0001" in page and "SN-0002" in page
    assert "HSG-1" in page and "WO-1" in page and "Bore the housing" in page
    assert page.count("On hold") == 1
    assert 'hx-trigger="every 10s"' in response.content.decode()
    assert response["Vary"].count("HX-Request") == 1


def test_the_queue_partial_is_what_the_page_polls(shop, traveler):
    client = station_client(shop.operator)
    partial = client.get("/station/queue/", **HX)
    assert partial.status_code == 200
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="queue"') and "<html" not in body
    assert "SN-0001" in body
    assert client.get("/station/queue/").status_code == 302  # a person opening it gets the page


def test_a_tablet_without_a_work_center_asks_for_one(shop):
    client = station_client(shop.operator, work_center=None)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/station/work-center/"
    page = client.get("/station/work-center/")
    assert page.status_code == 200 and "CELL-1" in text(page)


def test_choosing_a_work_center_is_remembered_with_the_site_time_zone(shop):
    client = station_client(shop.operator, work_center=None)
    response = client.post("/station/work-center/", {"work_center": "WIC/CELL-1"})
    assert response.status_code == 302
    cookie = response.cookies["traveler_station"]
    assert cookie["max-age"] > 300 * 24 * 3600 and cookie["httponly"]
    assert client.session["site_time_zone"] == "America/Chicago"
    assert client.get("/").status_code == 200
    assert client.post("/station/work-center/", {"work_center": "WIC/NOPE"}).status_code == 422


# --- Scanning to open a traveler -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["serial", "lot", "work_order", "qr", "number", "lowercase"])
def test_scanning_opens_the_right_traveler(shop, traveler, how):
    target = traveler
    if how == "lot":
        lot_revision = PartRevisionFactory(part=PartFactory(number="BUSH-2", tracking=Part.Tracking.LOT))
        released_routing(part_revision=lot_revision, steps=1, work_center=shop.wc)
        order = services.work_order_create(number="WO-LOT", part_revision=lot_revision, quantity=100, site=shop.site)
        target = services.traveler_release(
            work_order=order, identifier="L24-900", quantity=Decimal(100), actor=shop.supervisor
        )
    code = {
        "serial": "SN-0001",
        "lot": "L24-900",
        "work_order": "WO-1",
        "qr": traveler_qr_payload(traveler),
        "number": traveler.number,
        "lowercase": "sn-0001",
    }[how]
    client = station_client(shop.operator)
    response = client.get("/station/scan/", {"code": code})
    assert response.status_code == 302
    assert response["Location"] == f"/station/travelers/{target.number}/"
    htmx = client.get("/station/scan/", {"code": code}, **HX)
    assert htmx["HX-Redirect"] == f"/station/travelers/{target.number}/"


def test_an_unknown_code_says_so_beside_the_input(shop, traveler):
    client = station_client(shop.operator)
    response = client.get("/station/scan/", {"code": "XX-404"}, **HX)
    assert response.status_code == 404
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="scan"')
    assert "Nothing is known by “XX-404”" in text(response)
    assert 'class="field-error"' in body
    page = client.get("/station/scan/", {"code": "XX-404"})  # without JavaScript: the queue page again
    assert page.status_code == 404 and "Nothing is known by" in text(page) and "SN-0001" in text(page)


def test_a_work_order_with_several_open_travelers_lists_them_to_choose(shop, traveler):
    other = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    response = station_client(shop.operator).get("/station/scan/", {"code": "WO-1"}, **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"/station/travelers/{traveler.number}/" in body and f"/station/travelers/{other.number}/" in body


def test_a_scan_prefers_the_open_traveler_at_this_work_center(shop, traveler):
    run = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    # SN-0002's open steps are all at CELL-1 too; move SN-0001's open steps elsewhere
    elsewhere = WorkCenterFactory(site=shop.site, code="CELL-9")
    traveler.steps.update(work_center=elsewhere)
    response = station_client(shop.operator).get("/station/scan/", {"code": "WO-1"})
    assert response["Location"] == f"/station/travelers/{run.number}/"


# --- Reading the traveler ----------------------------------------------------------------------------------


def test_the_traveler_screen_shows_route_instructions_and_specs(shop, traveler):
    client = station_client(shop.operator)
    response = client.get(f"/station/travelers/{traveler.number}/")
    assert response.status_code == 200
    body, page = response.content.decode(), text(response)
    for title in ("Bore the housing", "Torque the cover", "Mark the serial", "Final visual"):
        assert title in page
    assert "<strong>12.700 mm</strong>" in body  # the instructions' Markdown, rendered
    assert "Bore diameter" in page and "12.700 mm (12.687 – 12.713)" in page
    assert 'aria-current="step"' in body and "Start step 10" in page
    assert 'inputmode="decimal"' not in body  # nothing to type before the step is started
    assert response["Vary"].count("HX-Request") == 1 and "no-store" in response["Cache-Control"]


def test_a_step_link_answers_the_screen_partial_for_htmx(shop, traveler):
    client = station_client(shop.operator)
    partial = client.get(step_path(traveler, 20), **HX)
    body = partial.content.decode()
    assert partial.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<div id="traveler-screen"') and "Cover torque" in body
    full = client.get(step_path(traveler, 20))
    assert "<html" in full.content.decode()


def test_a_missing_traveler_or_step_is_404(shop, traveler):
    client = station_client(shop.operator)
    assert client.get("/station/travelers/T-9999999/").status_code == 404
    assert client.get(step_path(traveler, 99)).status_code == 404
    assert client.post("/station/travelers/T-9999999/steps/10/start/").status_code == 404


def test_someone_without_traveler_access_gets_403(shop, traveler):
    nobody = UserFactory(username="visitor")
    client = station_client(nobody, work_center=None)
    assert client.get(f"/station/travelers/{traveler.number}/").status_code == 403
    assert client.get("/").status_code == 403


def test_pages_need_a_signed_in_operator(shop, traveler):
    response = Client().get(f"/station/travelers/{traveler.number}/")
    assert response.status_code == 302
    assert response["Location"] == f"/station/login/?next=%2Fstation%2Ftravelers%2F{traveler.number}%2F"
    assert Client().get("/")["Location"] == "/station/login/?next=%2F"


# --- Files: never from MEDIA_URL ------------------------------------------------------------------------------


def test_instruction_drawings_are_served_sandboxed_to_signed_in_users(shop):
    revision = PartRevisionFactory(part=PartFactory(number="DRW-1"))
    routing = md.routing_create_draft(part_revision=revision)
    step = md.routing_step_add(
        routing=routing, sequence=10, operation=shop.ops["machining"], title="Bore", work_center=shop.wc
    )
    drawing = md.step_attachment_add(
        step=step, title="Section A-A", filename="section.png", content=tiny_png(), content_type="image/png"
    )
    release_routing(routing=routing)
    order = services.work_order_create(number="WO-D", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier="D-1", actor=shop.supervisor)
    client = station_client(shop.operator)
    page = client.get(f"/station/travelers/{traveler.number}/").content.decode()
    url = f"/station/instructions/{drawing.pk}/"
    assert f'src="{url}"' in page and 'alt="Section A-A"' in page and "/media/" not in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == tiny_png()
    assert Client().get(url).status_code == 302  # not signed in: to the badge page
    assert client.get("/station/instructions/999999/").status_code == 404


def test_step_photos_are_served_sandboxed(shop, traveler):
    step = started(shop, traveler)
    attachment = services.attachment_add(
        step=step, filename="note.txt", content=b"<b>hi</b>", content_type="text/plain", actor=shop.operator
    )
    response = station_client(shop.operator).get(f"/station/attachments/{attachment.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"].startswith("attachment")  # not an image: downloaded, never shown
    assert response["Content-Security-Policy"].startswith("sandbox") and response["X-Content-Type-Options"] == "nosniff"


# --- Robustness ---------------------------------------------------------------------------------------------


def test_what_is_typed_is_kept_per_traveler_step_and_characteristic(shop, traveler):
    started(shop, traveler)
    body = station_client(shop.operator).get(step_path(traveler, 10)).content.decode()
    assert f'data-keep="{traveler.number}:10:BORE_DIA"' in body and f'data-keep="{traveler.number}:10:SURFACE"' in body
    assert 'id="offline-banner"' in body and "data-retry" in body
    assert 'hx-trigger="input delay:400ms"' in body
    assert 'data-keep="' not in re.search(r'<dialog id="sign-dialog".*?</dialog>', body, re.S).group(0)


def test_every_htmx_form_has_a_real_action_and_every_htmx_link_a_real_href(shop, traveler):
    step = started(shop, traveler)
    services.measurement_record(step=step, characteristic="SURFACE", value="fail", actor=shop.operator)
    client = station_client(shop.operator)
    pages = [client.get("/").content.decode(), client.get(step_path(traveler, 10)).content.decode()]
    for body in pages:
        for tag in re.findall(r"<(?:form|a|button|input|select)\b[^>]*\bhx-(?:get|post)=[^>]*>", body):
            if tag.startswith("<form"):
                assert re.search(r'\baction="/', tag), tag
            elif tag.startswith("<a"):
                assert re.search(r'\bhref="/', tag), tag
            else:  # an input judged as it is typed sits in a form whose action records it
                assert tag.startswith(("<button", "<input", "<select")), tag
