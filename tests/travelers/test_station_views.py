"""The shop-floor tablet pages: the station queue, scanning to open a traveler, and the traveler screen
with every action an operator takes on it — through the pages, with and without htmx."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from mes.compliance.models import Signature, SigningCredential
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
from tests.travelers.conftest import PASSWORD, do_step, step_of
from tests.travelers.support import HX, char_id, started, station_client, step_path, text
from travelers import services
from travelers.demo import tiny_png
from travelers.models import Attachment, Item, Measurement, Nonconformance, Traveler
from travelers.qr import traveler_qr_payload
from travelers.states import StepStatus

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


# --- Starting and recording --------------------------------------------------------------------------------


def test_starting_a_step_from_the_page(shop, traveler):
    client = station_client(shop.operator)
    response = client.post(step_path(traveler, 10, "start/"), {"expected_version": 1}, **HX)
    assert response.status_code == 200, response.content
    assert response["HX-Retarget"] == "#traveler-screen" and response["HX-Reswap"] == "outerHTML"
    assert "Step 10 started." in text(response)
    assert step_of(traveler, 10).status == StepStatus.IN_PROGRESS
    assert 'inputmode="decimal"' in response.content.decode()


def test_starting_out_of_order_is_refused_beside_the_button(shop, traveler):
    client = station_client(shop.operator)
    response = client.post(step_path(traveler, 20, "start/"), {"expected_version": 1}, **HX)
    assert response.status_code == 409
    assert response.content.decode().lstrip().startswith('<form id="start-form"')
    assert "waits for step 10" in text(response)


def test_the_judge_preview_shows_the_judgment_and_saves_nothing(shop, traveler):
    started(shop, traveler)
    client = station_client(shop.operator)
    url = step_path(traveler, 10, f"values/{char_id(traveler, 10, 'BORE_DIA')}/preview/")
    inside = client.post(url, {"value": "12.701", "unit": ""}, **HX)
    assert inside.status_code == 200
    assert "In spec" in text(inside) and "+0.001 mm from nominal" in text(inside)
    out = client.post(url, {"value": "12.730"}, **HX)
    assert "Out of spec" in text(out) and "0.017 mm above the upper limit 12.713 mm" in text(out)
    inches = client.post(url, {"value": "0.5", "unit": "in"}, **HX)
    assert "In spec" in text(inches)
    wrong = client.post(url, {"value": "12,7,1"}, **HX)
    assert "is not a number" in text(wrong)
    assert Measurement.objects.count() == 0


def test_the_judge_preview_works_without_javascript(shop, traveler):
    started(shop, traveler)
    url = step_path(traveler, 10, f"values/{char_id(traveler, 10, 'BORE_DIA')}/preview/")
    response = station_client(shop.operator).post(url, {"value": "12.680"})
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert "0.007 mm below the lower limit 12.687 mm" in text(response)
    assert 'value="12.680"' in response.content.decode()  # what was typed stays in the input
    assert Measurement.objects.count() == 0


def test_recording_an_in_spec_value_from_the_page(shop, traveler):
    step = started(shop, traveler)
    client = station_client(shop.operator)
    url = step_path(traveler, 10, f"values/{char_id(traveler, 10, 'BORE_DIA')}/")
    response = client.post(url, {"value": "12.701", "unit": "", "expected_version": step.version}, **HX)
    assert response.status_code == 200, response.content
    assert response["HX-Retarget"] == "#traveler-screen"
    assert "Bore diameter recorded: 12.701 mm — in spec." in text(response)
    m = Measurement.objects.get()
    assert m.judgment == "in_spec" and m.recorded_by == shop.operator
    # the saved value tells the tablet to forget what it kept for this characteristic
    assert f'data-saved-key="{traveler.number}:10:BORE_DIA"' in response.content.decode()


def test_recording_an_out_of_spec_value_shows_the_hold_and_the_ncr(shop, traveler):
    step = started(shop, traveler)
    client = station_client(shop.operator)
    url = step_path(traveler, 10, f"values/{char_id(traveler, 10, 'BORE_DIA')}/")
    response = client.post(url, {"value": "12.730", "expected_version": step.version}, **HX)
    assert response.status_code == 200, response.content
    ncr = Nonconformance.objects.get(traveler=traveler)
    page = text(response)
    assert f"the traveler is on hold and {ncr.number} is open" in page
    assert "This traveler is on hold" in page and ncr.number in page
    assert "0.017 mm above the upper limit 12.713 mm" in page
    assert Traveler.objects.get(pk=traveler.pk).on_hold


def test_recording_without_javascript_comes_back_to_the_step(shop, traveler):
    step = started(shop, traveler)
    client = station_client(shop.operator)
    url = step_path(traveler, 10, f"values/{char_id(traveler, 10, 'SURFACE')}/")
    response = client.post(url, {"value": "pass", "expected_version": step.version})
    assert response.status_code == 302 and response["Location"] == step_path(traveler, 10)
    assert "Surface visual recorded: pass — in spec." in text(client.get(response["Location"]))


def test_a_refused_value_is_explained_beside_the_field_and_nothing_is_saved(shop, traveler):
    step = started(shop, traveler)
    client = station_client(shop.operator)
    cid = char_id(traveler, 10, "BORE_DIA")
    url = step_path(traveler, 10, f"values/{cid}/")
    response = client.post(url, {"value": "twelve", "expected_version": step.version}, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert body.lstrip().startswith(f'<article class="char-row" id="char-{cid}"')
    assert re.search(r'value="twelve".*?class="field-error"[^>]*>&#x27;twelve&#x27; is not a number', body, re.S)
    unit = client.post(url, {"value": "12.7", "unit": "kg", "expected_version": step.version}, **HX)
    assert unit.status_code == 422 and "cannot be converted to mm" in text(unit)
    assert Measurement.objects.count() == 0
    page = client.post(url, {"value": "", "expected_version": step.version})  # without JavaScript
    assert page.status_code == 422 and "<html" in page.content.decode() and "This field is required." in text(page)


def test_a_step_changed_on_another_tablet_asks_to_reload(shop, traveler):
    step = started(shop, traveler)
    stale = step.version
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator2)
    url = step_path(traveler, 10, f"values/{char_id(traveler, 10, 'BORE_DIA')}/")
    response = station_client(shop.operator).post(url, {"value": "12.701", "expected_version": stale}, **HX)
    assert response.status_code == 409
    assert "Someone else changed this step — reload it" in text(response)
    assert f'href="{step_path(traveler, 10)}"' in response.content.decode()
    assert not Measurement.objects.filter(characteristic__code="BORE_DIA").exists()


# --- Signing -----------------------------------------------------------------------------------------------


def ready_to_sign(shop, traveler):
    step = started(shop, traveler)
    for code, value in (("BORE_DIA", "12.701"), ("SURFACE", "pass")):
        services.measurement_record(step=step, characteristic=code, value=value, actor=shop.operator)
    return step_of(traveler, 10)


def test_the_sign_dialog_states_its_meaning_and_asks_the_user_id_first(shop, traveler):
    ready_to_sign(shop, traveler)
    response = station_client(shop.operator).get(step_path(traveler, 10))
    body = response.content.decode()
    assert '<dialog id="sign-dialog"' in body and "I performed this step" in body
    assert 'name="username"' in body and 'name="secret"' in body and 'type="password"' in body
    assert f'href="{step_path(traveler, 10, "sign/")}?meaning=performed"' in body  # works without JS too


def test_signing_with_a_wrong_secret_is_refused_beside_the_field_and_counted(shop, traveler):
    step = ready_to_sign(shop, traveler)
    client = station_client(shop.operator)
    data = {"meaning": "performed", "username": "olga", "secret": "not-it", "expected_version": step.version}
    response = client.post(step_path(traveler, 10, "sign/"), data, **HX)
    assert response.status_code == 403
    body = response.content.decode()
    assert body.lstrip().startswith('<form id="sign-form"')
    assert re.search(r'name="secret".*?class="field-error"[^>]*>wrong password or PIN \(2 attempts left\)', body, re.S)
    assert SigningCredential.objects.get(user=shop.operator).failed_attempts == 1
    assert (
        not Signature.objects.exclude(record_type="masterdata.routingchange").exists()
        and step_of(traveler, 10).status == StepStatus.IN_PROGRESS
    )


@pytest.mark.regulation("21 CFR 11.50")
def test_signing_with_the_right_secret_shows_the_manifestation(shop, traveler):
    step = ready_to_sign(shop, traveler)
    client = station_client(shop.operator)
    data = {"meaning": "performed", "username": "olga", "secret": PASSWORD, "expected_version": step.version}
    response = client.post(step_path(traveler, 10, "sign/"), data, **HX)
    assert response.status_code == 200, response.content
    assert response["HX-Retarget"] == "#traveler-screen"
    sig = Signature.objects.get(meaning="performed")
    page = text(response)
    assert "Step 10 signed: Performed." in page
    assert f"{sig.printed_name} — Performed — {sig.signed_at:%Y-%m-%d %H:%M:%S} UTC" in page
    assert "site time" in page and ("CST" in page or "CDT" in page)  # the site is in America/Chicago
    assert step_of(traveler, 10).status == StepStatus.COMPLETED
    # the next signing of this session asks only for the secret
    services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    assert 'name="username"' not in client.get(step_path(traveler, 20)).content.decode()


@pytest.mark.regulation("21 CFR 11.200(a)(1)")
def test_the_first_signing_takes_the_badge_number_as_user_id(shop, traveler):
    step = ready_to_sign(shop, traveler)
    badge = shop.operator.profile.employee_number
    data = {"meaning": "performed", "username": badge, "secret": PASSWORD, "expected_version": step.version}
    response = station_client(shop.operator).post(step_path(traveler, 10, "sign/"), data, **HX)
    assert response.status_code == 200, response.content
    assert Signature.objects.filter(signer=shop.operator, meaning="performed").exists()


@pytest.mark.regulation("21 CFR 11.200(a)(1)", "21 CFR 11.200(a)(2)")
def test_the_first_signing_refuses_someone_elses_user_id(shop, traveler):
    step = ready_to_sign(shop, traveler)
    data = {"meaning": "performed", "username": "oscar", "secret": PASSWORD, "expected_version": step.version}
    response = station_client(shop.operator).post(step_path(traveler, 10, "sign/"), data, **HX)
    assert response.status_code == 403 and "not the signed-in user" in text(response)
    data.pop("username")
    missing = station_client(shop.operator).post(step_path(traveler, 10, "sign/"), data, **HX)
    assert missing.status_code == 422 and "This field is required." in text(missing)
    assert not Signature.objects.exclude(record_type="masterdata.routingchange").exists()


def test_an_operator_cannot_sign_an_inspection(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25", actor=shop.operator)
    services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    step = step_of(traveler, 20)
    client = station_client(shop.operator2)
    page = client.get(step_path(traveler, 20)).content.decode()
    assert "I inspected this step" not in page  # not offered to an operator
    data = {"meaning": "inspected", "username": "oscar", "secret": PASSWORD, "expected_version": step.version}
    response = client.post(step_path(traveler, 20, "sign/"), data, **HX)
    assert response.status_code == 403
    assert "oscar is not allowed to sign inspection buy-offs" in text(response)
    inspector = station_client(shop.inspector)
    assert "I inspected this step" in inspector.get(step_path(traveler, 20)).content.decode()
    data.update(username="ines")
    assert inspector.post(step_path(traveler, 20, "sign/"), data, **HX).status_code == 200
    assert step_of(traveler, 20).status == StepStatus.COMPLETED


def test_signing_works_without_javascript(shop, traveler):
    step = ready_to_sign(shop, traveler)
    client = station_client(shop.operator)
    form = client.get(step_path(traveler, 10, "sign/"), {"meaning": "performed"})
    assert form.status_code == 200 and "I performed this step" in text(form)
    wrong = client.post(step_path(traveler, 10, "sign/"), {"meaning": "performed", "username": "olga", "secret": "x"})
    assert wrong.status_code == 403 and "<html" in wrong.content.decode() and "wrong password or PIN" in text(wrong)
    data = {"meaning": "performed", "username": "olga", "secret": PASSWORD, "expected_version": step.version}
    done = client.post(step_path(traveler, 10, "sign/"), data)
    assert done.status_code == 302
    page = text(client.get(done["Location"]))
    assert " — Performed — " in page and " UTC" in page


# --- Photos, corrections, NCRs, components -------------------------------------------------------------


def test_a_photo_from_the_tablet_camera_is_attached_to_the_step(shop, traveler):
    started(shop, traveler)
    client = station_client(shop.operator)
    page = client.get(step_path(traveler, 10)).content.decode()
    assert 'accept="image/*"' in page and 'capture="environment"' in page
    photo = SimpleUploadedFile("bore.png", tiny_png(), content_type="image/png")
    response = client.post(step_path(traveler, 10, "photos/"), {"file": photo}, **HX)
    assert response.status_code == 200, response.content
    attachment = Attachment.objects.get()
    assert attachment.step == step_of(traveler, 10) and attachment.uploaded_by == shop.operator
    assert "Photo bore.png attached." in text(response)
    assert f"/station/attachments/{attachment.pk}/" in response.content.decode()


def test_the_photo_form_is_offered_only_where_a_photo_would_be_accepted(shop, traveler):
    client = station_client(shop.operator)
    started(shop, traveler)
    assert 'id="photo-form"' in client.get(step_path(traveler, 10)).content.decode()
    services.hold_place(traveler=traveler, reason="Gauge out of calibration", actor=shop.supervisor)
    assert 'id="photo-form"' not in client.get(step_path(traveler, 10)).content.decode()  # held
    other = services.traveler_release(work_order=shop.order, identifier="SN-0009", actor=shop.supervisor)
    do_step(shop, other, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    assert 'id="photo-form"' not in client.get(step_path(other, 10)).content.decode()  # signed and closed


def test_a_file_of_the_wrong_type_is_refused_beside_the_field(shop, traveler):
    started(shop, traveler)
    bad = SimpleUploadedFile("x.html", b"<script>alert(1)</script>", content_type="text/html")
    response = station_client(shop.operator).post(step_path(traveler, 10, "photos/"), {"file": bad}, **HX)
    assert response.status_code == 422
    assert response.content.decode().lstrip().startswith('<form id="photo-form"')
    assert "text/html is not accepted" in text(response)
    assert not Attachment.objects.exists()


def test_a_photo_characteristic_records_the_uploaded_photo_as_its_value(shop):
    revision = PartRevisionFactory(part=PartFactory(number="PANEL-1"))
    routing = md.routing_create_draft(part_revision=revision)
    step = md.routing_step_add(
        routing=routing, sequence=10, operation=shop.ops["coating"], work_center=shop.wc, title="Prime"
    )
    md.characteristic_add(step=step, code="PRIMER_PHOTO", name="Primer coverage photo", kind="attachment")
    release_routing(routing=routing)
    order = services.work_order_create(number="WO-P", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier="PN-1", actor=shop.supervisor)
    started(shop, traveler)
    client = station_client(shop.operator)
    cid = char_id(traveler, 10, "PRIMER_PHOTO")
    page = client.get(step_path(traveler, 10)).content.decode()
    assert f'name="characteristic" value="{cid}"' in page
    photo = SimpleUploadedFile("primer.png", tiny_png(), content_type="image/png")
    response = client.post(step_path(traveler, 10, "photos/"), {"file": photo, "characteristic": cid}, **HX)
    assert response.status_code == 200, response.content
    m = Measurement.objects.get()
    assert m.attachment == Attachment.objects.get() and m.entered_value == "primer.png"
    empty = SimpleUploadedFile("e.png", b"", content_type="image/png")
    refused = client.post(step_path(traveler, 10, "photos/"), {"file": empty, "characteristic": cid}, **HX)
    assert refused.status_code == 422 and refused.content.decode().lstrip().startswith("<article")
    # A second photo for the recorded value is refused with the value: its row rolls back, its file too.
    # (Observed: a refused photo left its file on disk.)
    kept = Attachment.objects.get()
    folder = f"records/{kept.sha256[:2]}/{kept.sha256}"
    before = set(kept.file.storage.listdir(folder)[1])
    again = SimpleUploadedFile("again.png", tiny_png(), content_type="image/png")
    twice = client.post(step_path(traveler, 10, "photos/"), {"file": again, "characteristic": cid}, **HX)
    assert twice.status_code == 409 and Attachment.objects.count() == 1
    assert set(kept.file.storage.listdir(folder)[1]) == before  # no again*.png left behind


@pytest.mark.regulation("21 CFR 11.10(e)")
def test_a_correction_strikes_through_the_original_with_reason_who_and_when(shop, traveler):
    step = started(shop, traveler)
    first = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.710", actor=shop.operator)
    client = station_client(shop.operator)
    url = step_path(traveler, 10, f"measurements/{first.pk}/correct/")
    page = client.get(step_path(traveler, 10)).content.decode()
    assert f'<dialog id="correct-dialog-{first.pk}"' in page and f'href="{url}"' in page
    data = {"value": "12.701", "unit": "", "reason": "digits transposed", "username": "olga", "secret": PASSWORD}
    response = client.post(url, data, **HX)
    assert response.status_code == 200, response.content
    body = response.content.decode()
    assert re.search(r'class="superseded">12\.710', body)
    page = text(response)
    assert "Reason: digits transposed" in page and "Olga Smith" in page and " — Corrected — " in page
    assert "Bore diameter corrected: 12.710 → 12.701." in page
    assert Measurement.objects.get(supersedes=first).entered_value == "12.701"


def test_a_correction_with_a_wrong_secret_or_no_reason_is_refused_in_the_dialog(shop, traveler):
    step = started(shop, traveler)
    first = services.measurement_record(step=step, characteristic="SURFACE", value="fail", actor=shop.operator)
    client = station_client(shop.operator)
    url = step_path(traveler, 10, f"measurements/{first.pk}/correct/")
    cosign = {"cosigner_username": "ines", "cosigner_secret": PASSWORD}  # a "fail": the two-person rule applies
    assert 'name="cosigner_username"' in client.get(url).content.decode()
    wrong = client.post(
        url, {"value": "pass", "reason": "misread", "username": "olga", "secret": "nope", **cosign}, **HX
    )
    assert wrong.status_code == 403
    assert wrong.content.decode().lstrip().startswith(f'<form id="correct-form-{first.pk}"')
    assert "wrong password or PIN" in text(wrong)
    no_reason = client.post(
        url, {"value": "pass", "reason": "", "username": "olga", "secret": PASSWORD, **cosign}, **HX
    )
    assert no_reason.status_code == 422 and "This field is required." in text(no_reason)
    alone = client.post(url, {"value": "pass", "reason": "misread", "secret": PASSWORD}, **HX)
    assert alone.status_code == 422 and "This field is required." in text(alone)  # no co-signer given
    assert Measurement.objects.count() == 1
    cosigned = client.post(
        url, {"value": "pass", "reason": "misread", "username": "olga", "secret": PASSWORD, **cosign}, **HX
    )
    assert cosigned.status_code == 200, cosigned.content
    assert Measurement.objects.get(supersedes=first).cosignature.printed_name == "Ines Smith"
    assert client.get(url).status_code == 200  # the page version, without JavaScript


def test_raising_an_ncr_from_the_step_holds_the_traveler(shop, traveler):
    started(shop, traveler)
    client = station_client(shop.operator)
    empty = client.post(step_path(traveler, 10, "ncrs/"), {"description": ""}, **HX)
    assert empty.status_code == 422 and empty.content.decode().lstrip().startswith('<form id="ncr-form"')
    response = client.post(step_path(traveler, 10, "ncrs/"), {"description": "burr in the bore"}, **HX)
    assert response.status_code == 200, response.content
    ncr = Nonconformance.objects.get()
    assert ncr.step == step_of(traveler, 10) and ncr.raised_by == shop.operator
    page = text(response)
    assert f"{ncr.number} raised" in page and "This traveler is on hold" in page and "burr in the bore" in page


def test_a_component_is_consumed_by_scanning_it(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    Item.objects.create(
        part=shop.pin_part,
        part_revision=shop.pin_rev,
        tracking="serial",
        identifier="PIN-0042",
        status=Item.Status.AVAILABLE,
    )
    client = station_client(shop.operator)
    page = client.get(step_path(traveler, 20)).content.decode()
    assert 'id="component-form"' in page and "1 × PIN-1" in text(client.get(step_path(traveler, 20)))
    unknown = client.post(
        step_path(traveler, 20, "components/"), {"identifier": "PIN-9", "expected_version": step.version}, **HX
    )
    assert unknown.status_code == 409 and "no unit or lot PIN-9 is known" in text(unknown)
    response = client.post(
        step_path(traveler, 20, "components/"), {"identifier": "PIN-0042", "expected_version": step.version}, **HX
    )
    assert response.status_code == 200, response.content
    assert "PIN-1 S/N PIN-0042 installed." in text(response)
    assert traveler.consumptions.get().component.identifier == "PIN-0042"


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
    assert 'hx-trigger="keyup changed delay:400ms"' in body
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
