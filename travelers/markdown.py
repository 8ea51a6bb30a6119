"""A small, safe Markdown renderer for work instructions.

Everything the author wrote is HTML-escaped first; only fixed tags are added around it afterwards, so no
markup from the text (a <script>, an onerror=, a javascript: link) can ever reach the page. It knows
what work instructions use: headings (#), paragraphs, bulleted (-, *, +) and numbered (1.) lists,
**bold**, *italic* / _italic_, `code` and hard line breaks inside a paragraph (two trailing spaces).
Links and images are shown as their text: instruction drawings are attached to the step instead.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
NUMBERED = re.compile(r"^\s*(\d{1,9})[.)]\s+(.*)$")
RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")

CODE = re.compile(r"`([^`]+)`")
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
ITALIC = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)")
PLACEHOLDER = "\x00{}\x00"


def _inline(text: str) -> str:
    """Escape a run of text, then add the inline tags. Code spans are set aside first so that what is
    inside them (e.g. `O7420_*`) is shown literally."""
    text = LINK.sub(lambda m: m.group(1), text)
    codes: list[str] = []

    def keep_code(match: re.Match) -> str:
        codes.append(f"<code>{escape(match.group(1))}</code>")
        return PLACEHOLDER.format(len(codes) - 1)

    text = CODE.sub(keep_code, text.replace("\x00", ""))
    text = escape(text)
    text = BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return re.sub(r"\x00(\d+)\x00", lambda m: codes[int(m.group(1))], text)


def _paragraph_html(lines: list[str]) -> str:
    parts = []
    for index, line in enumerate(lines):
        hard_break = line.endswith("  ") and index < len(lines) - 1
        parts.append(_inline(line.strip()) + ("<br>" if hard_break else ""))
    return "<p>" + "\n".join(parts) + "</p>"


def render_markdown(text: str | None) -> SafeString:
    """Work instructions as HTML. Safe to put in a template as is: every character of `text` is escaped."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag: str | None = None
    list_start = 1

    def flush_paragraph() -> None:
        if paragraph:
            out.append(_paragraph_html(paragraph))
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_tag
        if list_tag:
            start = f' start="{list_start}"' if list_tag == "ol" and list_start != 1 else ""
            body = "".join(f"<li>{item}</li>" for item in items)
            out.append(f"<{list_tag}{start}>{body}</{list_tag}>")
            items.clear()
            list_tag = None

    for raw in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.rstrip("\n")
        if not line.strip():
            flush_paragraph()
            flush_list()
            continue
        if RULE.match(line) and not paragraph:
            flush_list()
            out.append("<hr>")
            continue
        heading = HEADING.match(line.strip())
        if heading:
            flush_paragraph()
            flush_list()
            # h1 and h2 of the author sit below the step's own title (an h2 on the page)
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        bullet, numbered = BULLET.match(line), NUMBERED.match(line)
        if bullet or numbered:
            flush_paragraph()
            tag = "ul" if bullet else "ol"
            if list_tag != tag:
                flush_list()
                list_tag = tag
                list_start = int(numbered.group(1)) if numbered else 1
            content = bullet.group(1) if bullet else numbered.group(2)
            items.append(_inline(content.strip()))
            continue
        if list_tag and raw[:1].isspace():  # an indented continuation of the last list item
            items[-1] += " " + _inline(line.strip())
            continue
        flush_list()
        paragraph.append(line)
    flush_paragraph()
    flush_list()
    return mark_safe("\n".join(out))  # noqa: S308 - built from escaped text and fixed tags only
