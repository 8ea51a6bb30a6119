"""Images the demo generates, so no binary file lives in the repository: the instruction drawings
attached to routing steps (a dimensioned SVG section), and the small PNG standing in for a photo
taken at the tablet."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass


@dataclass(frozen=True)
class DrawingSpec:
    title: str
    # At most 19 characters: StepAttachment.file keeps 100, of which the SHA-256 folder takes 81;
    # a longer name is truncated and given a random suffix by the storage.
    filename: str
    content: bytes
    content_type: str = "image/svg+xml"


def section_drawing_svg(*, part_number: str, revision: str, view: str, bore_label: str, note: str) -> bytes:
    """A small, deterministic SVG section through a bored body, with the bore dimensioned."""
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="480" height="300" viewBox="0 0 480 300"
     font-family="DejaVu Sans, Arial, sans-serif" font-size="12">
  <title>{part_number} rev {revision} – {view}</title>
  <defs>
    <pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <line x1="0" y1="0" x2="0" y2="8" stroke="#333" stroke-width="1"/>
    </pattern>
    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8"
            orient="auto-start-reverse">
      <path d="M0,0 L10,5 L0,10 z" fill="#000"/>
    </marker>
  </defs>
  <rect x="0.5" y="0.5" width="479" height="299" fill="#fff" stroke="#000"/>
  <rect x="60" y="50" width="240" height="65" fill="url(#hatch)" stroke="#000" stroke-width="2"/>
  <rect x="60" y="165" width="240" height="65" fill="url(#hatch)" stroke="#000" stroke-width="2"/>
  <line x1="40" y1="140" x2="320" y2="140" stroke="#000" stroke-dasharray="18 4 3 4"/>
  <line x1="300" y1="115" x2="355" y2="115" stroke="#000"/>
  <line x1="300" y1="165" x2="355" y2="165" stroke="#000"/>
  <line x1="345" y1="115" x2="345" y2="165" stroke="#000" marker-start="url(#arrow)" marker-end="url(#arrow)"/>
  <text x="352" y="144" font-weight="bold">{bore_label}</text>
  <text x="180" y="40" text-anchor="middle" font-weight="bold">{view}</text>
  <line x1="0" y1="250" x2="480" y2="250" stroke="#000"/>
  <text x="12" y="270">{part_number} rev {revision}</text>
  <text x="468" y="270" font-size="10" text-anchor="end">Dimensions in mm · Meridian Aerostructures</text>
  <text x="12" y="288" font-size="10">{note}</text>
</svg>
"""
    return svg.encode("utf-8")


HOUSING_BORE_DRAWING = DrawingSpec(
    title="Section A-A: actuator bore",
    filename="section-A-A.svg",
    content=section_drawing_svg(
        part_number="7420-101",
        revision="C",
        view="SECTION A-A",
        bore_label="Ø12.700 ±0.013",
        note="Bore Ra 0.8 max. Break edges 0.2–0.5. Remove all burrs.",
    ),
)
VALVE_SEAT_DRAWING = DrawingSpec(
    title="Section B-B: valve seat bore",
    filename="section-B-B.svg",
    content=section_drawing_svg(
        part_number="6630-050",
        revision="D",
        view="SECTION B-B",
        bore_label="Ø12.700 ±0.013",
        note="Seat bore concentric to datum A within 0.02. No tool marks across the seat.",
    ),
)


def tiny_png(rgb=(90, 120, 160), size=8) -> bytes:
    """A small solid PNG, standing in for a photo taken at the tablet."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * size
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )
