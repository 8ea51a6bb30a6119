"""The traveler screen on flaky shop-floor Wi-Fi, driven from the keyboard: the offline banner shows, what
the operator typed is kept on the tablet across a reload, and a value saved while offline is sent when the
connection is back — once (mes/static/traveler/app.js)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from travelers.models import Measurement

from .screens import PORTRAIT, assert_fits, char_row, sign_in

pytestmark = pytest.mark.e2e


def test_typed_value_survives_going_offline_and_a_save_offline_is_sent_when_back(new_page, shop, traveler):
    page = new_page(PORTRAIT)
    sign_in(page, shop.operator)
    page.get_by_role("button", name=re.compile(r"CELL-1")).click()
    page.goto(f"/station/travelers/{traveler.number}/")

    # --- From the keyboard alone: Tab to "Start step 10", Enter ---------------------------------------
    start = page.get_by_role("button", name="Start step 10")
    for _ in range(25):
        page.keyboard.press("Tab")
        if start.evaluate("el => el === document.activeElement"):
            break
    else:
        pytest.fail("Tab never reached the Start button")
    page.keyboard.press("Enter")
    notice = page.locator("#notice")
    expect(notice).to_contain_text("Step 10 started.")
    value = char_row(page, "Bore diameter").get_by_label("Value (mm)")
    expect(value).to_be_focused()

    # --- The connection drops while the operator types: the banner says so, the value is kept ---------
    banner = page.locator("#offline-banner")
    expect(banner).to_be_hidden()
    page.context.set_offline(True)
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("Connection lost")
    page.keyboard.type("12.702")
    kept = f"traveler.keep:{traveler.number}:10:BORE_DIA"
    assert page.evaluate("key => localStorage.getItem(key)", kept) == "12.702"
    assert_fits(page, "traveler-offline")

    # --- Back online, the page is reloaded: the value is put back (and judged) from the tablet --------
    page.context.set_offline(False)
    expect(banner).to_be_hidden()
    page.reload()
    value = char_row(page, "Bore diameter").get_by_label("Value (mm)")
    expect(value).to_have_value("12.702")
    expect(value).to_have_class(re.compile(r"\brestored\b"))
    expect(char_row(page, "Bore diameter").locator("output.judgment")).to_contain_text("In spec")
    expect(value).to_be_focused()

    # --- Saved (Enter) while offline: nothing reaches the server; back online it is sent by itself ----
    page.context.set_offline(True)
    expect(banner).to_be_visible()
    page.evaluate("() => document.addEventListener('htmx:sendError', () => { window.sendErrors = true; })")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.sendErrors === true")  # the save was tried, and could not leave
    assert not Measurement.objects.filter(step__traveler=traveler).exists()
    page.context.set_offline(False)
    expect(notice).to_contain_text("Bore diameter recorded: 12.702 mm — in spec.")
    expect(banner).to_be_hidden()
    # The server has it: the tablet forgets it (after the swap settles, so wait rather than read once).
    page.wait_for_function("key => localStorage.getItem(key) === null", arg=kept)
    assert list(Measurement.objects.filter(step__traveler=traveler).values_list("entered_value", flat=True)) == [
        "12.702"
    ]
