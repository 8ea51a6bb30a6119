"""The JSON API under /api/: a whole traveler over HTTP, refusals as 4xx JSON that name the problem
and save nothing, authentication (session with CSRF, bearer token), OpenAPI, and query counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import AuditEvent, SigningCredential
from mes.compliance.tokens import api_token_issue
from mes.events.models import OutboxMessage
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from tests.travelers.support import assert_error, client_for, long_traveler, post, records, steps_url
from travelers import services
from travelers.models import Item, Nonconformance, Traveler
from travelers.states import StepStatus, TravelerStatus

pytestmark = pytest.mark.django_db


def get(client, path, **headers):
    return client.get(f"/api{path}", **headers)


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


# --- Refusals: 4xx JSON naming the problem, nothing saved -----------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"characteristic": "BORE_DIA", "value": "twelve"}, 422, "measurement_invalid", "value"),
        ({"characteristic": "BORE_DIA", "value": "12.7", "unit": "blorps"}, 422, "measurement_invalid", "unit"),
        ({"characteristic": "BORE_DIA", "value": "12.7", "unit": "kg"}, 422, "measurement_invalid", "unit"),
        ({"characteristic": "SURFACE", "value": "maybe"}, 422, "measurement_invalid", "value"),
        ({"characteristic": "NOPE", "value": "1"}, 422, "measurement_invalid", "characteristic"),
        ({"value": "12.7"}, 422, "validation_error", "characteristic"),
        ({}, 422, "validation_error", "characteristic"),
        ({"characteristic": "BORE_DIA", "value": 12.7}, 422, "validation_error", "value"),
        (
            {"characteristic": "BORE_DIA", "value": "12.7", "expected_version": "new"},
            422,
            "validation_error",
            "expected_version",
        ),
        ({"characteristic": "BORE_DIA", "value": "12.7", "source": "telepathy"}, 422, "validation_error", "source"),
        ({"characteristic": "BORE_DIA", "value": "12.7", "units": "mm"}, 422, "validation_error", "units"),
        ({"characteristic": "BORE_DIA", "value": "12.7", "expected_version": 1}, 409, "record_conflict", "version"),
    ],
)
def test_a_bad_value_is_refused_naming_the_field_and_nothing_is_saved(shop, traveler, payload, status, code, field):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    before = records()
    error = assert_error(post(olga, steps_url(traveler, 10, "measurements"), payload), status, code, field)
    assert records() == before
    if code == "validation_error":
        assert error["details"] and error["details"][0]["field"] == field


def test_an_incompatible_unit_says_it_cannot_be_converted(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    r = post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "BORE_DIA", "value": "1", "unit": "kg"})
    assert "cannot be converted to mm" in assert_error(r, 422, "measurement_invalid", "unit")["message"]


def test_malformed_json_is_a_bad_request(shop, traveler):
    r = client_for(shop.operator).post(
        f"/api{steps_url(traveler, 10, 'start')}", "{not json", content_type="application/json"
    )
    assert_error(r, 400, "bad_request")


def test_a_wrong_type_in_the_path_is_refused(shop, traveler):
    assert_error(
        post(client_for(shop.operator), f"/travelers/{traveler.number}/steps/ten/start"),
        422,
        "validation_error",
        "sequence",
    )


def test_a_step_out_of_order_is_a_conflict(shop, traveler):
    olga = client_for(shop.operator)
    before = records()
    error = assert_error(post(olga, steps_url(traveler, 20, "start")), 409, "step_out_of_order", "step")
    assert "waits for step 10" in error["message"]
    assert records() == before
    assert step_of(traveler, 20).status == StepStatus.PENDING


def test_a_held_traveler_refuses_work(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    assert post(olga, f"/travelers/{traveler.number}/hold", {"reason": "waiting for drawing"}).status_code == 201
    before = records()
    r = post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "BORE_DIA", "value": "12.7"})
    assert "waiting for drawing" in assert_error(r, 409, "traveler_held", "traveler")["message"]
    assert_error(post(olga, steps_url(traveler, 30, "start")), 409, "traveler_held")
    assert records() == before


def test_a_closed_traveler_is_read_only(shop, traveler):
    run_to_signoff(shop, traveler)
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    olga = client_for(shop.operator)
    before = records()
    r = post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "BORE_DIA", "value": "12.7"})
    assert "read-only" in assert_error(r, 409, "traveler_not_open", "traveler")["message"]
    assert_error(post(olga, f"/travelers/{traveler.number}/hold", {"reason": "x"}), 409, "traveler_not_open")
    assert_error(post(olga, f"/travelers/{traveler.number}/ncrs", {"description": "x"}), 409, "traveler_not_open")
    assert records() == before


def test_an_unknown_traveler_or_step_is_not_found(shop, traveler):
    olga = client_for(shop.operator)
    before = records()
    assert "T-NOPE" in assert_error(get(olga, "/travelers/T-NOPE"), 404, "not_found", "number")["message"]
    assert_error(post(olga, "/travelers/T-NOPE/steps/10/start"), 404, "not_found", "number")
    assert_error(post(olga, steps_url(traveler, 99, "start")), 404, "not_found", "sequence")
    assert_error(
        post(
            olga, "/measurements/999999/correct", {"value": "1", "reason": "r", "secret": PASSWORD, "username": "olga"}
        ),
        404,
        "not_found",
        "id",
    )
    assert_error(
        post(olga, f"/travelers/{traveler.number}/ncrs", {"description": "x", "step_sequence": 99}),
        404,
        "not_found",
        "step_sequence",
    )
    assert records() == before


def test_a_wrong_secret_is_refused_counted_and_then_locks(shop, traveler):
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "BORE_DIA", "value": "12.7"})
    post(olga, steps_url(traveler, 10, "measurements"), {"characteristic": "SURFACE", "value": "pass"})
    before = {k: v for k, v in records().items() if k != "audit_events"}  # a refusal is itself audited
    r = post(olga, steps_url(traveler, 10, "sign"), {"meaning": "performed", "secret": "guess", "username": "olga"})
    assert "wrong password or PIN" in assert_error(r, 403, "signature_refused", "secret")["message"]
    assert SigningCredential.objects.get(user=shop.operator).failed_attempts == 1
    assert AuditEvent.objects.filter(action="signature.refused", actor=shop.operator).count() == 1
    assert {k: v for k, v in records().items() if k != "audit_events"} == before
    assert step_of(traveler, 10).status == StepStatus.IN_PROGRESS
    r = post(olga, steps_url(traveler, 10, "sign"), {"meaning": "performed", "secret": PASSWORD, "username": "oscar"})
    assert_error(r, 403, "signature_refused", "secret")
    r = post(olga, steps_url(traveler, 10, "sign"), {"meaning": "performed", "secret": "guess", "username": "olga"})
    assert_error(r, 403, "signing_locked", "secret")
    r = post(olga, steps_url(traveler, 10, "sign"), {"meaning": "performed", "secret": PASSWORD, "username": "olga"})
    assert_error(r, 403, "signing_locked", "secret")
    assert SigningCredential.objects.get(user=shop.operator).failed_attempts == 3


@pytest.mark.regulation("21 CFR 11.10(g)")
def test_an_operator_cannot_sign_off_a_traveler(shop, traveler):
    run_to_signoff(shop, traveler)
    before = records()
    r = post(
        client_for(shop.operator),
        f"/travelers/{traveler.number}/signoff",
        {"decision": "approve", "secret": PASSWORD, "username": "olga"},
    )
    assert "not allowed to sign travelers off" in assert_error(r, 403, "not_authorized", "actor")["message"]
    assert records() == before
    assert Traveler.objects.get(pk=traveler.pk).status == TravelerStatus.AWAITING_SIGNOFF


@pytest.mark.regulation("21 CFR 11.10(g)")
def test_the_performer_cannot_inspect_their_own_step(shop, traveler):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.measurement_record(step=step_of(traveler, 20), characteristic="TORQUE", value="25", actor=shop.operator)
    services.step_perform(
        step=step_of(traveler, 20), actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username()
    )
    r = post(
        client_for(shop.operator),
        steps_url(traveler, 20, "sign"),
        {"meaning": "inspected", "secret": PASSWORD, "username": "olga"},
    )
    assert_error(r, 403, "not_authorized")
    r = post(
        client_for(shop.inspector),
        steps_url(traveler, 20, "sign"),
        {"meaning": "signed", "secret": PASSWORD, "username": "ines"},
    )
    assert_error(r, 422, "validation_error", "meaning")


def test_a_rejection_at_signoff_returns_the_ncr_that_holds_the_traveler(shop, traveler):
    run_to_signoff(shop, traveler)
    ines = client_for(shop.inspector)
    assert_error(
        post(
            ines,
            f"/travelers/{traveler.number}/signoff",
            {"decision": "reject", "secret": PASSWORD, "username": "ines"},
        ),
        409,
        "step_state_refused",
        "reason",
    )
    r = post(
        ines,
        f"/travelers/{traveler.number}/signoff",
        {"decision": "reject", "reason": "paint run", "secret": PASSWORD, "username": "ines"},
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["signature"]["meaning"] == "rejected" and body["traveler"]["on_hold"] is True
    assert body["ncr"] == Nonconformance.objects.get(traveler=traveler).number


# --- Authentication -----------------------------------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.10(d)")
def test_without_credentials_the_api_answers_401(shop, traveler):
    anonymous = Client()
    before = records()
    assert_error(get(anonymous, f"/travelers/{traveler.number}"), 401, "not_authenticated")
    assert_error(post(anonymous, steps_url(traveler, 10, "start")), 401, "not_authenticated")
    assert_error(post(Client(enforce_csrf_checks=True), steps_url(traveler, 10, "start")), 401, "not_authenticated")
    assert_error(
        get(anonymous, f"/travelers/{traveler.number}", HTTP_AUTHORIZATION="Bearer trv_forged"),
        401,
        "not_authenticated",
    )
    assert records() == before


def test_a_bearer_token_authenticates_without_csrf(shop, traveler):
    _, key = api_token_issue(user=shop.operator, name="line-3 tablet")
    bearer = Client(enforce_csrf_checks=True)
    r = get(bearer, f"/travelers/{traveler.number}", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200, r.content
    r = post(bearer, steps_url(traveler, 10, "start"), HTTP_AUTHORIZATION=f"Bearer {key}")
    assert r.status_code == 200, r.content
    assert step_of(traveler, 10).started_by == shop.operator
    assert AuditEvent.objects.filter(action="step.started", actor=shop.operator).exists()


def test_a_session_post_needs_the_csrf_token(shop, traveler):
    olga = client_for(shop.operator, enforce_csrf_checks=True)
    before = records()
    assert_error(post(olga, steps_url(traveler, 10, "start")), 403, "csrf_failed")
    assert records() == before
    assert get(olga, f"/travelers/{traveler.number}").status_code == 200  # reads need no token
    olga.get("/admin/login/")  # any page that sets the CSRF cookie
    token = olga.cookies["csrftoken"].value
    assert post(olga, steps_url(traveler, 10, "start"), HTTP_X_CSRFTOKEN=token).status_code == 200


def test_reading_needs_the_view_permission(shop, traveler, django_user_model):
    nobody = django_user_model.objects.create_user("nobody", password=PASSWORD)
    assert_error(get(client_for(nobody), f"/travelers/{traveler.number}"), 403, "permission_denied")


# --- OpenAPI --------------------------------------------------------------------------------------------


def test_the_openapi_schema_lists_the_endpoints(db):
    r = Client().get("/api/openapi.json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["info"] == {**schema["info"], "title": "Traveler API", "version": "1"}
    paths = schema["paths"]
    for path in (
        "/api/work-centers/{site}/{code}/travelers",
        "/api/travelers/{number}",
        "/api/travelers/{number}/steps/{sequence}/start",
        "/api/travelers/{number}/steps/{sequence}/measurements",
        "/api/measurements/{id}/correct",
        "/api/travelers/{number}/steps/{sequence}/sign",
        "/api/travelers/{number}/steps/{sequence}/skip",
        "/api/travelers/{number}/hold",
        "/api/holds/{id}/release",
        "/api/travelers/{number}/ncrs",
        "/api/ncrs/{number}/disposition",
        "/api/travelers/{number}/steps/{sequence}/components",
        "/api/consumptions/{id}/remove",
        "/api/travelers/{number}/signoff",
        "/api/travelers/{number}/steps/{sequence}/attachments",
        "/api/work-orders/{number}/travelers",
    ):
        assert path in paths, path
    assert "422" in paths["/api/travelers/{number}/steps/{sequence}/measurements"]["post"]["responses"]
    assert {"TokenAuth", "SessionCsrfAuth"} <= set(schema["components"]["securitySchemes"])
    assert Client().get("/api/docs").status_code == 200


# --- Query counts ----------------------------------------------------------------------------------------------


def test_traveler_detail_queries_do_not_grow_with_its_steps(shop, django_assert_num_queries):
    small = long_traveler(shop, 5, "SMALL-1", worked=2)
    large = long_traveler(shop, 50, "LARGE-1", worked=20)
    olga = client_for(shop.operator)
    get(olga, f"/travelers/{small.number}")  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as small_queries:
        r = get(olga, f"/travelers/{small.number}")
    assert r.status_code == 200 and len(r.json()["steps"]) == 5
    with django_assert_num_queries(len(small_queries.captured_queries)):
        r = get(olga, f"/travelers/{large.number}")
    body = r.json()
    assert r.status_code == 200 and len(body["steps"]) == 50
    assert sum(len(s["measurements"]) for s in body["steps"]) == 22
    assert len(body["holds"]) == 2 and len(body["ncrs"]) == 1


def test_work_center_queue_queries_do_not_grow_with_its_travelers(shop, django_assert_num_queries):
    olga = client_for(shop.operator)
    services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    get(olga, "/work-centers/WIC/CELL-1/travelers")
    with CaptureQueriesContext(connection) as one:
        assert len(get(olga, "/work-centers/WIC/CELL-1/travelers").json()["travelers"]) == 1
    for n in range(2, 6):
        t = services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
        services.step_start(step=step_of(t, 10), actor=shop.operator)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(get(olga, "/work-centers/WIC/CELL-1/travelers").json()["travelers"]) == 5


@pytest.mark.regulation("21 CFR 11.10(h)")
def test_a_typed_value_cannot_claim_to_come_from_a_gauge(shop, traveler):
    """21 CFR 11.10(h): source=device only from the server's own gauge read, never typed or sent in."""
    olga = client_for(shop.operator)
    post(olga, steps_url(traveler, 10, "start"))
    before = records()
    r = post(
        olga,
        steps_url(traveler, 10, "measurements"),
        {"characteristic": "BORE_DIA", "value": "12.700", "source": "device", "device": "ns=2;s=Bore.Diameter"},
    )
    assert "read by the server" in assert_error(r, 422, "measurement_invalid", "source")["message"]
    assert records() == before
