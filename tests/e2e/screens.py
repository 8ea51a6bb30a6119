"""What the e2e tests do on a page, and what they check of its layout at the two tablet sizes."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.a11y import assert_accessible
from tests.travelers.conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"  # git-ignored
LANDSCAPE = (1024, 768)
PORTRAIT = (800, 1280)
TABLET_SIZES = (LANDSCAPE, PORTRAIT)
MIN_TOUCH = 44  # CSS px: the smallest target a gloved finger hits reliably (app.css promises it)

# Every visible element a selector names, with its size; buttons, links and labels must also be wide enough.
_MEASURE = """([selector, minimum]) => [...document.querySelectorAll(selector)]
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map(el => { const r = el.getBoundingClientRect();
    const wide = ['BUTTON', 'A', 'SUMMARY', 'LABEL'].includes(el.tagName);
    return {text: (el.innerText || el.name || el.tagName).trim().slice(0, 40), w: r.width, h: r.height,
            small: r.height < minimum || (wide && r.width < minimum)}; })"""


def badge_of(user) -> str:
    return user.profile.employee_number


def sign_in(page: Page, user, *, path: str = "/", shot: str | None = None) -> None:
    """Open `path` signed out: the page sends to the badge page; the badge input has the focus for the
    scanner; type the password, press Enter, and land on `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/station/login/\?next="))
    badge = page.locator("input[name=badge]")  # by name: the tour signs in in every language
    expect(badge).to_be_focused()
    if shot:
        assert_fits(page, shot)
    badge.fill(badge_of(user))
    secret = page.locator("input[name=secret]")
    secret.fill(PASSWORD)
    secret.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/station/login/"))


def htmx_settled(page: Page) -> None:
    """Wait until htmx has swapped, settled and processed what it last put in the page: the new content's
    triggers (a value's live judging) are bound only once it settles, and keystrokes typed before are
    not seen (under load, the browser ran ahead of htmx's settle)."""
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')")


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")


def shoot(page: Page, name: str, *, full_page: bool = True) -> dict[str, int]:
    """Save the page at each tablet size into artifacts/e2e/<name>-<w>x<h>.png (the whole page, or the
    viewport: a modal dialog's backdrop covers the viewport only) and return the horizontal overflow
    at each size. The page's own size is restored afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    own = page.viewport_size
    overflow = {}
    for width, height in TABLET_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        overflow[f"{width}x{height}"] = horizontal_overflow(page)
        page.screenshot(path=ARTIFACTS / f"{name}-{width}x{height}.png", full_page=full_page, animations="disabled")
    page.set_viewport_size(own)
    return overflow


def assert_fits(page: Page, name: str, *, full_page: bool = True) -> None:
    """Shoot the screen at both tablet sizes; at neither may the page scroll sideways, and axe may find no
    serious or critical WCAG 2.2 AA violation on it (tests/e2e/a11y.py)."""
    wide = {size: px for size, px in shoot(page, name, full_page=full_page).items() if px > 0}
    assert not wide, f"{name}: the page scrolls sideways by {wide} CSS px"
    assert_accessible(page, name)


def small_targets(page: Page, selectors: dict[str, str]) -> list[str]:
    """The visible targets the `selectors` name that are smaller than MIN_TOUCH px (high; buttons, links
    and labels also wide) at either tablet size, as '<what> "<text>" at <size>: <w>x<h> px'."""
    own = page.viewport_size
    small = []
    for width, height in TABLET_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for what, selector in selectors.items():
            found = page.evaluate(_MEASURE, [selector, MIN_TOUCH])
            assert found, f"no visible {what} ({selector}) at {width}x{height}"
            small += [
                f'{what} "{t["text"]}" at {width}x{height}: {t["w"]:.0f}x{t["h"]:.0f} px' for t in found if t["small"]
            ]
    page.set_viewport_size(own)
    return small


def char_row(page: Page, name: str):
    """The block of one characteristic on the traveler screen, by its name."""
    return page.locator("article.char-row").filter(has=page.get_by_role("heading", name=re.compile(name)))
