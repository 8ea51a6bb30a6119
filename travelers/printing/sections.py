"""The sections of the printed traveler, each a list of flowables built from the record's dicts
(travelers.records.traveler_record): the title block, each step with its instructions, values and
signatures, nonconformances, holds, genealogy, attachments, the signature register — and the audit
table the audit trail's PDF uses too. Every signature shows its manifestation with the site's time
(manifestation_line in mes.compliance.models), every other time both at the site and in UTC."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Spacer,
    Table,
    TableStyle,
)

from mes.compliance.models import manifestation_line
from mes.i18n import local_decimal
from mes.masterdata.units import unit_symbol
from travelers import records
from travelers.markdown import render_markdown
from travelers.models import Measurement
from travelers.templatetags.traveler_records import meaning

from .kit import LINE, Paragraph, esc, table


def _when(value, zone) -> str:
    if not value:
        return ""
    return f"{esc(records.site_time(value, zone))}<br/><font color='#5b6470'>{esc(records.utc_time(value))}</font>"


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
    """The inline HTML of travelers.markdown (esc text with fixed tags) as reportlab paragraph markup."""
    for pattern, replacement in _INLINE:
        html = pattern.sub(replacement, html)
    return html.strip()


def _instructions(text: str, st) -> list:
    """Work instructions (Markdown) rendered as on the tablet, by the same safe renderer (travelers.markdown:
    everything the author wrote is esc first): headings, paragraphs, bulleted and numbered lists,
    bold, italic, code."""
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
    return esc(user["printed_name"]) if user else ""


def _sig(sig, zone) -> str:
    """The manifestation (manifestation_line, with the site's time), then qualification and comment."""
    signed_at = records.parse_time(sig["signed_at"]) if sig else None
    if signed_at is None:
        return ""
    text = manifestation_line(
        f"<b>{esc(sig['printed_name'])}</b>", esc(meaning(sig)), signed_at, zone=records.site_zone(zone)
    )
    if sig.get("qualification"):
        text += f" · {esc(sig['qualification'])}"
    if sig.get("comment"):
        text += f" · “{esc(sig['comment'])}”"
    return text


# --- The sections, in the order of the document ------------------------------------------------------------


def title_block(record, st, width) -> list:
    t, item, site = record["traveler"], record["item"], record["site"]
    zone = site["time_zone"]
    final = t["final_signature"]
    rows = [
        (_("Traveler"), f"<b>{esc(t['number'])}</b>"),
        (_("Status"), esc(t["status_display"]) + (f" · <b>{esc(_('ON HOLD'))}</b>" if t["on_hold"] else "")),
        (_("Part"), f"{esc(item['part_number'])} rev {esc(item['revision'])} — {esc(item['part_name'])}"),
        (
            _("Serial number") if item["tracking"] == "serial" else _("Lot"),
            f"<b>{esc(item['identifier'])}</b>"
            + (f" · {esc(_('quantity'))} {esc(item['quantity'])}" if item["tracking"] != "serial" else ""),
        ),
        (_("Work order"), esc(record["work_order"]["number"])),
        (_("Site"), f"{esc(site['code'])} — {esc(site['name'])} ({esc(zone)})"),
        (
            _("Routing"),
            f"{esc(record['routing']['part_revision'])} routing r{esc(record['routing']['revision'])}",
        ),
        (_("Released"), f"{_when(t['released_at'], zone)}<br/>{_who(t['released_by'])}"),
        (_("Completed"), _when(t["completed_at"], zone)),
        (_("Closed"), _when(t["closed_at"], zone)),
        (_("Final sign-off"), _sig(final, zone) if final else esc(_("not signed"))),
    ]
    table = Table(
        [[Paragraph(esc(k), st["head"]), Paragraph(v, st["body"])] for k, v in rows],
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
    summary = esc(records.summary_text(record["summary"], done=True))
    return [
        Paragraph(esc(_("As-built traveler record")), st["h1"]),
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
        text += f"<br/><font color='#5b6470'>{esc(_('nominal'))} {records.fixed(spec['nominal'], places)}</font>"
    return text


def _value(m) -> str:
    return esc(records.measurement_in_units(m))


def step_block(step, record, st, width) -> list:
    zone = record["site"]["time_zone"]
    heading = f"{esc(_('Step'))} {step['sequence']} · {esc(step['title'])}"
    meta = [
        f"{esc(step['operation']['code'])} ({esc(step['operation']['name'])})",
        f"{esc(_('work center'))} {esc(step['work_center']['code'])}" if step["work_center"] else "",
        esc(step["status_display"]),
    ]
    if step["origin"] != "routing":
        meta.append(esc(step["origin_display"]) + (f" {esc(_('for'))} {esc(step['ncr'])}" if step["ncr"] else ""))
    if step["skip_reason"]:
        meta.append(f"{esc(_('skipped'))}: {esc(step['skip_reason'])}")
    head = [
        Paragraph(heading, st["h3"]),
        Paragraph(" · ".join(x for x in meta if x), st["muted"]),
    ]
    body: list = []
    if step["instructions"]:
        body += _instructions(step["instructions"], st)
    if step["measurements"]:
        header = [
            Paragraph(esc(x), st["head"])
            for x in (_("Characteristic"), _("Value"), _("Limits"), _("Judgment"), _("Recorded"))
        ]
        rows = [header]
        for m in step["measurements"]:
            value = _value(m)
            if not m["current"]:
                value = f"<strike>{value}</strike><br/><font color='#5b6470'>{esc(_('superseded'))}</font>"
            judgment = esc(m["judgment_display"])
            if m["judgment"] == Measurement.Judgment.OUT_OF_SPEC:
                judgment = f"<font color='#b3261e'><b>{judgment}</b></font>"
                if m["deviation"]:
                    judgment += (
                        f"<br/>{esc(_('by'))} {esc(local_decimal(m['deviation']))} {esc(unit_symbol(m['unit']))}"
                    )
                if m["ncr"]:
                    judgment += f"<br/>{esc(m['ncr'])}"
            recorded = f"{_who(m['recorded_by'])}<br/>{_when(m['recorded_at'], zone)}"
            if m["supersedes"]:
                recorded += (
                    f"<br/><b>{esc(_('Correction'))}</b>: {esc(m['correction_reason'])}"
                    f"<br/>{_sig(m['correction_signature'], zone)}"
                    + (f"<br/>{_sig(m['cosignature'], zone)}" if m.get("cosignature") else "")
                )
            rows.append(
                [
                    Paragraph(f"<b>{esc(m['characteristic'])}</b><br/>{esc(m['characteristic_name'])}", st["cell"]),
                    Paragraph(value, st["cell"]),
                    Paragraph(_limits(m), st["cell"]),
                    Paragraph(judgment, st["cell"]),
                    Paragraph(recorded, st["cell"]),
                ]
            )
        widths = [0.2 * width, 0.17 * width, 0.15 * width, 0.13 * width, 0.35 * width]
        body.append(table(rows, widths))
    elif step["characteristics"]:
        body.append(Paragraph(esc(_("No value recorded.")), st["muted"]))
    for sig in step["signatures"]:
        body.append(Paragraph(_sig(sig, zone), st["small"]))
    if not step["signatures"]:
        body.append(Paragraph(esc(_("Not signed.")), st["muted"]))
    return [CondPageBreak(40 * mm), KeepTogether(head + body[:1]), *body[1:]]


def ncrs(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    if not record["ncrs"]:
        return [Paragraph(esc(_("None.")), st["muted"])]
    rows = [[Paragraph(esc(x), st["head"]) for x in (_("NCR"), _("Description"), _("Raised"), _("Disposition"))]]
    for n in record["ncrs"]:
        disposition = esc(n["status_display"])
        if n["disposition"]:
            disposition = f"<b>{esc(n['disposition_display'])}</b>: {esc(n['disposition_notes'])}"
            if n["rework_steps"]:
                disposition += f"<br/>{esc(_('rework steps'))} {', '.join(str(s) for s in n['rework_steps'])}"
            disposition += f"<br/>{_sig(n['disposition_signature'], zone)}"
            if n.get("mrb_signature"):
                disposition += f"<br/>{_sig(n['mrb_signature'], zone)}"
        rows.append(
            [
                Paragraph(
                    f"<b>{esc(n['number'])}</b>"
                    + (f"<br/>{esc(_('step'))} {n['step']}" if n["step"] else "")
                    + (f"<br/>{esc(_('automatic'))}" if n["automatic"] else ""),
                    st["cell"],
                ),
                Paragraph(esc(n["description"]), st["cell"]),
                Paragraph(f"{_who(n['raised_by'])}<br/>{_when(n['raised_at'], zone)}", st["cell"]),
                Paragraph(disposition, st["cell"]),
            ]
        )
    return [table(rows, [0.13 * width, 0.3 * width, 0.2 * width, 0.37 * width])]


def holds(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    if not record["holds"]:
        return [Paragraph(esc(_("None.")), st["muted"])]
    rows = [[Paragraph(esc(x), st["head"]) for x in (_("Hold"), _("Placed"), pgettext("hold", "Released"))]]
    for h in record["holds"]:
        released = esc(_("still open"))
        if h["released_at"]:
            released = f"{_who(h['released_by'])}<br/>{_when(h['released_at'], zone)}<br/>{esc(h['release_reason'])}"
            if h["release_signature"]:
                released += f"<br/>{_sig(h['release_signature'], zone)}"
        rows.append(
            [
                Paragraph(f"<b>{esc(h['kind_display'])}</b><br/>{esc(h['reason'])}", st["cell"]),
                Paragraph(f"{_who(h['placed_by'])}<br/>{_when(h['placed_at'], zone)}", st["cell"]),
                Paragraph(released, st["cell"]),
            ]
        )
    return [table(rows, [0.35 * width, 0.25 * width, 0.4 * width])]


def genealogy(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    consumed = record["genealogy"]["consumed"]
    if not consumed:
        return [Paragraph(esc(_("No component consumed.")), st["muted"])]
    rows = [
        [
            Paragraph(esc(x), st["head"])
            for x in (_("Step"), _("Component"), _("Serial / lot"), _("Qty"), _("Consumed"), _("Removed"))
        ]
    ]
    for c in consumed:
        removed = ""
        if c["removed_at"]:
            removed = f"{_who(c['removed_by'])}<br/>{_when(c['removed_at'], zone)}<br/>{esc(c['removal_reason'])}"
            if c["removal_signature"]:
                removed += f"<br/>{_sig(c['removal_signature'], zone)}"
        rows.append(
            [
                Paragraph(str(c["step"]), st["cell"]),
                Paragraph(f"<b>{esc(c['part_number'])}</b><br/>{esc(c['part_name'])}", st["cell"]),
                Paragraph(
                    f"{esc(_('S/N') if c['tracking'] == 'serial' else _('lot'))} <b>{esc(c['identifier'])}</b>",
                    st["cell"],
                ),
                Paragraph(esc(c["quantity"]), st["cell"]),
                Paragraph(f"{_who(c['consumed_by'])}<br/>{_when(c['consumed_at'], zone)}", st["cell"]),
                Paragraph(removed, st["cell"]),
            ]
        )
    return [table(rows, [0.07 * width, 0.18 * width, 0.15 * width, 0.07 * width, 0.22 * width, 0.31 * width])]


def attachments(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    if not record["attachments"]:
        return [Paragraph(esc(_("None.")), st["muted"])]
    rows = [[Paragraph(esc(x), st["head"]) for x in (_("Step"), _("File"), _("SHA-256"), _("Uploaded"))]]
    for a in record["attachments"]:
        rows.append(
            [
                Paragraph(str(a["step"]) + (f"<br/>{esc(a['ncr'])}" if a["ncr"] else ""), st["cell"]),
                Paragraph(f"{esc(a['filename'])}<br/>{esc(a['content_type'])}, {a['size']} B", st["cell"]),
                Paragraph(f"<font size='6'>{esc(a['sha256'])}</font>", st["cell"]),
                Paragraph(f"{_who(a['uploaded_by'])}<br/>{_when(a['uploaded_at'], zone)}", st["cell"]),
            ]
        )
    return [table(rows, [0.08 * width, 0.27 * width, 0.4 * width, 0.25 * width])]


def signature_register(record, st, width) -> list:
    zone = record["site"]["time_zone"]
    rows = [[Paragraph(esc(x), st["head"]) for x in (_("Printed name"), _("Meaning"), _("Signed"), _("On"), _("Hash"))]]
    for s in record["signatures"]:
        rows.append(
            [
                Paragraph(f"<b>{esc(s['printed_name'])}</b>", st["cell"]),
                Paragraph(esc(meaning(s)), st["cell"]),
                Paragraph(_when(s["signed_at"], zone), st["cell"]),
                Paragraph(esc(s["on"]) + (f"<br/>“{esc(s['comment'])}”" if s["comment"] else ""), st["cell"]),
                Paragraph(f"<font size='5.5'>{esc(s['content_hash'])}</font>", st["cell"]),
            ]
        )
    if len(rows) == 1:
        return [Paragraph(esc(_("None.")), st["muted"])]
    return [table(rows, [0.18 * width, 0.12 * width, 0.22 * width, 0.25 * width, 0.23 * width])]


def audit_table(audit: list[dict], st, width) -> list:
    """The audit events (travelers.audit_trail rows as dicts) as a table: #, when, who, what, old → new and why."""
    if not audit:
        return [Paragraph(esc(_("None.")), st["muted"])]
    rows = [[Paragraph(esc(x), st["head"]) for x in ("#", _("When"), _("Who"), _("What"), _("Old → new, why"))]]
    for a in audit:
        detail = "<br/>".join(f"{esc(f)}: {esc(old)} → {esc(new)}" for f, old, new in a["changes"])
        if a["reason"]:
            detail += ("<br/>" if detail else "") + f"<i>{esc(a['reason'])}</i>"
        rows.append(
            [
                Paragraph(str(a["seq"]), st["cell"]),
                Paragraph(esc(f"{a['when']:%Y-%m-%d %H:%M:%S %Z}"), st["cell"]),
                Paragraph(esc(a["who"]), st["cell"]),
                Paragraph(f"{esc(a['what'])}<br/><font size='6.5'>{esc(a['on'])}</font>", st["cell"]),
                Paragraph(detail, st["cell"]),
            ]
        )
    return [table(rows, [0.05 * width, 0.18 * width, 0.17 * width, 0.22 * width, 0.38 * width])]
