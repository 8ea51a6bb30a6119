"""A traveler from the shop floor to quality's approval, in a real browser: an operator at a tablet, an
inspector at another, and the PDF of the finished record."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.travelers.conftest import PASSWORD, do_step, step_of
from travelers import services
from travelers.models import Nonconformance
from travelers.states import TravelerStatus

from .screens import LANDSCAPE, PORTRAIT, assert_fits, badge_of, char_row, htmx_settled, sign_in, small_targets

pytestmark = pytest.mark.e2e

UTC_TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"


def manifestation(name: str, meaning: str) -> re.Pattern:
    """A signature as shown: printed name — meaning — UTC time (the site's time follows)."""
    return re.compile(rf"{name}\s+—\s+{meaning}\s+—\s+{UTC_TIME}")


def test_operator_runs_the_traveler_and_the_inspector_approves_it(new_page, shop, traveler):
    operator = new_page(LANDSCAPE)

    # --- The operator signs in at the tablet, which asks once where it stands -------------------------
    sign_in(operator, shop.operator, shot="station-login")
    expect(operator).to_have_url(re.compile(r"/station/work-center/$"))
    assert_fits(operator, "station-pick")
    operator.get_by_role("button", name=re.compile(r"CELL-1")).click()

    # --- The queue, and a barcode scan into the input that always has the focus -----------------------
    expect(operator).to_have_url(re.compile(r"/$"))
    queue = operator.locator("#queue")
    expect(queue).to_contain_text("SN-0001")
    expect(queue).to_contain_text("Bore the housing")
    scan = operator.get_by_label("Scan or type a serial, lot, work order or traveler")
    expect(scan).to_be_focused()
    assert_fits(operator, "station-queue")
    operator.get_by_role("heading", name=re.compile("Queue at CELL-1")).click()  # the focus wanders off…
    operator.keyboard.type("SN-0001")  # …the scanner's keystrokes still land in the scan input
    expect(scan).to_have_value("SN-0001")
    operator.keyboard.press("Enter")
    expect(operator).to_have_url(re.compile(rf"/station/travelers/{traveler.number}/$"))

    # --- Start step 10 and record an in-spec value, judged live before it is saved --------------------
    expect(operator.get_by_role("heading", name=re.compile("Bore the housing"))).to_be_visible()
    assert_fits(operator, "traveler-pending")
    operator.get_by_role("button", name="Start step 10").click()
    expect(operator.locator("#notice")).to_contain_text("Step 10 started.")
    bore = char_row(operator, "Bore diameter")
    value = bore.get_by_label("Value (mm)")
    expect(value).to_be_focused()  # the first value to record takes the focus
    htmx_settled(operator)
    judgment = bore.locator("output.judgment")
    value.press_sequentially("12.750")
    expect(judgment).to_contain_text("Out of spec")
    expect(judgment).to_contain_text("0.037 mm above the upper limit 12.713 mm")
    value.fill("")
    value.press_sequentially("12.701")
    expect(judgment).to_contain_text("In spec")
    expect(judgment).to_contain_text("+0.001 mm from nominal")
    expect(judgment).to_contain_text("(not saved yet)")
    assert_fits(operator, "traveler-value-preview")
    touch = {
        "value input": ".value-line input",
        "value button": ".value-actions button",
        "pass/fail choice": "label.choice",
        "route link": ".route-step a",
        "photo": ".photos input[type=file], .photos button",
        "sign button": ".signing a.button",
        "raise NCR": ".raise-ncr summary",
        "lock button": "#station-lock-form button",
    }
    assert small_targets(operator, touch) == []
    bore.get_by_role("button", name="Save").click()
    expect(operator.locator("#notice")).to_contain_text("Bore diameter recorded: 12.701 mm — in spec.")
    expect(bore.locator(".current-value")).to_contain_text("12.701")
    expect(bore.locator(".current-value .badge")).to_have_text("In spec")

    surface = char_row(operator, "Surface visual")
    surface.get_by_text("Pass", exact=True).click()
    expect(surface.locator("output.judgment")).to_contain_text("In spec")
    surface.get_by_role("button", name="Save").click()
    expect(operator.locator("#notice")).to_contain_text("Surface visual recorded: pass — in spec.")

    # --- Sign step 10 in the dialog: the meaning is stated, the user id and password typed -------------
    operator.get_by_role("link", name="I performed this step — sign").click()
    dialog = operator.get_by_role("dialog", name=re.compile("Sign step 10"))
    expect(dialog).to_be_visible()
    expect(dialog.locator(".meaning")).to_have_text("I performed this step")
    user_id = dialog.get_by_label("Your user id")
    expect(user_id).to_be_focused()
    dialog_targets = {
        "dialog input": "#sign-dialog input:not([type=hidden])",
        "dialog action": "#sign-dialog .actions > *",
    }
    assert small_targets(operator, dialog_targets) == []
    user_id.fill(badge_of(shop.operator))  # the first signing of the session asks for the user id
    dialog.get_by_label("Password or signing PIN").fill("not-my-password")
    dialog.get_by_role("button", name="Sign").click()
    expect(dialog.locator(".field-error, .form-errors")).to_be_visible()  # refused: said in the dialog
    expect(dialog).to_be_visible()
    assert_fits(operator, "traveler-sign-dialog-refused", full_page=False)
    dialog.get_by_label("Your user id").fill(badge_of(shop.operator))
    dialog.get_by_label("Password or signing PIN").fill(PASSWORD)
    dialog.get_by_role("button", name="Sign").click()
    signed = operator.locator("#notice .signature")
    expect(signed).to_have_text(manifestation("Olga Smith", "Performed"))
    expect(operator.locator(".signing .signature")).to_have_text(manifestation("Olga Smith", "Performed"))
    expect(operator.get_by_role("dialog")).to_have_count(0)
    assert_fits(operator, "traveler-signed")

    # --- Step 30 may run out of order: a failed marking holds the traveler and opens an NCR -----------
    operator.locator(".route-step a", has_text="Mark the serial").click()
    expect(operator).to_have_url(re.compile(rf"/station/travelers/{traveler.number}/steps/30/$"))
    operator.get_by_role("button", name="Start step 30").click()
    marking = char_row(operator, "Marking legible")
    marking.get_by_text("Fail", exact=True).click()
    expect(marking.locator("output.judgment")).to_contain_text("Out of spec")
    marking.get_by_role("button", name="Save").click()
    expect(operator.locator("#notice")).to_contain_text(
        "Marking legible is out of spec (fail): the traveler is on hold"
    )
    ncr = Nonconformance.objects.get(traveler=traveler)
    expect(operator.locator("#notice")).to_contain_text(f"the traveler is on hold and {ncr.number} is open")
    expect(operator.locator(".traveler-head .badge-hold")).to_have_text("On hold")
    expect(operator.get_by_role("alert").filter(has_text="This traveler is on hold")).to_be_visible()
    expect(operator.locator(".ncrs")).to_contain_text(ncr.number)
    expect(operator.locator(".ncrs")).to_contain_text("Open")
    expect(operator.locator(".signing a.button")).to_have_count(0)  # nothing is signed while held
    assert_fits(operator, "traveler-hold")

    # --- The inspector, at another tablet, dispositions the NCR: use as is, signed --------------------
    inspector = new_page(PORTRAIT)
    sign_in(inspector, shop.inspector, path="/quality/")
    expect(inspector).to_have_url(re.compile(r"/quality/$"))
    ncr_list = inspector.locator(
        "section", has=inspector.get_by_role("heading", name=re.compile("awaiting disposition"))
    )
    expect(ncr_list).to_contain_text(ncr.number)
    assert_fits(inspector, "quality-queue")
    ncr_list.get_by_role("link", name=ncr.number).click()
    expect(inspector.get_by_role("heading", name=re.compile(f"Nonconformance {ncr.number}"))).to_be_visible()
    inspector.get_by_role("combobox", name="Disposition").select_option(label="Use as is")
    inspector.get_by_label("Notes (why, and what is to be done)").fill("Marking re-read under magnification: legible.")
    inspector.locator("#id_username").fill(badge_of(shop.inspector))
    inspector.locator("#id_secret").fill(PASSWORD)
    assert_fits(inspector, "quality-ncr")
    inspector.get_by_role("button", name="Sign the disposition").click()
    # "use as is" is a material review board's: quality alone is refused, beside the engineer's fields
    expect(inspector.locator("fieldset.mrb")).to_contain_text("is a material review board decision")
    if inspector.locator("#id_username").count():  # nothing was signed yet: the user id is asked again
        inspector.locator("#id_username").fill(badge_of(shop.inspector))
    inspector.locator("#id_secret").fill(PASSWORD)
    inspector.get_by_label("Engineer's user id (material review board)").fill(badge_of(shop.engineer))
    inspector.get_by_label("Engineer's password or signing PIN").fill(PASSWORD)
    assert_fits(inspector, "quality-ncr-mrb")
    inspector.get_by_role("button", name="Sign the disposition").click()
    expect(inspector).to_have_url(re.compile(rf"/quality/travelers/{traveler.number}/$"))
    expect(inspector.locator(".messages")).to_contain_text(f"{ncr.number} dispositioned: Use as is.")
    expect(inspector.locator(".messages")).to_contain_text("Ines Smith")
    expect(inspector.locator("#decision")).to_contain_text("Not ready for final sign-off")

    # The hold is gone from the operator's screen.
    operator.reload()
    expect(operator.locator(".traveler-head .badge-hold")).to_have_count(0)
    expect(operator.locator(".ncrs")).to_contain_text("Dispositioned")

    # --- The rest of the route is done through the services, to keep the test short ------------------
    services.step_perform(
        step=step_of(traveler, 30), actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username()
    )
    do_step(shop, traveler, 20, {"TORQUE": ("25.0", "N*m")})
    do_step(shop, traveler, 40, {})
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.AWAITING_SIGNOFF

    # --- The inspector approves the traveler with an e-signature ---------------------------------------
    inspector.reload()
    decision = inspector.locator("#decision")
    expect(decision).to_contain_text("Every step is done")
    signatures = inspector.locator("#signature-list")
    expect(signatures.locator(".flag-ok")).to_have_count(7)  # each verified against its record (MRB included)
    assert_fits(inspector, "quality-review")
    decision.get_by_role("link", name="Approve…").click()
    approve = inspector.get_by_role("dialog", name="I approve this traveler")
    expect(approve).to_be_visible()
    expect(approve.get_by_label("Your user id")).to_have_count(0)  # given at this session's first signing
    password = approve.get_by_label("Password or signing PIN")
    expect(password).to_be_focused()
    password.fill(PASSWORD)
    assert_fits(inspector, "quality-approve-dialog", full_page=False)
    approve.get_by_role("button", name="Sign: approve").click()
    expect(inspector.locator(".messages")).to_contain_text("Signed: Ines Smith")
    expect(inspector.locator(".review-head .badge").first).to_have_text("Closed")
    expect(decision.locator(".signed-off")).to_contain_text("Ines Smith")
    expect(decision.locator(".signed-off")).to_contain_text("Approved")
    expect(signatures.locator(".flag-ok")).to_have_count(8)
    assert_fits(inspector, "quality-approved")

    # --- The PDF of the traveler carries every signer's printed name and meaning ----------------------
    pdf = inspector.request.get(f"/travelers/{traveler.number}/print.pdf")
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.body())).pages)
    for words in ("Olga Smith", "Ines Smith", "Performed", "Inspected", "Dispositioned", "Approved", ncr.number):
        assert words in text, words
