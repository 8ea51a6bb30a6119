"""The printable traveler as a PDF: the complete human-readable copy of the record (21 CFR 11.10(b)).

    traveler_pdf(traveler) -> bytes        # loads the record, then record_pdf
    record_pdf(record) -> bytes            # from travelers.records.traveler_record(...)

Built with reportlab (pure Python, no system libraries). Every page carries the traveler's number, item
and QR code in its header and "Page N of M" in its footer, so a loose page can be put back. Every
signature is shown with its printed name, meaning and time — at the site and in UTC — (11.50); the
fonts are embedded (TrueType subsets) so the copy reads the same decades later.

The page size is A4 unless settings.TRAVELER_PRINT_PAGE_SIZE says "LETTER".
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from mes.compliance.models import manifestation_line
from mes.i18n import local_decimal
from mes.masterdata.units import unit_symbol
from travelers import records
from travelers.models import Measurement
from travelers.qr import qr_code
from travelers.states import OPEN_TRAVELER_STATES
from travelers.templatetags.traveler_records import meaning

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


def _fonts() -> tuple[str, str]:
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


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
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


def _t(value) -> str:
    """User text, escaped for reportlab's paragraph markup."""
    return escape("" if value is None else str(value))


def _when(value, zone) -> str:
    if not value:
        return ""
    return f"{_t(records.site_time(value, zone))}<br/><font color='#5b6470'>{_t(records.utc_time(value))}</font>"


_BLOCK = re.compile(r"<(h[1-6]|p|ul|ol)>(.*?)</\1>|<hr>", re.S)
_ITEM = re.compile(r"<li>(.*?)</li>", re.S)
_INLINE = (
    (re.compile(r"<(/?)strong>"), r"<\1b>"),
    (re.compile(r"<(/?)em>"), r"<\1i>"),
    (re.compile(r"<code>"), '<font face="Courier">'),
    (re.compile(r"</code>"), "</font>"),
    (re.compile(r"<br>"), "<br/>"),
    (re.compile(r"&#x27;"), "'"),
)


def _markup(html: str) -> str:
    """The inline HTML of travelers.markdown (escaped text with fixed tags) as reportlab paragraph markup."""
    for pattern, replacement in _INLINE:
        html = pattern.sub(replacement, html)
    return html.strip()


def _instructions(text: str, st) -> list:
    """Work instructions (Markdown) rendered as on the tablet, by the same safe renderer (travelers.markdown:
    everything the author wrote is escaped first): headings, paragraphs, bulleted and numbered lists,
    bold, italic, code."""
    from travelers.markdown import render_markdown

    flowables: list = []
    for match in _BLOCK.finditer(str(render_markdown(text))):
        tag, inner = match.group(1), match.group(2) or ""
        if tag is None:  # a rule
            flowables.append(Spacer(0, 4))
        elif tag.startswith("h"):
            flowables.append(Paragraph(f"<b>{_markup(inner)}</b>", st["small"]))
        elif tag == "p":
            flowables.append(Paragraph(_markup(inner), st["small"]))
        else:
            for number, item in enumerate(_ITEM.findall(inner), start=1):
                mark = f"{number}." if tag == "ol" else "•"
                flowables.append(Paragraph(_markup(item), st["bullet"], bulletText=mark))
    return flowables


def _who(user) -> str:
    return _t(user["printed_name"]) if user else ""


def _sig(sig, zone) -> str:
    """The manifestation (manifestation_line, with the site's time), then qualification and comment."""
    signed_at = records.parse_time(sig["signed_at"]) if sig else None
    if signed_at is None:
        return ""
    text = manifestation_line(
        f"<b>{_t(sig['printed_name'])}</b>", _t(meaning(sig)), signed_at, zone=records.site_zone(zone)
    )
    if sig.get("qualification"):
        text += f" · {_t(sig['qualification'])}"
    if sig.get("comment"):
        text += f" · “{_t(sig['comment'])}”"
    return text


def _table(rows, widths, *, header=True, strike_rows=()) -> Table:
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


def _draw_qr(canvas, matrix, x: float, y: float, size: float) -> None:
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


def _canvas_class(footer_left: str, font: str):
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


def _page_size():
    return LETTER if str(getattr(settings, "TRAVELER_PRINT_PAGE_SIZE", "A4")).upper() == "LETTER" else A4


# --- The body -------------------------------------------------------------------------------------------------


def _title_block(record, st, width) -> list:
    t, item, site = record["traveler"], record["item"], record["site"]
    zone = site["time_zone"]
    final = t["final_signature"]
    rows = [
        (_("Traveler"), f"<b>{_t(t['number'])}</b>"),
        (_("Status"), _t(t["status_display"]) + (f" · <b>{_t(_('ON HOLD'))}</b>" if t["on_hold"] else "")),
        (_("Part"), f"{_t(item['part_number'])} rev {_t(item['revision'])} — {_t(item['part_name'])}"),
        (
            _("Serial number") if item["tracking"] == "serial" else _("Lot"),
            f"<b>{_t(item['identifier'])}</b>"
            + (f" · {_t(_('quantity'))} {_t(item['quantity'])}" if item["tracking"] != "serial" else ""),
        ),
        (_("Work order"), _t(record["work_order"]["number"])),
        (_("Site"), f"{_t(site['code'])} — {_t(site['name'])} ({_t(zone)})"),
        (_("Routing"), f"{_t(record['routing']['part_revision'])} routing r{_t(record['routing']['revision'])}"),
        (_("Released"), f"{_when(t['released_at'], zone)}<br/>{_who(t['released_by'])}"),
        (_("Completed"), _when(t["completed_at"], zone)),
        (_("Closed"), _when(t["closed_at"], zone)),
        (_("Final sign-off"), _sig(final, zone) if final else _t(_("not signed"))),
    ]
    table = Table(
        [[Paragraph(_t(k), st["head"]), Paragraph(v, st["body"])] for k, v in rows],
        colWidths=[32 * mm, width - 32 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    summary = _t(records.summary_text(record["summary"], done=True))
    return [
        Paragraph(_t(_("As-built traveler record")), st["h1"]),
        table,
        Spacer(0, 3),
        Paragraph(summary, st["muted"]),
    ]


def _limits(m) -> str:
    spec, places = m["spec"], m["decimals"]
    lower, upper = records.fixed(spec["lower"], places), records.fixed(spec["upper"], places)
    if not lower and not upper:
        return ""
    text = f"{lower or '—'} … {upper or '—'}"
    if spec["nominal"] is not None:
        text += f"<br/><font color='#5b6470'>{_t(_('nominal'))} {records.fixed(spec['nominal'], places)}</font>"
    return text


def _value(m) -> str:
    return _t(records.measurement_in_units(m))


def _step_block(step, record, st, width) -> list:
    zone = record["site"]["time_zone"]
    heading = f"{_t(_('Step'))} {step['sequence']} · {_t(step['title'])}"
    meta = [
        f"{_t(step['operation']['code'])} ({_t(step['operation']['name'])})",
        f"{_t(_('work center'))} {_t(step['work_center']['code'])}" if step["work_center"] else "",
        _t(step["status_display"]),
    ]
    if step["origin"] != "routing":
        meta.append(_t(step["origin_display"]) + (f" {_t(_('for'))} {_t(step['ncr'])}" if step["ncr"] else ""))
    if step["skip_reason"]:
        meta.append(f"{_t(_('skipped'))}: {_t(step['skip_reason'])}")
    head = [
        Paragraph(heading, st["h3"]),
        Paragraph(" · ".join(x for x in meta if x), st["muted"]),
    ]
    body: list = []
    if step["instructions"]:
        body += _instructions(step["instructions"], st)
    if step["measurements"]:
        header = [
            Paragraph(_t(x), st["head"])
            for x in (_("Characteristic"), _("Value"), _("Limits"), _("Judgment"), _("Recorded"))
        ]
        rows = [header]
        for m in step["measurements"]:
            value = _value(m)
            if not m["current"]:
                value = f"<strike>{value}</strike><br/><font color='#5b6470'>{_t(_('superseded'))}</font>"
            judgment = _t(m["judgment_display"])
            if m["judgment"] == Measurement.Judgment.OUT_OF_SPEC:
                judgment = f"<font color='#b3261e'><b>{judgment}</b></font>"
                if m["deviation"]:
                    judgment += f"<br/>{_t(_('by'))} {_t(local_decimal(m['deviation']))} {_t(unit_symbol(m['unit']))}"
                if m["ncr"]:
                    judgment += f"<br/>{_t(m['ncr'])}"
            recorded = f"{_who(m['recorded_by'])}<br/>{_when(m['recorded_at'], zone)}"
            if m["supersedes"]:
                recorded += (
                    f"<br/><b>{_t(_('Correction'))}</b>: {_t(m['correction_reason'])}"
                    f"<br/>{_sig(m['correction_signature'], zone)}"
                    + (f"<br/>{_sig(m['cosignature'], zone)}" if m.get("cosignature") else "")
                )
            rows.append(
                [
                    Paragraph(f"<b>{_t(m['characteristic'])}</b><br/>{_t(m['characteristic_name'])}", st["cell"]),
                    Paragraph(value, st["cell"]),
                    Paragraph(_limits(m), st["cell"]),
                    Paragraph(judgment, st["cell"]),
                    Paragraph(recorded, st["cell"]),
                ]
            )
        widths = [0.2 * width, 0.17 * width, 0.15 * width, 0.13 * width, 0.35 * width]
        body.append(_table(rows, widths))
    elif step["characteristics"]:
        body.append(Paragraph(_t(_("No value recorded.")), st["muted"]))
    for sig in step["signatures"]:
        body.append(Paragraph(_sig(sig, zone), st["small"]))
    if not step["signatures"]:
        body.append(Paragraph(_t(_("Not signed.")), st["muted"]))
    return [CondPageBreak(40 * mm), KeepTogether(head + body[:1]), *body[1:]]


def _ncrs(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    if not record["ncrs"]:
        return [Paragraph(_t(_("None.")), st["muted"])]
    rows = [[Paragraph(_t(x), st["head"]) for x in (_("NCR"), _("Description"), _("Raised"), _("Disposition"))]]
    for n in record["ncrs"]:
        disposition = _t(n["status_display"])
        if n["disposition"]:
            disposition = f"<b>{_t(n['disposition_display'])}</b>: {_t(n['disposition_notes'])}"
            if n["rework_steps"]:
                disposition += f"<br/>{_t(_('rework steps'))} {', '.join(str(s) for s in n['rework_steps'])}"
            disposition += f"<br/>{_sig(n['disposition_signature'], zone)}"
            if n.get("mrb_signature"):
                disposition += f"<br/>{_sig(n['mrb_signature'], zone)}"
        rows.append(
            [
                Paragraph(
                    f"<b>{_t(n['number'])}</b>"
                    + (f"<br/>{_t(_('step'))} {n['step']}" if n["step"] else "")
                    + (f"<br/>{_t(_('automatic'))}" if n["automatic"] else ""),
                    st["cell"],
                ),
                Paragraph(_t(n["description"]), st["cell"]),
                Paragraph(f"{_who(n['raised_by'])}<br/>{_when(n['raised_at'], zone)}", st["cell"]),
                Paragraph(disposition, st["cell"]),
            ]
        )
    return [_table(rows, [0.13 * width, 0.3 * width, 0.2 * width, 0.37 * width])]


def _holds(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    if not record["holds"]:
        return [Paragraph(_t(_("None.")), st["muted"])]
    rows = [[Paragraph(_t(x), st["head"]) for x in (_("Hold"), _("Placed"), _("Released"))]]
    for h in record["holds"]:
        released = _t(_("still open"))
        if h["released_at"]:
            released = f"{_who(h['released_by'])}<br/>{_when(h['released_at'], zone)}<br/>{_t(h['release_reason'])}"
            if h["release_signature"]:
                released += f"<br/>{_sig(h['release_signature'], zone)}"
        rows.append(
            [
                Paragraph(f"<b>{_t(h['kind_display'])}</b><br/>{_t(h['reason'])}", st["cell"]),
                Paragraph(f"{_who(h['placed_by'])}<br/>{_when(h['placed_at'], zone)}", st["cell"]),
                Paragraph(released, st["cell"]),
            ]
        )
    return [_table(rows, [0.35 * width, 0.25 * width, 0.4 * width])]


def _genealogy(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    consumed = record["genealogy"]["consumed"]
    if not consumed:
        return [Paragraph(_t(_("No component consumed.")), st["muted"])]
    rows = [
        [
            Paragraph(_t(x), st["head"])
            for x in (_("Step"), _("Component"), _("Serial / lot"), _("Qty"), _("Consumed"), _("Removed"))
        ]
    ]
    for c in consumed:
        removed = ""
        if c["removed_at"]:
            removed = f"{_who(c['removed_by'])}<br/>{_when(c['removed_at'], zone)}<br/>{_t(c['removal_reason'])}"
            if c["removal_signature"]:
                removed += f"<br/>{_sig(c['removal_signature'], zone)}"
        rows.append(
            [
                Paragraph(str(c["step"]), st["cell"]),
                Paragraph(f"<b>{_t(c['part_number'])}</b><br/>{_t(c['part_name'])}", st["cell"]),
                Paragraph(
                    f"{_t(_('S/N') if c['tracking'] == 'serial' else _('lot'))} <b>{_t(c['identifier'])}</b>",
                    st["cell"],
                ),
                Paragraph(_t(c["quantity"]), st["cell"]),
                Paragraph(f"{_who(c['consumed_by'])}<br/>{_when(c['consumed_at'], zone)}", st["cell"]),
                Paragraph(removed, st["cell"]),
            ]
        )
    return [_table(rows, [0.07 * width, 0.18 * width, 0.15 * width, 0.07 * width, 0.22 * width, 0.31 * width])]


def _attachments(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    if not record["attachments"]:
        return [Paragraph(_t(_("None.")), st["muted"])]
    rows = [[Paragraph(_t(x), st["head"]) for x in (_("Step"), _("File"), _("SHA-256"), _("Uploaded"))]]
    for a in record["attachments"]:
        rows.append(
            [
                Paragraph(str(a["step"]) + (f"<br/>{_t(a['ncr'])}" if a["ncr"] else ""), st["cell"]),
                Paragraph(f"{_t(a['filename'])}<br/>{_t(a['content_type'])}, {a['size']} B", st["cell"]),
                Paragraph(f"<font size='6'>{_t(a['sha256'])}</font>", st["cell"]),
                Paragraph(f"{_who(a['uploaded_by'])}<br/>{_when(a['uploaded_at'], zone)}", st["cell"]),
            ]
        )
    return [_table(rows, [0.08 * width, 0.27 * width, 0.4 * width, 0.25 * width])]


def _signature_register(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    rows = [[Paragraph(_t(x), st["head"]) for x in (_("Printed name"), _("Meaning"), _("Signed"), _("On"), _("Hash"))]]
    for s in record["signatures"]:
        rows.append(
            [
                Paragraph(f"<b>{_t(s['printed_name'])}</b>", st["cell"]),
                Paragraph(_t(meaning(s)), st["cell"]),
                Paragraph(_when(s["signed_at"], zone), st["cell"]),
                Paragraph(_t(s["on"]) + (f"<br/>“{_t(s['comment'])}”" if s["comment"] else ""), st["cell"]),
                Paragraph(f"<font size='5.5'>{_t(s['content_hash'])}</font>", st["cell"]),
            ]
        )
    if len(rows) == 1:
        return [Paragraph(_t(_("None.")), st["muted"])]
    return [_table(rows, [0.18 * width, 0.12 * width, 0.22 * width, 0.25 * width, 0.23 * width])]


def audit_table(audit: list[dict], st, width) -> list:
    """The audit events (travelers.audit_trail rows as dicts) as a table: #, when, who, what, old → new and why."""
    if not audit:
        return [Paragraph(_t(_("None.")), st["muted"])]
    rows = [[Paragraph(_t(x), st["head"]) for x in ("#", _("When"), _("Who"), _("What"), _("Old → new, why"))]]
    for a in audit:
        detail = "<br/>".join(f"{_t(f)}: {_t(old)} → {_t(new)}" for f, old, new in a["changes"])
        if a["reason"]:
            detail += ("<br/>" if detail else "") + f"<i>{_t(a['reason'])}</i>"
        rows.append(
            [
                Paragraph(str(a["seq"]), st["cell"]),
                Paragraph(_t(f"{a['when']:%Y-%m-%d %H:%M:%S %Z}"), st["cell"]),
                Paragraph(_t(a["who"]), st["cell"]),
                Paragraph(f"{_t(a['what'])}<br/><font size='6.5'>{_t(a['on'])}</font>", st["cell"]),
                Paragraph(detail, st["cell"]),
            ]
        )
    return [_table(rows, [0.05 * width, 0.18 * width, 0.17 * width, 0.22 * width, 0.38 * width])]


def record_pdf(record: dict, *, audit: list[dict] | None = None) -> bytes:
    """The PDF of a record built by travelers.records.traveler_record; `audit` (travelers.audit_trail.appendix)
    adds the traveler's audit trail as an appendix."""
    regular, bold = _fonts()
    st = _styles()
    page = _page_size()
    t, item = record["traveler"], record["item"]
    matrix = qr_code(t["qr_payload"]).matrix
    ident = f"{'S/N' if item['tracking'] == 'serial' else 'Lot'} {item['identifier']}"
    line2 = (
        f"{item['part_number']} rev {item['revision']} · {item['part_name']} · {ident} · "
        f"WO {record['work_order']['number']} · {record['site']['code']}"
    )
    footer = _("%(number)s · as-built record · %(status)s · generated %(at)s") % {
        "number": t["number"],
        "status": t["status_display"],
        "at": records.utc_time(record["generated_at"]),
    }

    final = t["status"] not in OPEN_TRAVELER_STATES
    not_final = _("NOT FINAL")

    def header(canvas, doc) -> None:
        width, height = page
        qr_size = 20 * mm
        canvas.saveState()
        _draw_qr(canvas, matrix, width - 15 * mm - qr_size, height - 6 * mm - qr_size, qr_size)
        canvas.setFont(regular, 6)
        canvas.setFillColor(MUTED)
        canvas.drawRightString(width - 15 * mm - qr_size - 2 * mm, height - 24 * mm, t["qr_payload"])
        canvas.setFillColor(INK)
        canvas.setFont(bold, 14)
        canvas.drawString(15 * mm, height - 13 * mm, f"{_('TRAVELER')}  {t['number']}")
        canvas.setFont(regular, 8.5)
        canvas.drawString(15 * mm, height - 18.5 * mm, line2[:140])
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(0.6)
        canvas.line(15 * mm, height - 27 * mm, width - 15 * mm, height - 27 * mm)
        if not final:  # on every page: a loose page of an open traveler is never taken for the record
            canvas.setFillColor(BAD)
            canvas.setFont(bold, 11)
            canvas.drawString(15 * mm, height - 24.5 * mm, not_final)
            canvas.setFillColor(BAD, alpha=0.12)
            canvas.setFont(bold, 72)
            canvas.translate(width / 2, height / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, -24, not_final)
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=30 * mm,
        bottomMargin=17 * mm,
        title=_("Traveler %(number)s — as-built record") % {"number": t["number"]},
        author="Traveler",
        subject=f"{item['part_number']} rev {item['revision']} {ident}",
        creator="Traveler",
        lang=get_language() or settings.LANGUAGE_CODE,  # the PDF's /Lang, for screen readers
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="record", frames=[frame], onPage=header)])
    width = doc.width
    story: list = _title_block(record, st, width)
    story.append(Paragraph(_t(_("Steps")), st["h2"]))
    for step in record["steps"]:
        story += _step_block(step, record, st, width)
    for title, part in (
        (_("Nonconformances"), _ncrs),
        (_("Holds"), _holds),
        (_("Genealogy (as built)"), _genealogy),
        (_("Attachments"), _attachments),
        (_("Signatures"), _signature_register),
    ):
        story += [CondPageBreak(30 * mm), Paragraph(_t(title), st["h2"]), *part(record, st, width)]
    if audit is not None:
        title = _("Appendix: audit trail (times at the site)")
        story += [CondPageBreak(30 * mm), Paragraph(_t(title), st["h2"]), *audit_table(audit, st, width)]
    story += [Spacer(0, 6), Paragraph(_t(_("End of the record.")), st["muted"])]
    doc.build(story, canvasmaker=_canvas_class(footer, regular))
    return buffer.getvalue()


def traveler_pdf(traveler) -> bytes:
    """The complete printable traveler as PDF bytes (for the print screen and the archive)."""
    from travelers import audit_trail

    return record_pdf(records.traveler_record(traveler), audit=audit_trail.appendix(traveler))
