"""The PDF toolkit the printed traveler and the audit trail's PDF share: embedded fonts, colours and
paragraph styles, escaping user text for reportlab's markup, the ruled table, the page size, and the
page frame — the QR code drawn as vectors, and a canvas whose footer says "Page N of M"."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Paragraph as _Paragraph
from reportlab.platypus import (
    Table,
    TableStyle,
)

# --- Fonts: embedded TrueType, DejaVu Sans when the system has it (wide script coverage), else the
# Bitstream Vera that ships inside reportlab (Latin-1), so a PDF can always be made. ------------------------

_FONT_CANDIDATES = [
    (
        "TravelerSans",
        [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/usr/share/fonts/dejavu/DejaVuSans.ttf")],
        [
            Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
            Path("/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf"),
        ],
    ),
]
_FONT: tuple[str, str] | None = None


def fonts() -> tuple[str, str]:
    """(regular, bold) font names, registered once per process."""
    global _FONT
    if _FONT is not None:
        return _FONT
    for name, regular, bold in _FONT_CANDIDATES:
        reg = next((p for p in regular if p.exists()), None)
        bld = next((p for p in bold if p.exists()), None)
        if reg and bld:
            pdfmetrics.registerFont(TTFont(name, str(reg)))
            pdfmetrics.registerFont(TTFont(f"{name}-Bold", str(bld)))
            break
    else:
        name = "TravelerVera"
        pdfmetrics.registerFont(TTFont(name, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(f"{name}-Bold", "VeraBd.ttf"))
    pdfmetrics.registerFontFamily(name, normal=name, bold=f"{name}-Bold", italic=name, boldItalic=f"{name}-Bold")
    _FONT = (name, f"{name}-Bold")
    return _FONT


# --- Styles -------------------------------------------------------------------------------------------------

INK = colors.HexColor("#1b1f24")
MUTED = colors.HexColor("#5b6470")
LINE = colors.HexColor("#b8bfc8")
BAD = colors.HexColor("#b3261e")
OK = colors.HexColor("#1e7a34")
SHADE = colors.HexColor("#eef1f4")


def styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=8.5, leading=10.5, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=9),
        "bullet": ParagraphStyle("bullet", parent=base, fontSize=7.5, leading=9, leftIndent=11, bulletIndent=2),
        "muted": ParagraphStyle("muted", parent=base, fontSize=7.5, leading=9, textColor=MUTED),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "head": ParagraphStyle("head", parent=base, fontName=bold, fontSize=7, leading=8.5, textColor=MUTED),
        "h1": ParagraphStyle("h1", parent=base, fontName=bold, fontSize=13, leading=16, spaceBefore=4, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4),
        "h3": ParagraphStyle("h3", parent=base, fontName=bold, fontSize=9.5, leading=12, spaceBefore=8, spaceAfter=2),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
    }


class Paragraph(_Paragraph):
    """reportlab's Paragraph, which breaks its lines once for a width: a table wraps each cell twice at the
    same width (to size its row, then to draw it), and breaking the lines again gives the same lines.
    A wrap at another width, after the lines were dropped or the text changed (a split), or after the
    paragraph was drawn is done afresh, as reportlab does it."""

    _wrapped: tuple | None = None  # (width, the lines, frags, style, size, width and height set) of the last wrap

    def wrap(self, availWidth, availHeight):  # noqa: N803 - reportlab's names
        last = self._wrapped
        if (
            last is not None
            and last[0] == availWidth
            and self.__dict__.get("blPara") is last[1]
            and self.frags is last[2]
            and self.style is last[3]
        ):
            self.__dict__.update(last[5])
            return last[4]
        size = super().wrap(availWidth, availHeight)
        set_ = {name: self.__dict__[name] for name in ("width", "height") if name in self.__dict__}
        self._wrapped = (availWidth, self.__dict__.get("blPara"), self.frags, self.style, size, set_)
        return size

    def draw(self):
        self._wrapped = None
        super().draw()


def esc(value) -> str:
    """User text, esc for reportlab's paragraph markup."""
    return escape("" if value is None else str(value))


def table(rows, widths, *, header=True, strike_rows=()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style += [("BACKGROUND", (0, 0), (-1, 0), SHADE), ("LINEBELOW", (0, 0), (-1, 0), 0.6, INK)]
    table.setStyle(TableStyle(style))
    return table


# --- The page frame: header with the QR code on every page, "Page N of M" in the footer --------------------


def draw_qr(canvas, matrix, x: float, y: float, size: float) -> None:
    """Draw the QR modules as filled rectangles (vector, sharp at any zoom), merging each row's runs."""
    modules = len(matrix)
    quiet = 2
    unit = size / (modules + 2 * quiet)
    canvas.saveState()
    canvas.setFillColor(colors.black)
    for r, row in enumerate(matrix):
        c = 0
        while c < modules:
            if row[c]:
                start = c
                while c < modules and row[c]:
                    c += 1
                canvas.rect(
                    x + (start + quiet) * unit,
                    y + size - (r + 1 + quiet) * unit,
                    (c - start) * unit,
                    unit,
                    stroke=0,
                    fill=1,
                )
            else:
                c += 1
    canvas.restoreState()


def numbered_canvas(footer_left: str, font: str):
    """A canvas that holds its pages back until the end, so each footer can say "Page N of M"."""

    class NumberedCanvas(pdf_canvas.Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._held_pages: list[dict] = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._held_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._held_pages)
            for number, state in enumerate(self._held_pages, 1):
                self.__dict__.update(state)
                width, _height = self._pagesize
                self.setFont(font, 7.5)
                self.setFillColor(MUTED)
                self.drawString(15 * mm, 10 * mm, footer_left)
                self.drawRightString(width - 15 * mm, 10 * mm, _("Page %(n)d of %(m)d") % {"n": number, "m": total})
                super().showPage()
            super().save()

    return NumberedCanvas


def page_size():
    return LETTER if str(getattr(settings, "TRAVELER_PRINT_PAGE_SIZE", "A4")).upper() == "LETTER" else A4
