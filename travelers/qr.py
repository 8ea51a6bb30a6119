"""The traveler's QR code: what it holds, and reading it back when a tablet's scanner types it.

The payload is `TRAVELER:<number>`, e.g. "TRAVELER:T-0000001": a fixed prefix so a scan can never be
mistaken for a serial, lot or work-order number, and nothing else (no URL, so a printed traveler stays
valid whatever host name the server gets). `qr_code` draws it: a regular QR code (never a Micro QR,
which many scanners do not read) with medium error correction, for the print page (`qr_svg`) and the PDF.
"""

from __future__ import annotations

import segno

QR_PREFIX = "TRAVELER:"


def traveler_qr_payload(traveler) -> str:
    """What the traveler's QR code encodes: "TRAVELER:" and the traveler number."""
    return f"{QR_PREFIX}{traveler.number}"


def traveler_number_from_qr(text: str) -> str | None:
    """The traveler number in a scanned QR payload; None when `text` is not one (a serial, a lot…).
    The prefix is read case-insensitively: some scanners are set to change the case of what they type."""
    raw = (text or "").strip()
    if raw[: len(QR_PREFIX)].upper() != QR_PREFIX:
        return None
    number = raw[len(QR_PREFIX) :].strip()
    return number or None


def qr_code(payload: str) -> segno.QRCode:
    # A regular QR code (never a Micro QR, which many scanners do not read), medium error correction.
    return segno.make(payload, error="m", micro=False)


def qr_svg(payload: str, *, scale: int = 4) -> str:
    """The QR code as inline SVG markup, for the print page."""
    return qr_code(payload).svg_inline(scale=scale, title=payload)
