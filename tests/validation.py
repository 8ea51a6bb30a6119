"""pytest plugin: the `regulation` marker, and the record of which test proved which clause with what result,
for `manage.py validation_report` (mes.compliance.validation).

    @pytest.mark.regulation("21 CFR 11.10(e)", "Annex 11 §9")

A clause must be one mes.compliance.clauses lists (else the run stops, naming it). At the end of a run the
marked tests' outcomes are merged into settings.VALIDATION_RESULTS (or $VALIDATION_RESULTS): a run of the
whole suite replaces the file, a partial run updates the tests it ran.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from mes.compliance.clauses import CLAUSES

RESULTS_ENV = "VALIDATION_RESULTS"
_tests: dict[str, dict] = {}
_state = {"whole": False}


def pytest_configure(config):
    config.addinivalue_line("markers", "regulation(*clauses): the regulatory clauses this test proves")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def pytest_collection_modifyitems(session, config, items):
    unknown = set()
    for item in items:
        clauses = sorted({c for mark in item.iter_markers("regulation") for c in mark.args})
        unknown |= set(clauses) - CLAUSES.keys()
        if clauses:
            doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip().splitlines()
            _tests[item.nodeid] = {"clauses": clauses, "doc": doc[0] if doc else "", "outcome": "not run", "at": ""}
    if unknown:
        raise pytest.UsageError(
            f"regulation marker names clause(s) not in mes/compliance/clauses.py: {sorted(unknown)}"
        )
    option = config.option
    _state["whole"] = not (getattr(option, "keyword", "") or getattr(option, "markexpr", "") or option.file_or_dir)


@pytest.hookimpl(trylast=True)
def pytest_runtest_logreport(report):
    entry = _tests.get(report.nodeid)
    if entry is None:
        return
    if report.when == "call" or report.outcome != "passed":
        if entry["outcome"] != "failed":  # a failure in any phase stays a failure
            entry["outcome"], entry["at"] = report.outcome, _now()


def _commit(root: Path) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git on PATH
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return ""
    return done.stdout.strip()


def results_path() -> Path:
    if os.environ.get(RESULTS_ENV):
        return Path(os.environ[RESULTS_ENV])
    return Path(settings.VALIDATION_RESULTS)


def pytest_sessionfinish(session, exitstatus):
    if not _tests or getattr(session.config.option, "collectonly", False) and not os.environ.get(RESULTS_ENV):
        return
    path = results_path()
    known: dict = {}
    if path.exists() and not _state["whole"]:
        try:
            known = json.loads(path.read_text(encoding="utf-8")).get("tests", {})
        except (OSError, ValueError):
            known = {}
    for nodeid, entry in _tests.items():
        if entry["outcome"] == "not run" and nodeid in known:
            known[nodeid] |= {"clauses": entry["clauses"], "doc": entry["doc"]}
        else:
            known[nodeid] = entry
    document = {
        "format": "traveler-validation-results/1",
        "updated_at": _now(),
        "commit": _commit(Path(session.config.rootpath)),
        "whole_suite": _state["whole"],
        "tests": dict(sorted(known.items())),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(document, indent=1, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)
