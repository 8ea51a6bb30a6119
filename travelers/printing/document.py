"""The printed traveler's document: the record's sections in order on pages that carry the traveler's
number, item and QR code in their header — and NOT FINAL across an open traveler's pages — and
"Page N of M" in their footer."""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    PageTemplate,
    Spacer,
)

from travelers import audit_trail, records
from travelers.qr import qr_code
from travelers.states import OPEN_TRAVELER_STATES

from .kit import BAD, INK, MUTED, Paragraph, draw_qr, esc, fonts, numbered_canvas, page_size, styles
from .sections import (
    attachments,
    audit_table,
    genealogy,
    holds,
    ncrs,
    signature_register,
    step_block,
    title_block,
)


def record_pdf(record: dict, *, audit: list[dict] | None = None) -> bytes:
    """The PDF of a record built by travelers.records.traveler_record; `audit` (travelers.audit_trail.appendix)
    adds the traveler's audit trail as an appendix."""
    regular, bold = fonts()
    st = styles()
    page = page_size()
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
        draw_qr(canvas, matrix, width - 15 * mm - qr_size, height - 6 * mm - qr_size, qr_size)
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
    story: list = title_block(record, st, width)
    story.append(Paragraph(esc(_("Steps")), st["h2"]))
    for step in record["steps"]:
        story += step_block(step, record, st, width)
    for title, part in (
        (_("Nonconformances"), ncrs),
        (_("Holds"), holds),
        (_("Genealogy (as built)"), genealogy),
        (_("Attachments"), attachments),
        (_("Signatures"), signature_register),
    ):
        story += [CondPageBreak(30 * mm), Paragraph(esc(title), st["h2"]), *part(record, st, width)]
    if audit is not None:
        title = _("Appendix: audit trail (times at the site)")
        story += [CondPageBreak(30 * mm), Paragraph(esc(title), st["h2"]), *audit_table(audit, st, width)]
    story += [Spacer(0, 6), Paragraph(esc(_("End of the record.")), st["muted"])]
    doc.build(story, canvasmaker=numbered_canvas(footer, regular))
    return buffer.getvalue()


def traveler_pdf(traveler) -> bytes:
    """The complete printable traveler as PDF bytes (for the print screen and the archive)."""
    return record_pdf(records.traveler_record(traveler), audit=audit_trail.appendix(traveler))
