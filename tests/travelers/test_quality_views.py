"""Quality screens: the sign-off queue, the review of a traveler (out-of-spec values, corrections and NCRs
first, then every signature, verified), the signed approval or rejection, and NCR dispositions."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import Signature, SigningCredential
from tests.factories import UserFactory
from tests.tampering import as_superuser
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from tests.travelers.support import long_traveler
from travelers import records, services
from travelers.models import Nonconformance, Traveler, TravelerStep
from travelers.states import NcrStatus, TravelerStatus

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)  # django-axes is installed: never client.login
    return client


def worked(shop, traveler) -> Traveler:
    """A traveler awaiting sign-off with a corrected value, a warned out-of-spec value and a
    dispositioned NCR, so the review has something in every section."""
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    first = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.710", actor=shop.operator)
    services.measurement_correct(
        measurement=first,
        value="12.701",
        reason="digits transposed",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    do_step(shop, traveler, 20, {"TORQUE": ("28.0", "N*m")})  # out of spec, warn only
    do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    do_step(shop, traveler, 40, {})
    ncr = services.ncr_raise(traveler=traveler, description="scuff on the flange", actor=shop.operator)
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="cosmetic only",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF
    return traveler


def out_of_spec_ncr(shop, traveler) -> Nonconformance:
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.750", actor=shop.operator)
    return Nonconformance.objects.get(traveler=traveler)


def field_group(html: str, field_id: str) -> str:
    """The HTML from the label of `field_id` to its input: where the field's own errors are shown."""
    match = re.search(rf'<label[^>]*for="{field_id}".*?<input[^>]*id="{field_id}"[^>]*>', html, re.S)
    assert match, f"no field {field_id} in the page"
    return match.group(0)


# --- The queue ----------------------------------------------------------------------------------------------


def test_the_queue_lists_travelers_awaiting_approval_and_ncrs_awaiting_disposition(shop, traveler, client):
    run_to_signoff(shop, traveler)
    other = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    ncr = out_of_spec_ncr(shop, other)
    r = signed_in(client, shop.inspector).get("/quality/")
    assert r.status_code == 200
    html = r.content.decode()
    assert traveler.number in html and f"/quality/travelers/{traveler.number}/" in html
    assert ncr.number in html and f"/quality/ncrs/{ncr.number}/" in html
    assert other.number in html  # the NCR row names its traveler


def test_the_queue_refresh_returns_only_the_lists(shop, traveler, client):
    run_to_signoff(shop, traveler)
    r = signed_in(client, shop.inspector).get("/quality/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert b"<html" not in r.content and traveler.number.encode() in r.content


def test_queue_queries_do_not_grow_with_the_travelers_waiting(shop, client, django_assert_num_queries):
    signed_in(client, shop.inspector)
    first = services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    run_to_signoff(shop, first)
    out_of_spec_ncr(shop, services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor))
    client.get("/quality/")
    with CaptureQueriesContext(connection) as one:
        client.get("/quality/")
    for n in (3, 4):
        run_to_signoff(
            shop, services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
        )
    out_of_spec_ncr(shop, services.traveler_release(work_order=shop.order, identifier="SN-0005", actor=shop.supervisor))
    with django_assert_num_queries(len(one.captured_queries)):
        r = client.get("/quality/")
    assert r.content.decode().count("/quality/travelers/T-") == 3


# --- Access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/quality/"),
        ("get", "/quality/travelers/{t}/"),
        ("get", "/quality/travelers/{t}/signatures/"),
        ("get", "/quality/travelers/{t}/signoff/?decision=approve"),
        ("post", "/quality/travelers/{t}/signoff/"),
        ("get", "/quality/ncrs/{n}/"),
        ("post", "/quality/ncrs/{n}/"),
    ],
)
@pytest.mark.regulation("21 CFR 11.10(d)", "21 CFR 11.10(g)")
def test_an_operator_is_refused_every_quality_page(shop, traveler, client, method, path):
    ncr = out_of_spec_ncr(shop, traveler)
    url = path.format(t=traveler.number, n=ncr.number)
    r = getattr(signed_in(client, shop.operator), method)(url, {"decision": "approve", "secret": PASSWORD})
    assert r.status_code == 403
    assert (
        Signature.objects.exclude(record_type="masterdata.routingchange")
        .filter(meaning__in=["approved", "dispositioned"])
        .count()
        == 0
    )


