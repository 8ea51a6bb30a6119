"""The filtered audit trail as a PDF (/audit/export.pdf): the same events as the screen and the CSV,
each with its time at the site and in UTC, who, what, old → new and why; at most PDF_LIMIT events (the
PDF says so when cut: the CSV has them all). Built with the printed traveler's fonts and table style."""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

from travelers.audit_trail import PDF_LIMIT, Trail
from travelers.printing.kit import esc, fonts, numbered_canvas, page_size, styles
from travelers.printing.sections import audit_table


def trail_pdf(trail: Trail, *, title: str) -> bytes:
    regular, _bold = fonts()
    st = styles()
    events = list(trail.events()[: PDF_LIMIT + 1])
    cut = len(events) > PDF_LIMIT
    rows = [
        {"seq": r.event.seq, "when": r.when, "who": r.who, "what": r.what, "on": f"{r.on} · {r.event.chain}",
         "changes": r.changes, "reason": r.event.reason}
        for r in trail.rows(events[:PDF_LIMIT])
    ]  # fmt: skip
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=page_size(),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=17 * mm,
        title=title,
        author="Traveler",
        creator="Traveler",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="trail", frames=[frame])])
    generated = timezone.now().strftime("%Y-%m-%d %H:%M UTC")
    story = [
        Paragraph(esc(title), st["h1"]),
        Paragraph(
            esc(
                _("%(scope)s · times at %(zone)s · %(n)d events · generated %(at)s")
                % {"scope": trail.scope_words(), "zone": trail.zone_name, "n": len(rows), "at": generated}
            ),
            st["muted"],
        ),
        Spacer(0, 4),
        *audit_table(rows, st, doc.width),
    ]
    if cut:
        story.append(
            Paragraph(
                esc(_("Cut at %(n)d events: export the CSV for the whole selection.") % {"n": PDF_LIMIT}),
                st["muted"],
            )
        )
    footer = _("Audit trail · %(scope)s · generated %(at)s") % {"scope": trail.scope_words()[:80], "at": generated}
    doc.build(story, canvasmaker=numbered_canvas(footer, regular))
    return buffer.getvalue()
