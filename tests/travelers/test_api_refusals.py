"""The JSON API under /api/ refuses: 4xx JSON that names the problem (and the field), and saves nothing."""

from __future__ import annotations

import pytest

from mes.compliance.models import AuditEvent, SigningCredential
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from tests.travelers.support import assert_error, client_for, get, post, records, steps_url
from travelers import services
from travelers.models import Nonconformance, Traveler
from travelers.states import StepStatus, TravelerStatus

pytestmark = pytest.mark.django_db


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
