"""People's credentials in a real browser: an administrator who sets an operator's password cannot sign
as her (she must choose her own first, at the tablet), and a supervisor unlocks a locked signer with a
reason and their own signature."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from mes.compliance.errors import SignatureRefused
from mes.compliance.models import AuditEvent, SigningCredential, SigningUnlock
from mes.compliance.signing import signature_verify, signing_authenticate
from tests.factories import UserFactory
from tests.travelers.conftest import PASSWORD

from .screens import LANDSCAPE, PORTRAIT, assert_fits, badge_of, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.regulation("21 CFR 11.300(b)", "21 CFR 11.300(d)", "21 CFR 11.10(d)")]

ADMIN_SET = "Admin-chose-2026!"
HER_OWN = "Olga-chose-2026!"
HER_PIN = "582914"


def test_a_password_an_administrator_set_must_be_replaced_before_its_owner_signs(new_page, shop):
    admin_user = UserFactory(username="ada", first_name="Ada", last_name="Admin", is_staff=True)
    admin_user.groups.add(Group.objects.get(name="Administrator"))
    olga = shop.operator

    # --- An Administrator-role user sets Olga's password in the admin ---------------------------------
    admin = new_page(LANDSCAPE)
    admin.goto(f"/admin/auth/user/{olga.pk}/password/")
    expect(admin).to_have_url(re.compile(r"/login/"))
    admin.locator("input[name=username]").fill("ada")
    admin.locator("input[name=password]").fill(PASSWORD)
    admin.locator("input[name=password]").press("Enter")
    expect(admin).to_have_url(re.compile(rf"/admin/auth/user/{olga.pk}/password/$"))
    admin.locator("#id_password1").fill(ADMIN_SET)
    admin.locator("#id_password2").fill(ADMIN_SET)
    admin.locator("input[type=submit]").first.click()
    must_choose = re.compile("olga must choose a new password or PIN before signing", re.I)
    expect(admin.locator(".messagelist")).to_contain_text(must_choose)
    credential = SigningCredential.objects.get(user=olga)
    assert credential.must_set_new_secret
    # …and knowing it does not let the administrator sign as her.
    with pytest.raises(SignatureRefused, match="choose a new"):
        signing_authenticate(user=olga, secret=ADMIN_SET, username="olga")

    # --- Olga signs in at a tablet with it and is sent to choose her own -----------------------------
    tablet = new_page(PORTRAIT)
    tablet.goto("/station/login/")
    tablet.get_by_label("Badge").fill(badge_of(olga))
    tablet.get_by_label("Password or signing PIN").fill(ADMIN_SET)
    tablet.get_by_label("Password or signing PIN").press("Enter")
    expect(tablet).to_have_url(re.compile(r"/station/account/"))
    expect(tablet.get_by_text("Choose a new password (or signing PIN) before you sign.")).to_be_visible()
    assert_fits(tablet, "account-must-change")

    password = tablet.locator("#password-heading").locator("xpath=..")
    password.get_by_label("Current password").fill(ADMIN_SET)
    password.get_by_label("New password", exact=True).fill(HER_OWN)
    password.get_by_label("New password, again").fill(HER_OWN)
    password.get_by_role("button", name="Change my password").click()
    expect(tablet.get_by_text("Your password is changed.")).to_be_visible()

    pin = tablet.locator("#pin-heading").locator("xpath=..")
    pin.get_by_label("Your password").fill(HER_OWN)
    pin.get_by_label("New signing PIN (6 to 12 digits)").fill(HER_PIN)
    pin.get_by_label("New signing PIN, again").fill(HER_PIN)
    pin.get_by_role("button", name="Set my signing PIN").click()
    expect(tablet.get_by_text("Your signing PIN is set.")).to_be_visible()
    assert_fits(tablet, "account-changed")

    credential.refresh_from_db()
    assert not credential.must_set_new_secret and credential.pin_hash
    assert signing_authenticate(user=olga, secret=HER_PIN, username="olga").method == "pin"
    trail = list(
        AuditEvent.objects.filter(object_type="auth.user", object_id=str(olga.pk)).values_list("action", "actor")
    )
    assert ("signing.reset_by_admin", admin_user.pk) in trail


def test_a_supervisor_unlocks_a_locked_signer_with_a_reason_and_a_signature(new_page, shop, settings):
    settings.SIGNING_FAILURE_LIMIT = 2
    olga, sam = shop.operator, shop.supervisor
    for wrong in ("111111", "222222"):  # two wrong PINs at her tablet lock her out of signing
        with pytest.raises(SignatureRefused):
            signing_authenticate(user=olga, secret=wrong, username="olga")
    assert SigningCredential.objects.get(user=olga).locked_at is not None

    page = new_page(LANDSCAPE)
    sign_in(page, sam, path="/supervisor/signers/")
    expect(page).to_have_url(re.compile(r"/supervisor/signers/$"))
    locked = page.locator("article.signer", has_text="(olga)")
    expect(locked).to_contain_text("after 2 wrong passwords or PINs")
    assert_fits(page, "signers-locked")

    # With a wrong secret the signature is refused, the error beside the secret, nothing unlocked.
    locked.get_by_label("Why is signing unlocked?").fill("Identity checked at the cell; she mistyped her PIN")
    user_id = locked.get_by_label("Your user id")
    if user_id.count():
        user_id.fill(sam.username)
    locked.get_by_label("Password or signing PIN").fill("not-my-password")
    locked.get_by_role("button", name="Unlock, signing as myself").click()
    locked = page.locator("article.signer", has_text="(olga)")
    expect(locked.locator(".errors, .field-error, [role=alert]").first).to_be_visible()
    assert not SigningUnlock.objects.exists()

    locked.get_by_label("Why is signing unlocked?").fill("Identity checked at the cell; she mistyped her PIN")
    user_id = locked.get_by_label("Your user id")
    if user_id.count():
        user_id.fill(sam.username)
    locked.get_by_label("Password or signing PIN").fill(PASSWORD)
    locked.get_by_role("button", name="Unlock, signing as myself").click()
    signed = re.compile(r"olga can sign again\. Signed: Sam Smith — Unlocked signing — ")
    expect(page.get_by_text(signed)).to_be_visible()
    expect(page.get_by_text("Nobody is locked out.")).to_be_visible()
    assert_fits(page, "signers-unlocked")

    unlock = SigningUnlock.objects.get()
    assert unlock.reason == "Identity checked at the cell; she mistyped her PIN"
    assert unlock.signature.signer_id == sam.pk and signature_verify(unlock.signature)
    assert SigningCredential.objects.get(user=olga).locked_at is None
    assert signing_authenticate(user=olga, secret=PASSWORD, username="olga")
