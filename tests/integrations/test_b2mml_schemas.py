"""The B2MML XSDs travel with the product: a copy of the checkout that has nothing beside it validates
completions, and no code looks for schemas outside the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from integrations import b2mml
from integrations.completions import closed_travelers
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import close_traveler

REPO = Path(__file__).resolve().parents[2]


def checkout_copy(target: Path) -> Path:
    """The files git knows (committed or not, ignored ones left out): what a fresh clone holds."""
    listed = subprocess.run(
        [shutil.which("git") or "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        name = raw.decode()
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def test_a_fresh_checkout_with_nothing_beside_it_validates_completions(wic, tmp_path):
    close_traveler(wic, wic.order)
    records = closed_travelers(work_order=wic.order, source_system="legacy-wic")
    document = tmp_path / "performance.xml"
    document.write_bytes(b2mml.to_bytes(b2mml.performance_document(records, work_order=wic.order)))
    clone = checkout_copy(tmp_path / "somewhere" / "else" / "traveler")
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("B2MML", "DATABASE_URL", "PYTHONPATH"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mes.settings",
        DATABASE_URL="postgresql://nobody@127.0.0.1:9/none",  # never connected to: validation needs no database
        TRAVELER_VAR_DIR=str(tmp_path / "var"),
    )
    script = (
        "import sys, django; django.setup()\n"
        "from integrations import b2mml\n"
        "assert b2mml.__file__.startswith(sys.argv[2]), b2mml.__file__\n"
        "b2mml.validate_performance(open(sys.argv[1], 'rb').read())\n"
        "print('valid')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(document), str(clone)],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "valid"


def test_no_code_reads_schemas_from_outside_the_checkout():
    offenders = []
    for folder in ("mes", "travelers", "integrations", "bench"):
        for path in (REPO / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "shared/standards" in text or '"shared"' in text or "B2MML_XSD_DIR" in text:
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


def test_the_shipped_schemas_carry_mesa_acknowledgment():
    folder = Path(b2mml.__file__).resolve().parent / "xsd"
    for name in ("README.md", "LICENSE"):
        text = " ".join((folder / name).read_text(encoding="utf-8").split())
        assert "(B2MML) is used courtesy of MESA International." in text, name
