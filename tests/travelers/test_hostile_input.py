"""Hostile input is a 4xx that names the field, on the API and on pages, and saves nothing. Each case was
a 500 in a fuzzing run: a NUL byte in any text parameter, a value like 1e999999999, a unit like parsec,
a lot quantity like 1e999999999, a 5,000-character file name, a body over the limit."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mes.exports import cell
from tests.travelers.conftest import PASSWORD, build_routing
from tests.travelers.support import assert_error, client_for, post, records, steps_url
from travelers import services
from travelers.models import Item

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(shop, traveler):
    services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)
    return traveler


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"characteristic": "BORE\x00_DIA", "value": "12.7", "unit": "mm"}, "characteristic"),
        ({"characteristic": "BORE_DIA", "value": "12.7\x00", "unit": "mm"}, "value"),
        ({"characteristic": "BORE_DIA", "value": "12.7", "unit": "m\x00m"}, "unit"),
        ({"characteristic": "BORE_DIA", "value": "1e999999999", "unit": "mm"}, "value"),
        ({"characteristic": "BORE_DIA", "value": "-1e999999999", "unit": "mm"}, "value"),
        ({"characteristic": "BORE_DIA", "value": "NaN", "unit": "mm"}, "value"),
        ({"characteristic": "BORE_DIA", "value": "Infinity", "unit": "mm"}, "value"),
        ({"characteristic": "BORE_DIA", "value": "12.7", "unit": "parsec"}, "value"),
        ({"characteristic": "BORE_DIA", "value": "1", "unit": "lightyear"}, "value"),
    ],
)
def test_a_hostile_value_is_refused_naming_its_field(shop, started, payload, field):
    before = records()
    r = post(client_for(shop.operator), steps_url(started, 10, "measurements"), payload)
    assert 400 <= r.status_code < 500, r.content
    error = r.json()["error"]
    assert error["field"] == field, error
    assert records() == before


def test_a_nul_byte_in_a_query_parameter_is_a_400_naming_it(shop, started):
    r = client_for(shop.operator).get("/api/travelers", {"status": "active\x00"})
    error = assert_error(r, 400, "invalid_text", "status")
    assert "NUL" in error["message"]


def test_a_nul_byte_in_a_form_field_is_a_page_naming_it(shop, started):
    r = client_for(shop.operator).post("/station/scan/", {"code": "SN-0001\x00"})
    assert r.status_code == 400
    assert "text/html" in r["Content-Type"] and "code" in r.content.decode()


def test_a_nul_byte_in_a_reason_is_refused_and_nothing_held(shop, started):
    before = records()
    r = post(client_for(shop.supervisor), f"/travelers/{started.number}/hold", {"reason": "bad\x00 chip"})
    assert_error(r, 400, "invalid_text", "reason")
    assert records() == before and not started.holds.exists()


def test_an_overflowing_lot_quantity_is_refused(shop):
    bushing = shop.bush_part.revisions.get()
    build_routing(bushing, shop.ops, shop.wc)
    lot_order = services.work_order_create(
        number="WO-LOT", part_revision=bushing, quantity=10, quantity_unit=shop.bush_part.quantity_unit, site=shop.site
    )
    supervisor = client_for(shop.supervisor)
    for n, quantity in enumerate(("1e999999999", "NaN", "-3", "0", "Infinity")):
        r = post(
            supervisor, f"/work-orders/{lot_order.number}/travelers", {"identifier": f"L-{n}", "quantity": quantity}
        )
        assert 400 <= r.status_code < 500, (quantity, r.content)
        assert "quantity" in (r.json()["error"].get("field") or ""), r.json()
    assert not Item.objects.filter(work_order=lot_order).exists()


def test_an_absurd_file_name_is_kept_short_and_a_nul_in_it_dropped(shop, started, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    operator = client_for(shop.operator)
    url = f"/api/travelers/{started.number}/steps/10/attachments"
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 200
    photo = SimpleUploadedFile("x" * 5000 + ".jpg", jpeg, content_type="image/jpeg")
    r = operator.post(url, {"file": photo})
    assert r.status_code == 201, r.content
    assert r.json()["filename"].endswith(".jpg") and len(r.json()["filename"]) <= 120
    # A NUL in the name never reaches the database: the upload parser drops it.
    r = operator.post(url, {"file": SimpleUploadedFile("bore\x00.jpg", jpeg, content_type="image/jpeg")})
    assert r.status_code == 201 and r.json()["filename"] == "bore.jpg", r.content


def test_a_body_over_the_limit_is_a_413_in_json(shop, started, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = post(client_for(shop.operator), steps_url(started, 10, "measurements"), {"value": "1" * 4096})
    error = assert_error(r, 413, "too_large")
    assert "1 KiB" in error["message"] or "1024" in error["message"]


def test_nothing_hostile_reaches_the_signing(shop, started):
    before = records()
    r = post(
        client_for(shop.operator),
        steps_url(started, 10, "sign"),
        {"meaning": "performed", "secret": PASSWORD + "\x00", "username": "olga"},
    )
    assert_error(r, 400, "invalid_text", "secret")
    assert records() == before


def test_one_person_cannot_stack_holds_or_ncrs(shop, started, settings):
    # Observed: one operator stacked 359 holds and 311 NCRs on one traveler in 4.5 minutes.
    settings.HOURLY_LIMITS = {"holds": 3, "NCRs": 2}
    supervisor = client_for(shop.supervisor)
    answers = [post(supervisor, f"/travelers/{started.number}/hold", {"reason": f"check {n}"}) for n in range(4)]
    assert [a.status_code for a in answers] == [201, 201, 201, 429]
    assert "the most one person may" in answers[-1].json()["error"]["message"]
    inspector = client_for(shop.inspector)
    raised = [post(inspector, f"/travelers/{started.number}/ncrs", {"description": f"burr {n}"}) for n in range(3)]
    assert [a.status_code for a in raised] == [201, 201, 429]
    assert started.holds.count() == 3 + 2  # each NCR holds the traveler; the refused ones left nothing


def test_exports_never_hand_a_spreadsheet_a_formula(shop, started):
    assert cell('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert cell("@SUM(A1)") == "'@SUM(A1)" and cell("+1+cmd|' /C calc'!A0") == "'+1+cmd|' /C calc'!A0"
    assert cell("-0.013") == "-0.013" and cell("12.7") == "12.7" and cell(7) == 7  # numbers stay numbers
    post(client_for(shop.supervisor), f"/travelers/{started.number}/hold", {"reason": "=cmd|' /C calc'!A0"})
    inspector = client_for(shop.inspector)
    csv_text = inspector.get("/audit/export.csv", {"traveler": started.number}).getvalue().decode()
    assert "'=cmd|' /C calc'!A0" in csv_text and ",=cmd" not in csv_text


def test_an_ambiguous_decimal_comma_is_a_question_never_a_guess(shop, started):
    # Observed: "1,234" was read as 1.234 mm and opened an NCR.
    olga = client_for(shop.operator)
    url = steps_url(started, 10, "measurements")
    before = records()
    r = post(olga, url, {"characteristic": "BORE_DIA", "value": "1,234", "unit": "mm"})
    error = assert_error(r, 422, "measurement_invalid", "value")
    assert "could be 1.234 or 1234" in error["message"]
    assert records() == before and not started.ncrs.exists()
    r = post(olga, url, {"characteristic": "BORE_DIA", "value": "12,701", "unit": "mm"})
    assert r.status_code == 422  # three decimals after a comma: asked too
    r = post(olga, url, {"characteristic": "BORE_DIA", "value": "12,7010", "unit": "mm"})
    assert r.status_code == 201 and r.json()["measurement"]["judgment"] == "in_spec"  # unambiguous
