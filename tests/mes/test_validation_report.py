"""Validation evidence (21 CFR 11.10(a); Annex 11 §4): the tests that prove a clause say which, and
`manage.py validation_report` writes the trace matrix — clause → requirement → tests → last result."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from mes.compliance.clauses import CLAUSES, PART_11
from mes.compliance.validation import FAILING, NO_TEST, NOT_RUN, PROVED, build_matrix

pytestmark = [pytest.mark.django_db, pytest.mark.regulation("Annex 11 §4", "21 CFR 11.10(a)")]


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """The regulation-marked tests of the whole suite, as the plugin records them (collected, not run)."""
    results = tmp_path_factory.mktemp("validation") / "results.json"
    env = {**os.environ, "VALIDATION_RESULTS": str(results)}
    done = subprocess.run(  # noqa: S603 - our own test suite, collected only
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return results


def test_every_claimed_clause_has_tests_and_the_report_lists_them(collected, tmp_path, capsys):
    call_command("validation_report", results=str(collected), out=str(tmp_path))

    out = capsys.readouterr().out
    matrix = build_matrix(json.loads(collected.read_text()))
    without = [row.clause for row in matrix.rows if row.status == NO_TEST]
    assert without == [], f"claimed clauses with no test: {without}"
    part_11 = [c for c, (regulation, _) in CLAUSES.items() if regulation == PART_11]
    assert len(part_11) >= 19
    html = (tmp_path / "validation-report.html").read_text()
    for clause in CLAUSES:
        assert f" {clause}:" in out and clause in html
    assert "tests/mes/test_change_control.py::" in html  # the tests themselves are named
    assert (tmp_path / "validation-report.pdf").read_bytes().startswith(b"%PDF")


def test_a_clause_is_proved_only_when_its_tests_last_passed():
    first, second = list(CLAUSES)[:2]
    results = {
        "tests": {
            "t::ok": {"clauses": [first], "outcome": "passed", "at": "2026-12-07T00:00:00+00:00"},
            "t::broken": {"clauses": [second], "outcome": "failed", "at": "2026-12-07T00:00:00+00:00"},
            "t::later": {"clauses": [second], "outcome": "passed", "at": "2026-12-07T00:00:00+00:00"},
        }
    }

    rows = {row.clause: row.status for row in build_matrix(results).rows}

    assert rows[first] == PROVED and rows[second] == FAILING
    assert {status for clause, status in rows.items() if clause not in (first, second)} == {NO_TEST}
    not_run = build_matrix({"tests": {"t::x": {"clauses": [first], "outcome": "not run"}}}).rows[0]
    assert not_run.status == NOT_RUN


def test_without_results_the_report_says_how_to_get_them(tmp_path):
    with pytest.raises(CommandError, match="run the tests first"):
        call_command("validation_report", results=str(tmp_path / "none.json"), out=str(tmp_path))


def test_strict_fails_when_a_clause_is_not_proved(collected, tmp_path):
    with pytest.raises(CommandError, match="not proved"):
        call_command("validation_report", results=str(collected), out=str(tmp_path), strict=True)