def test_signing_in_is_asked_first(shop, traveler, client):
    r = client.get(f"/quality/travelers/{traveler.number}/")
    assert r.status_code == 302
    assert r["Location"].startswith("/station/login/?next=/quality/travelers/")


def test_an_unknown_traveler_or_ncr_is_not_found(shop, client):
    signed_in(client, shop.inspector)
    assert client.get("/quality/travelers/T-9999999/").status_code == 404
    assert client.get("/quality/travelers/T-9999999/signatures/").status_code == 404
    assert client.post("/quality/travelers/T-9999999/signoff/", {"secret": PASSWORD}).status_code == 404
    assert client.get("/quality/ncrs/NCR-999999/").status_code == 404


def test_an_inspector_without_disposition_right_still_reviews(shop, traveler, client):
    """The queue shows what the user may act on: sign-off only, here."""
    run_to_signoff(shop, traveler)
    signer = UserFactory(username="quinn")
    signer.user_permissions.add(*Group.objects.get(name="Inspector").permissions.exclude(codename="disposition_ncr"))
    r = signed_in(client, signer).get("/quality/")
    assert r.status_code == 200 and traveler.number.encode() in r.content
    assert b"Nonconformances awaiting disposition" not in r.content


# --- The review ---------------------------------------------------------------------------------------------


def test_the_review_puts_out_of_spec_values_corrections_and_ncrs_before_the_signatures(shop, traveler, client):
    traveler = worked(shop, traveler)
    r = signed_in(client, shop.inspector).get(f"/quality/travelers/{traveler.number}/")
    assert r.status_code == 200
    html = r.content.decode()
    order = [html.index(f'id="{section}"') for section in ("out-of-spec", "corrections", "ncrs", "signatures")]
    assert order == sorted(order)
    out_of_spec = html[order[0] : order[1]]
    assert "TORQUE" in out_of_spec and "28.0" in out_of_spec
    corrections = html[order[1] : order[2]]
    assert '<del class="superseded">12.710 mm</del>' in corrections
    assert "12.701" in corrections and "digits transposed" in corrections
    assert "Olga Smith" in corrections and "Corrected" in corrections  # who, and the signature's meaning
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[SD]T", corrections)  # when, at the Wichita site
    assert " UTC" in corrections
    ncrs = html[order[2] : order[3]]
    assert "scuff on the flange" in ncrs and "Use as is" in ncrs and "cosmetic only" in ncrs


@pytest.mark.regulation("21 CFR 11.50")
def test_the_review_lists_every_signature_with_name_meaning_and_both_times(shop, traveler, client):
    traveler = worked(shop, traveler)
    html = signed_in(client, shop.inspector).get(f"/quality/travelers/{traveler.number}/").content.decode()
    section = html[html.index('id="signatures"') : html.index('id="steps"')]
    record = records.traveler_record(traveler)
    # 4 performed, 1 inspected, 1 correction and its co-signature, 1 disposition "use as is" (which also
    # released the NCR's hold) and engineering's signature of it (material review board)
    assert len(record["signatures"]) == 9
    assert {"cosigned", "engineering_approved"} <= {s["meaning"] for s in record["signatures"]}
    for sig in record["signatures"]:
        assert sig["printed_name"] in section
        assert sig["meaning_display"] in section
        assert records.site_time(sig["signed_at"], "America/Chicago") in section
        assert records.utc_time(sig["signed_at"]) in section
    # the flags come from their own request, which the page loads (and links to, without JavaScript)
    assert f'hx-get="/quality/travelers/{traveler.number}/signatures/"' in section
    assert f'href="/quality/travelers/{traveler.number}/signatures/"' in section


