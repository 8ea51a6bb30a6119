"""A tablet stands at a work center: a step routed to another one is neither started nor recorded from there
unless a supervisor at the tablet allows it (signed, audited). The API obeys the same rule when the client
says where it acts from, and checks nothing when it does not (as before the rule)."""

from __future__ import annotations

import pytest

from mes.compliance.errors import SignatureRefused
from mes.compliance.models import AuditEvent, Signature
from mes.compliance.signing import signature_verify
from tests.factories import SiteFactory, WorkCenterFactory
from tests.travelers.conftest import PASSWORD, step_of
from tests.travelers.support import HX, assert_error, client_for, post, records, station_client, step_path, text
from travelers import services
from travelers.errors import NotAuthorized, StepStateRefused, WrongWorkCenter
from travelers.models import WorkCenterOverride

pytestmark = pytest.mark.django_db


@pytest.fixture
def lathe(shop):
    """Another work center of the shop's site; every step of the shop's routing is at CELL-1."""
    return WorkCenterFactory(site=shop.site, code="LATHE-01")


def allow(shop, traveler, station, sequence=10, **kwargs):
    args = {
        "supervisor_username": shop.supervisor.get_username(),
        "supervisor_secret": PASSWORD,
        "reason": "CELL-1 is down for maintenance",
    }
    return services.work_center_override(
        step=step_of(traveler, sequence), station=station, actor=shop.operator, **{**args, **kwargs}
    )


# --- The service rule --------------------------------------------------------------------------------------


def test_a_step_is_not_started_from_another_work_center(shop, traveler, lathe):
    with pytest.raises(WrongWorkCenter) as refused:
        services.step_start(step=step_of(traveler, 10), actor=shop.operator, station=lathe)
    assert refused.value.field == "work_center"
    assert "worked at WIC/CELL-1, not at WIC/LATHE-01" in refused.value.message
    assert step_of(traveler, 10).status == "pending"


def test_its_own_work_center_and_no_station_at_all_start_it(shop, traveler):
    assert services.step_start(step=step_of(traveler, 10), actor=shop.operator, station=shop.wc).status == (
        "in_progress"
    )
    assert services.step_start(step=step_of(traveler, 30), actor=shop.operator).status == "in_progress"


def test_values_are_not_recorded_from_another_work_center(shop, traveler, lathe):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator, station=shop.wc)
    before = records()
    with pytest.raises(WrongWorkCenter):
        services.measurement_record(
            step=step, characteristic="BORE_DIA", value="12.7", unit="mm", actor=shop.operator, station=lathe
        )
    with pytest.raises(WrongWorkCenter):
        services.measurement_record_batch(
            step=step,
            values=[services.ValueEntry(characteristic="BORE_DIA", value="12.7", unit="mm")],
            actor=shop.operator,
            station=lathe,
        )
    assert records() == before


def test_a_supervisor_allows_the_step_at_this_station_signed_and_audited(shop, traveler, lathe):
    override = allow(shop, traveler, lathe)
    assert override.work_center == lathe and override.granted_by == shop.supervisor
    assert override.asked_by == shop.operator
    sig = override.signature
    assert sig.signer == shop.supervisor and sig.meaning == Signature.Meaning.COSIGNED
    assert sig.record_type == "travelers.step" and signature_verify(sig)
    assert "worked at WIC/LATHE-01 instead of WIC/CELL-1" in sig.comment
    event = AuditEvent.objects.get(action="step.work_center_overridden")
    assert event.actor == shop.supervisor and event.reason == "CELL-1 is down for maintenance"
    assert event.changes["work_center"] == ["WIC/CELL-1", "WIC/LATHE-01"]
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator, station=lathe)
    m = services.measurement_record(
        step=step, characteristic="BORE_DIA", value="12.7", unit="mm", actor=shop.operator, station=lathe
    )
    assert m.judgment == "in_spec"
    # only that step, only at that station
    mill = WorkCenterFactory(site=shop.site, code="MILL-05")
    with pytest.raises(WrongWorkCenter):
        services.measurement_record(
            step=step, characteristic="SURFACE", value="pass", actor=shop.operator, station=mill
        )
    with pytest.raises(WrongWorkCenter):
        services.step_start(step=step_of(traveler, 30), actor=shop.operator, station=lathe)


