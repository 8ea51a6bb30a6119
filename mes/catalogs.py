"""Compile the translation catalogs (locale/*/LC_MESSAGES/*.po → .mo) in pure Python, with polib.

The .mo files are build outputs, never committed: `make install`, `make run` and `make test` run this, so a
fresh clone serves French and Spanish without GNU gettext's msgfmt. Only catalogs whose .po is newer than
their .mo are compiled. `python -m mes.catalogs [--check | --force]` (no Django settings needed);
`python -m mes.catalogs --update` (`make catalogs`) brings the .po files up to date with the sources
(Django's makemessages, which needs GNU gettext's xgettext).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("fr", "es")  # the translated ones; English is the source
# How the catalogs are brought up to date with the sources (`make catalogs`, GNU gettext's xgettext needed);
# tests/mes/test_catalogs.py runs the same to check that they are.
MAKEMESSAGES_OPTIONS = (
    "--no-location",
    "--no-obsolete",
    "--no-wrap",
    *("--ignore=" + pattern for pattern in ("tests/*", "bench/*", "docs/*", "var/*", "build/*", "*/migrations/*")),
)


def catalogs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Every .po catalog under `locale_dir`, in a stable order."""
    return sorted(locale_dir.glob("*/LC_MESSAGES/*.po"))


def stale(po: Path) -> bool:
    mo = po.with_suffix(".mo")
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalogs(locale_dir: Path = LOCALE_DIR, *, force: bool = False) -> list[Path]:
    """Compile each stale (or, with `force`, every) catalog; returns the .mo files written."""
    written = []
    for po_path in catalogs(locale_dir):
        if not (force or stale(po_path)):
            continue
        mo_path = po_path.with_suffix(".mo")
        tmp = mo_path.with_suffix(".mo.tmp")
        polib.pofile(str(po_path)).save_as_mofile(str(tmp))  # fuzzy entries are left out, as msgfmt does
        tmp.replace(mo_path)  # a server reading the catalog never sees half a file
        written.append(mo_path)
    return written


def makemessages_command(python: str = sys.executable) -> list[str]:
    """The command that brings the catalogs up to date with the sources (run from the project's root)."""
    languages = [arg for language in LANGUAGES for arg in ("-l", language)]
    return [python, "manage.py", "makemessages", *languages, *MAKEMESSAGES_OPTIONS]


def makemessages_env() -> dict[str, str]:
    """The environment to run it in: extracting messages never opens the database, so without a
    DATABASE_URL a placeholder stops the settings from starting the private PostgreSQL for nothing."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", "postgresql://makemessages@127.0.0.1:1/unused")
    return env


def main(argv: list[str]) -> int:
    if "--update" in argv:
        command = makemessages_command()
        return subprocess.run(command, cwd=LOCALE_DIR.parent, env=makemessages_env(), check=False).returncode
    if "--check" in argv:
        missing = [po for po in catalogs() if stale(po)]
        for po in missing:
            print(f"{po.with_suffix('.mo')} is missing or older than its .po", file=sys.stderr)
        return 1 if missing else 0
    for mo in compile_catalogs(force="--force" in argv):
        print(f"compiled {mo.relative_to(LOCALE_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
