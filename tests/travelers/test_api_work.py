"""The JSON API under /api/, the work itself: a whole traveler over HTTP, values converted and judged,
corrections, holds, NCRs, skips, components, attachments, release, and a work center's queue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from mes.events.models import OutboxMessage
from tests.travelers.conftest import PASSWORD, do_step, step_of
from tests.travelers.support import assert_error, client_for, get, post, records, steps_url
from travelers import services
from travelers.models import Item, Nonconformance, Traveler

pytestmark = pytest.mark.django_db


# --- The happy path ---------------------------------------------------------------------------------------


def test_a_whole_traveler_runs_over_the_api(shop, traveler):
    olga, ines = client_for(shop.operator), client_for(shop.inspector)

    r = post(olga, steps_url(traveler, 10, "start"), {"expected_version": 1})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "in_progress" and r.json()["version"] == 2
    for code, value, unit in (("BORE_DIA", "12.701", "mm"), ("SURFACE", "pass", "")):
        r = post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": code, "value": value, "unit": unit})
        assert r.status_code == 201, r.content
        assert r.json()["measurement"]["judgment"] == "in_spec" and r.json()["put_on_hold"] is False
    r = post(olga, steps_url(traveler, 10, "sign"), {"meaning": "performed", "secret": PASSWORD, "username": "olga"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "completed"
    assert body["signature"]["printed_name"] == shop.operator.profile.printed_name
    assert body["signature"]["meaning"] == "performed" and body["signature"]["signed_at"].endswith("Z")
    assert " — Performed — " in body["signature"]["manifestation"] and body["signature"]["manifestation"].endswith(
        " UTC"
    )

    post(olga, steps_url(traveler, 20, "start"))
    post(olga, steps_url(traveler, 20, "measurements"), {"characteristic": "TORQUE", "value": "25.0", "unit": "N*m"})
    r = post(olga, steps_url(traveler, 20, "sign"), {"meaning": "performed", "secret": PASSWORD})
    assert r.json()["status"] == "awaiting_inspection"
    r = post(ines, steps_url(traveler, 20, "sign"), {"meaning": "inspected", "secret": PASSWORD, "username": "ines"})
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "completed"
    assert [s["meaning"] for s in r.json()["signatures"]] == ["performed", "inspected"]

    post(olga, steps_url(traveler, 30, "start"))
    post(olga, steps_url(traveler, 30, "measurements"), {"characteristic": "MARK_OK", "value": "pass"})
    post(olga, steps_url(traveler, 30, "sign"), {"meaning": "performed", "secret": PASSWORD})
    post(olga, steps_url(traveler, 40, "start"))
    r = post(olga, steps_url(traveler, 40, "sign"), {"meaning": "performed", "secret": PASSWORD})
    assert r.json()["traveler"]["status"] == "awaiting_signoff"

    r = post(ines, f"/travelers/{traveler.number}/signoff", {"decision": "approve", "secret": PASSWORD})
    assert r.status_code == 200, r.content
    assert r.json()["traveler"]["status"] == "closed"
    assert r.json()["signature"]["meaning"] == "approved" and r.json()["ncr"] is None

    detail = get(olga, f"/travelers/{traveler.number}").json()
    assert detail["status"] == "closed" and detail["final_signature"]["printed_name"]
    assert detail["part"] == {"number": "HSG-1", "revision": "A", "name": "Housing"}
    assert detail["serial_or_lot"] == "SN-0001" and detail["work_order"]["number"] == "WO-1"
    assert [s["status"] for s in detail["steps"]] == ["completed"] * 4
    bore = detail["steps"][0]
    assert [c["code"] for c in bore["characteristics"]] == ["BORE_DIA", "SURFACE"]
    spec = bore["characteristics"][0]
    assert (spec["unit"], spec["lower_limit"], spec["upper_limit"]) == ("mm", "12.687000", "12.713000")
    value = bore["measurements"][0]
    assert value["entered_value"] == "12.701" and Decimal(value["value"]) == Decimal("12.701")
    assert value["recorded_by"]["username"] == "olga" and value["current"] is True
    assert [s["meaning"] for s in detail["steps"][1]["signatures"]] == ["performed", "inspected"]
    assert OutboxMessage.objects.filter(event_type="traveler.closed").count() == 1


def test_a_value_in_another_unit_is_converted_and_judged(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    r = post(
        olga, steps_url(traveler, 10, "measurements"), {"characteristic": "BORE_DIA", "value": "0.5", "unit": "in"}
    )
    assert r.status_code == 201, r.content
    m = r.json()["measurement"]
    assert (m["entered_value"], m["entered_unit"], m["unit"]) == ("0.5", "in", "mm")
    assert Decimal(m["value"]) == Decimal("12.7") and m["judgment"] == "in_spec" and Decimal(m["deviation"]) == 0


def test_an_out_of_spec_value_reports_the_hold_and_the_ncr_it_opened(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    r = post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "BORE_DIA", "value": "12.730"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["measurement"]["judgment"] == "out_of_spec"
    assert Decimal(body["measurement"]["deviation"]) == Decimal("0.017")
    assert body["put_on_hold"] is True and body["traveler"]["on_hold"] is True
    assert body["ncr"] == Nonconformance.objects.get(traveler=traveler).number


def test_a_correction_supersedes_and_both_values_show(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    first = post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "SURFACE", "value": "fail"})
    first_id = first.json()["measurement"]["id"]
    r = post(
        olga,
        f"/measurements/{first_id}/correct",
        {"value": "pass", "reason": "misread", "secret": PASSWORD, "username": "olga"},
    )
    # a value that was out of spec: the site's two-person rule asks an inspector's co-signature
    assert_error(r, 403, "signature_refused", "cosigner_username")
    r = post(
        olga,
        f"/measurements/{first_id}/correct",
        {
            "value": "pass",
            "reason": "misread",
            "secret": PASSWORD,
            "cosigner_username": "ines",
            "cosigner_secret": PASSWORD,
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["measurement"]["supersedes"] == first_id
    assert r.json()["measurement"]["correction_signature"]["meaning"] == "corrected"
    values = get(olga, f"/travelers/{traveler.number}").json()["steps"][0]["measurements"]
    assert [(v["entered_value"], v["current"], v["correction_reason"]) for v in values] == [
        ("fail", False, ""),
        ("pass", True, "misread"),
    ]
    assert values[0]["superseded_by"] == values[1]["id"]


# --- Holds, NCRs, skips, components, attachments, release ---------------------------------------------------


def test_hold_then_signed_release(shop, traveler):
    olga, sam = client_for(shop.operator), client_for(shop.supervisor)
    r = post(olga, f"/travelers/{traveler.number}/hold", {"reason": "chip on the flange"})
    assert r.status_code == 201, r.content
    hold_id = r.json()["id"]
    assert r.json()["kind"] == "manual" and r.json()["placed_by"]["username"] == "olga"
    r = post(sam, f"/holds/{hold_id}/release", {"reason": "chip blended", "secret": PASSWORD, "username": "sam"})
    assert r.status_code == 200, r.content
    assert r.json()["release_signature"]["meaning"] == "released" and r.json()["released_by"]["username"] == "sam"
    assert Traveler.objects.get(pk=traveler.pk).on_hold is False


def test_ncr_with_rework_disposition_adds_signed_steps(shop, traveler):
    olga, ines = client_for(shop.operator), client_for(shop.inspector)
    r = post(olga, f"/travelers/{traveler.number}/ncrs", {"description": "burr in bore", "step_sequence": 10})
    assert r.status_code == 201, r.content
    number = r.json()["number"]
    assert r.json()["step"] == 10 and r.json()["status"] == "open"
    r = post(
        ines,
        f"/ncrs/{number}/disposition",
        {
            "disposition": "rework",
            "notes": "deburr",
            "secret": PASSWORD,
            "username": "ines",
            "rework_steps": [{"operation": "MACHINING", "title": "Deburr the bore", "work_center": "CELL-1"}],
        },
    )
    assert r.status_code == 200, r.content
    assert r.json()["disposition"] == "rework" and r.json()["rework_steps"] == [11]
    assert r.json()["disposition_signature"]["meaning"] == "dispositioned"
    detail = get(olga, f"/travelers/{traveler.number}").json()
    assert detail["on_hold"] is False and detail["ncrs"][0]["rework_steps"] == [11]
    assert [(s["sequence"], s["origin"], s["ncr"]) for s in detail["steps"]][1] == (11, "rework", number)


def test_a_bad_rework_step_names_the_nested_field(shop, traveler):
    olga, ines = client_for(shop.operator), client_for(shop.inspector)
    number = post(olga, f"/travelers/{traveler.number}/ncrs", {"description": "burr"}).json()["number"]
    r = post(
        ines,
        f"/ncrs/{number}/disposition",
        {
            "disposition": "rework",
            "notes": "x",
            "secret": PASSWORD,
            "username": "ines",
            "rework_steps": [{"operation": "MACHINING"}],
        },
    )
    assert_error(r, 422, "validation_error", "rework_steps[0].title")
    before = records()
    r = post(
        ines,
        f"/ncrs/{number}/disposition",
        {
            "disposition": "rework",
            "notes": "x",
            "secret": PASSWORD,
            "username": "ines",
            "rework_steps": [{"operation": "NOPE", "title": "t"}],
        },
    )
    assert_error(r, 409, "nonconformance_refused", "rework_steps[0].operation")
    assert records() == before


def test_supervisor_skips_a_step_with_a_signature(shop, traveler):
    r = post(
        client_for(shop.supervisor),
        steps_url(traveler, 10, "skip"),
        {"reason": "done at vendor", "secret": PASSWORD, "username": "sam"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "skipped" and r.json()["signature"]["meaning"] == "skipped"


def test_components_are_consumed_and_removed_signed(shop, traveler):
    Item.objects.create(
        part=shop.pin_part,
        part_revision=shop.pin_rev,
        tracking="serial",
        identifier="PIN-0001",
        status=Item.Status.AVAILABLE,
    )  # a received unit: no service receives purchased parts
    olga = client_for(shop.operator)
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    post(olga, steps_url(traveler, 20, "start"))
    r = post(olga, steps_url(traveler, 20, "components"), {"identifier": "PIN-0001", "part_number": "PIN-1"})
    assert r.status_code == 201, r.content
    consumption = r.json()
    assert consumption["component"] == {"part_number": "PIN-1", "identifier": "PIN-0001", "tracking": "serial"}
    assert consumption["active"] is True and consumption["step"] == 20
    r = post(
        olga,
        f"/consumptions/{consumption['id']}/remove",
        {"reason": "wrong pin", "secret": PASSWORD, "username": "olga"},
    )
    assert r.status_code == 200, r.content
    assert r.json()["active"] is False and r.json()["removal_signature"]["meaning"] == "removed"
    before = records()
    r = post(olga, steps_url(traveler, 20, "components"), {"identifier": "PIN-9999"})
    assert_error(r, 409, "component_refused", "identifier")
    assert records() == before


def test_an_attachment_is_uploaded_to_a_step(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    photo = SimpleUploadedFile("bore.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    r = olga.post(f"/api{steps_url(traveler, 10, 'attachments')}", {"file": photo})
    assert r.status_code == 201, r.content
    assert r.json()["filename"] == "bore.png" and r.json()["size"] == 72 and len(r.json()["sha256"]) == 64
    fake = SimpleUploadedFile("bore.png", b"not an image", content_type="image/png")
    before = records()
    r = olga.post(f"/api{steps_url(traveler, 10, 'attachments')}", {"file": fake})
    assert_error(r, 422, "attachment_refused", "file")
    assert records() == before
    r = olga.post(f"/api{steps_url(traveler, 10, 'attachments')}", {})
    assert_error(r, 422, "validation_error", "file")


def test_a_supervisor_releases_a_traveler_for_a_work_order(shop):
    sam = client_for(shop.supervisor)
    r = post(sam, f"/work-orders/{shop.order.number}/travelers", {"identifier": "SN-0042"})
    assert r.status_code == 201, r.content
    assert r.json()["serial_or_lot"] == "SN-0042" and len(r.json()["steps"]) == 4
    before = records()
    assert_error(
        post(sam, f"/work-orders/{shop.order.number}/travelers", {"identifier": "SN-0042"}),
        409,
        "release_refused",
        "identifier",
    )
    assert_error(
        post(client_for(shop.operator), f"/work-orders/{shop.order.number}/travelers", {"identifier": "SN-0043"}),
        403,
        "not_authorized",
    )
    assert_error(post(sam, "/work-orders/WO-NOPE/travelers", {"identifier": "SN-0044"}), 404, "not_found", "number")
    assert records() == before


def test_a_work_center_lists_the_travelers_waiting_or_in_work_there(shop, traveler):
    second = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    do_step(shop, second, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    services.step_start(step=step_of(second, 20), actor=shop.operator)
    r = get(client_for(shop.operator), "/work-centers/WIC/CELL-1/travelers")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["work_center"]["code"] == "CELL-1"
    rows = {t["number"]: t for t in body["travelers"]}
    assert rows[traveler.number]["current_step"] == {
        "sequence": 10,
        "title": "Bore the housing",
        "status": "pending",
        "version": 1,
    }
    assert rows[second.number]["current_step"]["sequence"] == 20
    assert rows[second.number]["current_step"]["status"] == "in_progress"
    assert rows[second.number]["part"]["number"] == "HSG-1" and rows[second.number]["work_order"] == "WO-1"
    assert_error(get(client_for(shop.operator), "/work-centers/WIC/NOPE/travelers"), 404, "not_found", "code")
