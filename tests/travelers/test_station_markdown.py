"""The safe Markdown of work instructions, and the traveler QR payload (pure functions: no database)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from travelers.markdown import render_markdown
from travelers.qr import qr_svg, traveler_number_from_qr, traveler_qr_payload


def test_markdown_renders_what_work_instructions_use():
    html = render_markdown(
        "# Setup\n\n1. Load the blank; indicate within **0.01 mm**.\n2. Run `O7420_*` then *finish*.\n"
        "   with a fresh insert\n\n- one\n- two __bold__\n\nA paragraph\nthat wraps."
    )
    assert "<h3>Setup</h3>" in html
    assert "<ol><li>Load the blank; indicate within <strong>0.01 mm</strong>.</li>" in html
    assert "<li>Run <code>O7420_*</code> then <em>finish</em>. with a fresh insert</li></ol>" in html
    assert "<ul><li>one</li><li>two <strong>bold</strong></li></ul>" in html
    assert "<p>A paragraph\nthat wraps.</p>" in html


@pytest.mark.parametrize(
    "evil",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        "**<b onmouseover=alert(1)>x</b>**",
        "`</code><script>x</script>`",
        '<a href="javascript:alert(1)">x</a>',
        "\x00<script>\x00",
    ],
)
def test_markdown_never_lets_markup_through(evil):
    html = render_markdown(f"Before {evil} after\n\n- {evil}\n\n# {evil}")
    assert "<script" not in html and "<img" not in html and "<a " not in html and "<b " not in html
    for tag in ("<p>", "<ul>", "<h3>"):
        assert tag in html


def test_markdown_of_nothing_is_empty():
    assert render_markdown("") == "" and render_markdown(None) == ""
    assert render_markdown("snake_case_name and 2*3*4") == "<p>snake_case_name and 2*3*4</p>"


def test_the_qr_payload_names_the_traveler_and_reads_back():
    traveler = SimpleNamespace(number="T-0000001")
    payload = traveler_qr_payload(traveler)
    assert payload == "TRAVELER:T-0000001"
    assert traveler_number_from_qr(payload) == "T-0000001"
    assert traveler_number_from_qr("  traveler:T-0000001 ") == "T-0000001"
    assert traveler_number_from_qr("SN-0001") is None and traveler_number_from_qr("TRAVELER:") is None
    svg = qr_svg(payload)
    assert svg.startswith("<svg") and "</svg>" in svg