def test_an_override_needs_a_supervisor_their_secret_and_a_reason(shop, traveler, lathe):
    before = records()
    with pytest.raises(SignatureRefused):
        allow(shop, traveler, lathe, supervisor_secret="wrong")
    with pytest.raises(NotAuthorized):
        allow(shop, traveler, lathe, supervisor_username=shop.operator2.get_username())
    with pytest.raises(NotAuthorized):
        allow(shop, traveler, lathe, supervisor_username="", supervisor_secret="")
    with pytest.raises(StepStateRefused) as refused:
        allow(shop, traveler, lathe, reason="  ")
    assert refused.value.field == "reason"
    with pytest.raises(StepStateRefused):
        allow(shop, traveler, shop.wc)  # its own work center needs no leave
    elsewhere = WorkCenterFactory(site=SiteFactory(code="TLS"), code="LATHE-01")
    with pytest.raises(StepStateRefused) as refused:
        allow(shop, traveler, elsewhere)
    assert "is not at WIC" in refused.value.message
    assert not WorkCenterOverride.objects.exists()
    assert records()["measurements"] == before["measurements"]
    allow(shop, traveler, lathe)
    with pytest.raises(StepStateRefused):
        allow(shop, traveler, lathe)  # once is enough
    assert WorkCenterOverride.objects.count() == 1


# --- The API -----------------------------------------------------------------------------------------------


def test_the_api_obeys_the_rule_when_it_says_where_it_acts_from(shop, traveler, lathe):
    client = client_for(shop.operator)
    path = f"/travelers/{traveler.number}/steps/10/start"
    assert_error(post(client, path, {"work_center": "WIC/LATHE-01"}), 409, "wrong_work_center", "work_center")
    assert_error(post(client, path, {"work_center": "NOPE"}), 422, "unknown_work_center", "work_center")
    assert step_of(traveler, 10).status == "pending"
    assert post(client, path, {"work_center": "CELL-1"}).status_code == 200  # the traveler's site is implied
    value = {"characteristic": "BORE_DIA", "value": "12.7", "unit": "mm"}
    path = f"/travelers/{traveler.number}/steps/10/measurements"
    assert_error(post(client, path, {**value, "work_center": "WIC/LATHE-01"}), 409, "wrong_work_center")
    batch = {"values": [value], "work_center": "WIC/LATHE-01"}
    assert_error(post(client, path + "/batch", batch), 409, "wrong_work_center")
    assert post(client, path, value).status_code == 201  # no station named: not checked


# --- The tablet ------------------------------------------------------------------------------------------


def test_the_tablet_warns_and_refuses_then_a_supervisor_allows_it_here(shop, traveler, lathe):
    tablet = station_client(shop.operator, "WIC/LATHE-01")
    page = text(tablet.get(step_path(traveler, 10)))
    assert "This step is worked at CELL-1, not here at LATHE-01." in page
    assert "Start step 10" not in page
    version = {"expected_version": step_of(traveler, 10).version}
    response = tablet.post(step_path(traveler, 10, "start/"), version, **HX)
    assert response.status_code == 409 and "take the part there, or ask a supervisor" in text(response)
    assert step_of(traveler, 10).status == "pending"

    wrong = {"supervisor_username": shop.supervisor.profile.employee_number, "supervisor_secret": "nope", "reason": "x"}
    response = tablet.post(step_path(traveler, 10, "work-center/"), wrong, **HX)
    assert response.status_code == 403 and 'id="work-center-check"' in response.content.decode()
    response = tablet.post(
        step_path(traveler, 10, "work-center/"), {**wrong, "supervisor_secret": PASSWORD, "reason": ""}
    )
    assert response.status_code == 422
    assert not WorkCenterOverride.objects.exists()

    response = tablet.post(
        step_path(traveler, 10, "work-center/"), {**wrong, "supervisor_secret": PASSWORD, "reason": "CELL-1 down"}
    )
    assert response.status_code == 302
    page = text(tablet.get(step_path(traveler, 10)))
    assert "may be worked here at LATHE-01" in page and "allowed here by" in page and "Start step 10" in page
    assert tablet.post(step_path(traveler, 10, "start/"), version).status_code == 302  # the override left it as it was
    assert step_of(traveler, 10).status == "in_progress"


def test_the_tablet_at_the_steps_own_work_center_shows_no_warning(shop, traveler):
    page = text(station_client(shop.operator).get(step_path(traveler, 10)))
    assert "not here at" not in page and "Start step 10" in page
