"""Signing on the traveler screen — a step performed or inspected, a value corrected — with the password
or PIN, the user id at the session's first signing, and the manifestation shown after (21 CFR 11.50,
11.200), with and without htmx."""

from __future__ import annotations

import re

import pytest

from mes.compliance.models import Signature, SigningCredential
from tests.travelers.conftest import PASSWORD, do_step, step_of
from tests.travelers.support import HX, started, station_client, step_path, text
from travelers import services
from travelers.models import Measurement
from travelers.states import StepStatus

pytestmark = pytest.mark.django_db


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


# --- Corrections ------------------------------------------------------------------------------------------


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
