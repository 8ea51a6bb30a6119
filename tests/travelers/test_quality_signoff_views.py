"""The quality sign-off: the approve and reject dialogs, signed with the password or PIN, the
manifestation shown after, and why a traveler cannot be signed yet."""

from __future__ import annotations

import pytest

from mes.compliance.models import Signature, SigningCredential
from tests.travelers.conftest import PASSWORD, run_to_signoff
from tests.travelers.quality_support import field_group, signed_in
from travelers import records, services
from travelers.states import NcrStatus, TravelerStatus

pytestmark = pytest.mark.django_db


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