@pytest.mark.regulation("21 CFR 11.70", "AC 120-78B signatures")
def test_signatures_are_verified_and_an_altered_record_shows_broken(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    signed_in(client, shop.inspector)
    url = f"/quality/travelers/{traveler.number}/signatures/"
    r = client.get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"<html" not in r.content
    html = r.content.decode()
    assert html.count(">verified<") == 5 and ">BROKEN<" not in html
    # Someone with full database rights edits a signed step behind the application's back (the guards
    # refuse it to anyone else): its signatures no longer match.
    as_superuser(
        "UPDATE travelers_travelerstep SET title = 'Torque the lid' WHERE traveler_id = %s AND sequence = 20",
        [traveler.pk],
    )
    html = client.get(url).content.decode()
    assert "<html" in html  # without htmx, a page of its own
    assert html.count(">BROKEN<") == 2 and html.count(">verified<") == 3  # step 20: performed and inspected


def test_review_queries_do_not_grow_with_the_steps(shop, client, django_assert_num_queries):
    small = long_traveler(shop, 5, "SMALL-1", worked=2)
    large = long_traveler(shop, 50, "LARGE-1", worked=20)
    signed_in(client, shop.inspector)
    client.get(f"/quality/travelers/{small.number}/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as small_queries:
        r = client.get(f"/quality/travelers/{small.number}/")
    assert r.status_code == 200
    with django_assert_num_queries(len(small_queries.captured_queries)):
        r = client.get(f"/quality/travelers/{large.number}/")
    assert r.status_code == 200
    assert r.content.decode().count(">Performed<") == 2 * 20  # in the signature list and beside each step


# --- Approve and reject -------------------------------------------------------------------------------------


def test_the_dialogs_state_their_meaning_and_ask_for_the_secret(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    html = signed_in(client, shop.inspector).get(f"/quality/travelers/{traveler.number}/").content.decode()
    assert '<dialog id="approve-dialog"' in html and '<dialog id="reject-dialog"' in html
    assert "I approve this traveler" in html and "I reject this traveler" in html
    assert 'id="id_approve_secret"' in html and 'type="password"' in html
    assert 'id="id_approve_username"' in html  # the first signing of a session asks the user id too
    # each opener is a real link to the same form on its own page
    assert f'href="/quality/travelers/{traveler.number}/signoff/?decision=approve"' in html
    r = client.get(f"/quality/travelers/{traveler.number}/signoff/?decision=reject")
    assert r.status_code == 200 and b"I reject this traveler" in r.content and b'id="id_reject_reason"' in r.content


def test_approving_with_the_right_secret_closes_the_traveler_and_shows_the_manifestation(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    signed_in(client, shop.inspector)
    r = client.post(
        f"/quality/travelers/{traveler.number}/signoff/",
        {"decision": "approve", "username": "ines", "secret": PASSWORD},
    )
    assert r.status_code == 302 and r["Location"] == f"/quality/travelers/{traveler.number}/"
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.CLOSED
    signature = traveler.final_signature
    assert signature.printed_name == "Ines Smith" and signature.meaning == "approved"
    html = client.get(r["Location"]).content.decode()
    assert signature.manifestation in html  # the message: name — meaning — UTC time
    decision = html[html.index('id="decision"') : html.index('id="out-of-spec"')]
    assert "Ines Smith" in decision and "Approved" in decision
    assert records.site_time(signature.signed_at, "America/Chicago") in decision
    assert records.utc_time(signature.signed_at) in decision
    assert "<dialog" not in html  # nothing more to sign
    # the next signing of the session asks the secret only
    assert 'name="username"' not in client.get(f"/quality/travelers/{traveler.number}/signoff/").content.decode()


def test_approving_from_the_dialog_redirects_the_whole_page(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    r = signed_in(client, shop.inspector).post(
        f"/quality/travelers/{traveler.number}/signoff/",
        {"decision": "approve", "username": "ines", "secret": PASSWORD},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 200 and r["HX-Redirect"] == f"/quality/travelers/{traveler.number}/"
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.CLOSED


def test_a_wrong_secret_is_shown_beside_the_field_and_counted(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    signed_in(client, shop.inspector)
    r = client.post(
        f"/quality/travelers/{traveler.number}/signoff/",
        {"decision": "approve", "username": "ines", "secret": "not-my-password"},
        HTTP_HX_REQUEST="true",
    )
    assert r.status_code == 403
    html = r.content.decode()
    assert "<html" not in html and 'id="signoff-approve"' in html  # the dialog's form, to swap in place
    group = field_group(html, "id_approve_secret")
    assert "wrong password or PIN (2 attempts left)" in group
    assert 'aria-invalid="true"' in group
    assert SigningCredential.objects.get(user=shop.inspector).failed_attempts == 1
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF and traveler.final_signature is None
    # without htmx: the signing page, the same error beside the same field
    r = client.post(
        f"/quality/travelers/{traveler.number}/signoff/",
        {"decision": "approve", "username": "ines", "secret": "still-wrong"},
    )
    assert r.status_code == 403 and b"<html" in r.content
    assert "1 attempt left" in field_group(r.content.decode(), "id_approve_secret")
    assert SigningCredential.objects.get(user=shop.inspector).failed_attempts == 2


def test_a_user_id_that_is_not_yours_is_refused_beside_the_secret(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    r = signed_in(client, shop.inspector).post(
        f"/quality/travelers/{traveler.number}/signoff/",
        {"decision": "approve", "username": "olga", "secret": PASSWORD},
    )
    assert r.status_code == 403
    assert "not the signed-in user" in field_group(r.content.decode(), "id_approve_secret")
    assert SigningCredential.objects.get(user=shop.inspector).failed_attempts == 1


def test_a_rejection_needs_a_reason_and_then_raises_an_ncr(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    signed_in(client, shop.inspector)
    url = f"/quality/travelers/{traveler.number}/signoff/"
    r = client.post(url, {"decision": "reject", "username": "ines", "secret": PASSWORD})
    assert r.status_code == 422
    assert "Say why the traveler is rejected." in r.content.decode()
    assert 'id="id_reject_reason"' in r.content.decode()
    assert not Signature.objects.filter(meaning="rejected").exists()
    r = client.post(url, {"decision": "reject", "reason": "marking illegible", "username": "ines", "secret": PASSWORD})
    assert r.status_code == 302
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.ACTIVE and traveler.on_hold
    ncr = traveler.ncrs.get(status=NcrStatus.OPEN)
    html = client.get(r["Location"]).content.decode()
    assert ncr.number in html and "Rejected" in html and "marking illegible" in html


def test_a_traveler_with_an_open_ncr_cannot_be_signed_and_says_why(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    services.ncr_raise(traveler=traveler, description="dent", actor=shop.operator)
    signed_in(client, shop.inspector)
    html = client.get(f"/quality/travelers/{traveler.number}/").content.decode()
    assert "<dialog" not in html and "Every nonconformance must be dispositioned first." in html
    r = client.post(
        f"/quality/travelers/{traveler.number}/signoff/",
        {"decision": "approve", "username": "ines", "secret": PASSWORD},
    )
    assert r.status_code == 409
    assert "on hold" in r.content.decode()
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF


# --- NCR disposition ----------------------------------------------------------------------------------------


def disposition_data(**fields) -> dict:
    data = {
        "disposition": "rework",
        "notes": "re-bore to size",
        "username": "ines",
        "secret": PASSWORD,
        "rework-TOTAL_FORMS": "2",
        "rework-INITIAL_FORMS": "0",
        "rework-MIN_NUM_FORMS": "0",
        "rework-MAX_NUM_FORMS": "20",
        "rework-0-operation": "MACHINING",
        "rework-0-title": "Re-bore the housing",
        "rework-0-instructions": "Bore to 12.700 mm",
        "rework-0-work_center": "CELL-1",
        "rework-1-operation": "",
        "rework-1-title": "",
        "rework-1-instructions": "",
        "rework-1-work_center": "",
    }
    data.update(fields)
    return data


def test_the_disposition_form_offers_dispositions_operations_and_work_centers(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    r = signed_in(client, shop.inspector).get(f"/quality/ncrs/{ncr.number}/")
    assert r.status_code == 200
    html = r.content.decode()
    for value in ("use_as_is", "rework", "repair", "scrap", "rtv"):
        assert f'value="{value}"' in html
    assert 'value="MACHINING"' in html and 'value="CELL-1"' in html
    assert 'name="rework-1-title"' in html and 'type="password"' in html
    assert "I disposition this nonconformance" in html
    assert ncr.description in html and "12.750" in html


def test_a_rework_disposition_adds_the_steps_and_releases_the_hold(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    signed_in(client, shop.inspector)
    r = client.post(f"/quality/ncrs/{ncr.number}/", disposition_data())
    assert r.status_code == 302 and r["Location"] == f"/quality/travelers/{traveler.number}/"
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.CLOSED and ncr.disposition == "rework"
    assert ncr.disposition_signature.printed_name == "Ines Smith"
    added = list(traveler.steps.filter(origin=TravelerStep.Origin.REWORK))
    assert [(s.sequence, s.title, s.operation.code, s.work_center.code) for s in added] == [
        (11, "Re-bore the housing", "MACHINING", "CELL-1")
    ]
    assert added[0].characteristics.get().code == "BORE_DIA"  # measured again
    traveler.refresh_from_db()
    assert not traveler.on_hold
    html = client.get(r["Location"]).content.decode()
    assert "Rework steps added: 11." in html and ncr.disposition_signature.manifestation in html


def test_a_bad_rework_row_is_shown_beside_its_field(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    signed_in(client, shop.inspector)
    data = disposition_data(**{"rework-0-title": "", "rework-1-operation": "ASSEMBLY", "rework-1-title": "Refit"})
    r = client.post(f"/quality/ncrs/{ncr.number}/", data, HTTP_HX_REQUEST="true")
    assert r.status_code == 409
    html = r.content.decode()
    assert "<html" not in html and 'id="ncr-form"' in html
    assert "each rework step needs a title" in re.search(
        r'<label[^>]*for="id_rework-0-title".*?</textarea>', html, re.S
    ).group(0)
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN and not traveler.steps.filter(origin="rework").exists()


def test_a_rework_without_steps_says_so_above_the_rows(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    data = disposition_data(**{"rework-0-operation": "", "rework-0-title": "", "rework-0-instructions": ""})
    r = signed_in(client, shop.inspector).post(f"/quality/ncrs/{ncr.number}/", data)
    assert r.status_code == 409
    assert 'id="rework-error">a rework or repair needs at least one step<' in r.content.decode()


def test_a_wrong_secret_on_a_disposition_is_beside_the_secret_and_counted(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    r = signed_in(client, shop.inspector).post(f"/quality/ncrs/{ncr.number}/", disposition_data(secret="nope"))
    assert r.status_code == 403
    assert "wrong password or PIN" in field_group(r.content.decode(), "id_secret")
    assert SigningCredential.objects.get(user=shop.inspector).failed_attempts == 1
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN


def use_as_is(**fields) -> dict:
    data = disposition_data(disposition="use_as_is", notes="within the drawing's general tolerance", **fields)
    return {k: v for k, v in data.items() if not k.startswith("rework-0-")} | {"rework-TOTAL_FORMS": "0"}


@pytest.mark.regulation("21 CFR 11.10(g)")
def test_use_as_is_by_quality_alone_is_refused_beside_the_engineers_fields(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    inspector = signed_in(client, shop.inspector)

    r = inspector.post(f"/quality/ncrs/{ncr.number}/", use_as_is())

    assert r.status_code == 403
    assert "is a material review board decision" in field_group(r.content.decode(), "id_mrb_username")
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN and ncr.mrb_signature is None

    r = inspector.post(f"/quality/ncrs/{ncr.number}/", use_as_is(mrb_username="ines", mrb_secret=PASSWORD))
    assert r.status_code == 403 and "someone else than you" in field_group(r.content.decode(), "id_mrb_username")

    badge = shop.engineer.profile.employee_number  # the engineer scans their badge
    r = inspector.post(f"/quality/ncrs/{ncr.number}/", use_as_is(mrb_username=badge, mrb_secret=PASSWORD))
    assert r.status_code == 302
    ncr.refresh_from_db()
    assert ncr.mrb_signature.signer == shop.engineer
    assert (ncr.disposition_signature.signer, ncr.disposition) == (shop.inspector, "use_as_is")


def test_adding_a_rework_row_keeps_what_was_typed(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    r = signed_in(client, shop.inspector).post(f"/quality/ncrs/{ncr.number}/", disposition_data(add_row="1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="rework-2-title"' in html and "Re-bore the housing" in html and "re-bore to size" in html
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN


def test_a_dispositioned_ncr_shows_its_signed_disposition(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="within drawing note 4",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    html = signed_in(client, shop.inspector).get(f"/quality/ncrs/{ncr.number}/").content.decode()
    assert 'id="ncr-form"' not in html
    assert "Use as is" in html and "within drawing note 4" in html and "Ines Smith" in html and "Dispositioned" in html
