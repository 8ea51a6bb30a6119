"""`manage.py validation_report`: the trace matrix — clause, requirement, tests, last result — as HTML and PDF.

    manage.py validation_report                  # from the last test results (make test writes them)
    manage.py validation_report --run            # run the regulation-marked tests first
    manage.py validation_report --out DIR --strict

Writes validation-report.html and validation-report.pdf in DIR (default var/validation/) and prints a
summary; with --strict it exits non-zero when a claimed clause is not proved by passing tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mes.compliance.validation import PROVED, ResultsMissing, build_matrix, load_results, matrix_html, matrix_pdf


class Command(BaseCommand):
    help = "Write the validation trace matrix (clause → requirement → tests → last result) as HTML and PDF."

    def add_arguments(self, parser):
        parser.add_argument("--results", default=settings.VALIDATION_RESULTS, help="The test results file.")
        parser.add_argument("--out", default=str(Path(settings.VALIDATION_RESULTS).parent), help="Folder to write.")
        parser.add_argument("--run", action="store_true", help="Run the regulation-marked tests first.")
        parser.add_argument("--strict", action="store_true", help="Fail unless every claimed clause is proved.")

    def handle(self, *args, results, out, run, strict, **opts):
        results_path = Path(results)
        if run:
            self._run_tests(results_path)
        try:
            matrix = build_matrix(load_results(results_path))
        except ResultsMissing as exc:
            raise CommandError(str(exc)) from None
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        html, pdf = folder / "validation-report.html", folder / "validation-report.pdf"
        html.write_text(matrix_html(matrix), encoding="utf-8")
        pdf.write_bytes(matrix_pdf(matrix))
        summary = ", ".join(f"{n} {status}" for status, n in matrix.summary.items())
        self.stdout.write(f"{len(matrix.rows)} clauses claimed: {summary}")
        for row in matrix.rows:
            self.stdout.write(f"  {row.status:<8} {row.clause}: {len(row.tests)} test(s)")
        self.stdout.write(f"written {html} and {pdf}")
        if strict and matrix.count(PROVED) != len(matrix.rows):
            raise CommandError("some claimed clauses are not proved by passing tests (see the report)")

    def _run_tests(self, results_path: Path) -> None:
        root = Path(settings.BASE_DIR)
        env = {**os.environ, "VALIDATION_RESULTS": str(results_path)}
        command = [sys.executable, "-m", "pytest", "-q", "-m", "regulation", "-p", "no:randomly"]
        self.stdout.write(f"running: {' '.join(command[1:])}")
        done = subprocess.run(command, cwd=root, env=env, check=False)  # noqa: S603 - our own test suite
        if done.returncode not in (0, 1):  # 1: some tests failed, which the report shows
            raise CommandError(f"the test run did not complete (exit {done.returncode})")
