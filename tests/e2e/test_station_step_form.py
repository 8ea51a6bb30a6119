"""In Chromium: an operator types a step's values and saves them at once ("Save all values"): one
request, both values recorded and judged, the screen showing them (mes/static/traveler/app.js)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from travelers.models import Measurement

from .screens import PORTRAIT, char_row, sign_in

pytestmark = pytest.mark.e2e


def test_an_operator_saves_a_steps_values_at_once(new_page, shop, traveler):
    page = new_page(PORTRAIT)
    sign_in(page, shop.operator)
    page.get_by_role("button", name=re.compile(r"CELL-1")).click()
    page.goto(f"/station/travelers/{traveler.number}/")
    page.get_by_role("button", name="Start step 10").click()
    expect(page.locator("#notice")).to_contain_text("Step 10 started.")

    bore = char_row(page, "Bore diameter")
    bore.get_by_label("Value (mm)").fill("0.5")
    bore.get_by_label("Unit").fill("in")
    char_row(page, "Surface visual").get_by_label("Pass").check()
    requests = []
    page.on("request", lambda r: requests.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="Save all values").click()

    expect(page.locator("#notice")).to_contain_text("2 values recorded.")
    expect(char_row(page, "Bore diameter")).to_contain_text("0.5 in")
    expect(char_row(page, "Surface visual")).to_contain_text("pass")
    assert [u for u in requests if "/values/" in u] == [
        page.url.split("/station/")[0] + f"/station/travelers/{traveler.number}/steps/10/values/"
    ]
    assert sorted(Measurement.objects.filter(step__traveler=traveler).values_list("judgment", flat=True)) == [
        "in_spec",
        "in_spec",
    ]
