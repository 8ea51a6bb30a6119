"""The traveler's QR code: what it holds, and reading it back when a tablet's scanner types it.

The payload is `TRAVELER:<number>`, e.g. "TRAVELER:T-0000001": a fixed prefix so a scan can never be
mistaken for a serial, lot or work-order number, and nothing else (no URL, so a printed traveler stays
valid whatever host name the server gets).
"""

from __future__ import annotations

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
