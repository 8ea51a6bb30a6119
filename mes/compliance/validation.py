"""The validation trace matrix (21 CFR 11.10(a); Annex 11 §4): for each clause Traveler claims
(mes.compliance.clauses), its requirement in plain words, the tests that prove it and their last result.

    matrix = build_matrix(load_results(path))
    html = matrix_html(matrix); pdf = matrix_pdf(matrix)

The results come from the test runs themselves (tests/validation.py writes settings.VALIDATION_RESULTS);
a clause is "proved" when it has tests and all of them last passed, "failing" when one failed, "not run"
when none has a result, and "no test" when nothing claims to prove it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import platform
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import django
from django.db import connection
from django.template.loader import render_to_string
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .clauses import CLAUSES

PROVED, FAILING, NOT_RUN, NO_TEST = "proved", "failing", "not run", "no test"


class ResultsMissing(Exception):
    pass


@dataclass
class ClauseRow:
    clause: str
    regulation: str
    requirement: str
    tests: list[dict] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.tests:
            return NO_TEST
        outcomes = {t["outcome"] for t in self.tests}
        if "failed" in outcomes:
            return FAILING
        if outcomes <= {"not run", "skipped"}:
            return NOT_RUN
        return PROVED if "passed" in outcomes and outcomes <= {"passed", "skipped"} else NOT_RUN


@dataclass
class Matrix:
    rows: list[ClauseRow]
    results: dict
    generated_at: dt.datetime

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def summary(self) -> dict[str, int]:
        return {s: self.count(s) for s in (PROVED, FAILING, NOT_RUN, NO_TEST)}


def load_results(path: Path) -> dict:
    if not path.exists():
        raise ResultsMissing(f"no test results at {path}: run the tests first (make test), or validation_report --run")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ResultsMissing(f"{path} is not a results file: {exc}") from exc


def build_matrix(results: dict) -> Matrix:
    rows = {c: ClauseRow(c, regulation, requirement) for c, (regulation, requirement) in CLAUSES.items()}
    for nodeid, test in results.get("tests", {}).items():
        for clause in test.get("clauses", []):
            if clause in rows:
                rows[clause].tests.append({"id": nodeid, **test})
    return Matrix(rows=list(rows.values()), results=results, generated_at=dt.datetime.now(dt.UTC))


def environment() -> dict[str, str]:
    database = connection.vendor
    if connection.vendor == "postgresql":
        # pg_version is the PostgreSQL backend's own attribute; the stubs type the generic wrapper.
        major, minor = divmod(connection.pg_version, 10000)  # type: ignore[attr-defined]
        database = f"{connection.vendor} {major}.{minor}"
    return {"Python": platform.python_version(), "Django": django.get_version(), "Database": database}


def matrix_html(matrix: Matrix) -> str:
    return render_to_string(
        "validation/report.html",
        {"matrix": matrix, "environment": environment(), "statuses": (PROVED, FAILING, NOT_RUN, NO_TEST)},
    )


def matrix_pdf(matrix: Matrix) -> bytes:
    """The same matrix as a PDF (reportlab's built-in fonts: the report is in plain ASCII-friendly English)."""
    styles = getSampleStyleSheet()
    cell = styles["BodyText"].clone("cell", fontSize=7.5, leading=9)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=landscape(A4), leftMargin=12 * mm, rightMargin=12 * mm, topMargin=12 * mm,
        bottomMargin=12 * mm, title="Traveler validation trace matrix", author="Traveler",
    )  # fmt: skip
    results = matrix.results
    summary = ", ".join(f"{n} {s}" for s, n in matrix.summary.items())
    story = [
        Paragraph("Traveler — validation trace matrix", styles["Title"]),
        Paragraph(
            escape(
                f"Generated {matrix.generated_at:%Y-%m-%d %H:%M} UTC from the test results of "
                f"{results.get('updated_at', '?')} (commit {results.get('commit') or '?'}"
                f"{', whole suite' if results.get('whole_suite') else ', partial run'}). {summary}."
            ),
            cell,
        ),
        Spacer(0, 4 * mm),
    ]
    rows = [[Paragraph(f"<b>{h}</b>", cell) for h in ("Clause", "Requirement", "Test and last result", "Status")]]
    flagged = []
    for row in matrix.rows:  # one line per test, so that a clause with many tests runs over pages
        tests = [
            f"{escape(t['id'])} — <b>{escape(t['outcome'])}</b>" + (f" ({escape(t['at'])})" if t.get("at") else "")
            for t in row.tests
        ] or ["—"]
        for i, test in enumerate(tests):
            first = i == 0
            rows.append(
                [
                    Paragraph(f"<b>{escape(row.clause)}</b><br/>{escape(row.regulation)}" if first else "", cell),
                    Paragraph(escape(row.requirement) if first else "", cell),
                    Paragraph(test, cell),
                    Paragraph(f"<b>{escape(row.status)}</b>" if first else "", cell),
                ]
            )
            if first and row.status != PROVED:
                flagged.append(len(rows) - 1)
    table = Table(rows, colWidths=[38 * mm, 75 * mm, 130 * mm, 22 * mm], repeatRows=1)
    style = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (2, 0), (2, -1), 0.25, colors.lightgrey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
    ]
    style += [("BACKGROUND", (3, i), (3, i), colors.HexColor("#fde7e7")) for i in flagged]
    table.setStyle(TableStyle(style))
    story.append(table)
    doc.build(story)
    return buffer.getvalue()
