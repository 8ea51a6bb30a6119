"""A supervisor in a real browser: releases the travelers of a work order imported from the legacy MES
(B2MML, left to a supervisor to release), then holds one of them and releases the hold, signed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from integrations.adapters.file_drop import file_receive
from tests.integrations.legacy_support import drop, wic  # noqa: F401 - the shop's legacy MES and its file drop
from tests.travelers.conftest import PASSWORD
from travelers.models import Hold, Traveler

from .screens import LANDSCAPE, assert_fits, sign_in

pytestmark = pytest.mark.e2e

ORDER = (
    Path(__file__).resolve().parents[1] / "integrations" / "fixtures" / "b2mml" / "V0600-ProductionSchedule-nested.xml"
)


@pytest.fixture
def imported(drop, tmp_path):  # noqa: F811 - the fixture imported above
    drop.settings = {**drop.settings, "site_codes": {"MX30": "WIC"}}
    drop.save()
    path = tmp_path / "order.xml"
    path.write_text(ORDER.read_text())
    assert file_receive(adapter=drop, path=path).status == "imported"
    return "60017734"


def test_a_supervisor_releases_an_imported_order_then_holds_and_releases_a_traveler(new_page, wic, imported):  # noqa: F811
    page = new_page(LANDSCAPE)
    sign_in(page, wic.supervisor, path="/supervisor/release/")

    # --- The imported order waits for its travelers; the supervisor gives the serial numbers -------------
    row = page.locator(f"#work-order-{imported}")
    expect(row).to_contain_text("imported from legacy-wic")
    assert_fits(page, "supervisor-release")
    row.get_by_label("Serial numbers").fill("VB-1\nVB-2\nVB-3")
    row.get_by_role("button", name="Release travelers").click()
    expect(page.get_by_text(re.compile(rf"Work order {imported}: released"))).to_be_visible()
    expect(page.locator(f"#work-order-{imported}")).to_have_count(0)
    assert_fits(page, "supervisor-released")
    first = Traveler.objects.filter(work_order__number=imported).order_by("number").first()
    assert first.item.identifier == "VB-1" and first.released_by == wic.supervisor

    # --- From the overview, open the traveler and hold it -----------------------------------------------
    page.goto("/supervisor/")
    page.get_by_label("Traveler number").fill(first.number)
    page.get_by_role("button", name="Open: holds, skip, re-plan").click()
    expect(page).to_have_url(re.compile(rf"/supervisor/travelers/{first.number}/$"))
    expect(page.get_by_role("heading", name=f"Traveler {first.number}")).to_be_visible()
    assert_fits(page, "supervisor-traveler")
    page.locator("summary", has_text="Place a hold").click()
    page.get_by_label("Why is the traveler held?").fill("Burr on the flange: check before machining")
    page.get_by_role("button", name="Hold the traveler").click()
    expect(page.get_by_text(f"Traveler {first.number} is on hold.")).to_be_visible()
    expect(page.locator("#holds-heading .badge")).to_have_text("1")
    assert_fits(page, "supervisor-held")

    # --- Release the hold: a reason and the supervisor's signature (user id at the first signing) --------
    hold = Hold.objects.get(traveler=first)
    article = page.locator(f"#hold-{hold.pk}")
    article.locator("summary", has_text="Release this hold").click()
    article.get_by_label("Why is the hold released?").fill("Deburred and checked")
    article.get_by_label("Your user id").fill(wic.supervisor.get_username())
    article.get_by_label("Password or signing PIN").fill(PASSWORD)
    assert_fits(page, "supervisor-hold-release")
    article.get_by_role("button", name="Sign: release the hold").click()
    expect(page.get_by_text(re.compile(r"Hold released\. Signed: .+ — Released a hold — "))).to_be_visible()
    expect(page.locator("#holds-heading .badge")).to_have_text("0")
    assert_fits(page, "supervisor-hold-released")
    hold.refresh_from_db()
    first.refresh_from_db()
    assert hold.released_by == wic.supervisor and hold.release_signature is not None and not first.on_hold
