"""Accessibility checks in the browser tests: axe-core (vendored in tests/e2e/vendor, never served) runs on
the page as the user sees it and the test fails on any serious or critical WCAG 2.2 AA violation.

axe is evaluated through the DevTools protocol, not added as a <script>: the pages' Content-Security-Policy
(scripts from our own static files only) stays on and keeps being checked by the tests."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + (n.failureSummary || '').split('\\n')[1])}));
}"""


@cache
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict]:
    """Every WCAG 2.2 A/AA violation axe finds on the page now, whatever its impact."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    return page.evaluate(_RUN, WCAG_22_AA)


def serious_violations(page: Page) -> list[str]:
    """The serious and critical violations, one readable line per rule with the first elements it hit."""
    return [
        f"{v['impact']} {v['id']} ({v['help']}): {'; '.join(v['nodes'])}"
        for v in axe_violations(page)
        if v["impact"] in FAILING_IMPACTS
    ]


def assert_accessible(page: Page, name: str) -> None:
    """Fail on any serious or critical WCAG 2.2 AA violation axe finds on the screen."""
    found = serious_violations(page)
    assert not found, f"{name}: axe found serious/critical WCAG 2.2 AA violations:\n" + "\n".join(found)
