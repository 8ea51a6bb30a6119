"""The French and Spanish catalogs: complete, placeholders intact, and up to date with the sources."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import translation

from mes.catalogs import LANGUAGES, LOCALE_DIR, makemessages_command, makemessages_env
from tests.conftest import require_service

ROOT = Path(settings.BASE_DIR)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]|%[sd]")


def _catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language):
    catalog = _catalog(language)
    assert len(catalog) > 500
    untranslated = [e.msgid for e in catalog if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in catalog if "fuzzy" in e.flags or e.previous_msgid or e.previous_msgid_plural]
    assert not untranslated, f"{len(untranslated)} messages lack a {language} translation: {untranslated[:10]}"
    assert not fuzzy, f"{len(fuzzy)} {language} translations are marked fuzzy (check them): {fuzzy[:10]}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    wrong = []
    for entry in _catalog(language):
        if entry.msgid_plural:
            pairs = [(entry.msgid_plural, text) for text in entry.msgstr_plural.values()]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        wrong += [(source, text) for source, text in pairs if _placeholders(source) != _placeholders(text)]
    assert not wrong, f"{language} translations that lose or add a placeholder: {wrong[:5]}"


def test_the_compiled_catalogs_are_what_pages_read():
    with translation.override("fr"):
        assert translation.gettext("Holds") == "Blocages"
    with translation.override("es"):
        assert translation.gettext("Holds") == "Retenciones"
        assert translation.ngettext("%(n)s open NCR", "%(n)s open NCRs", 2) == "%(n)s NC abiertas"


def test_catalogs_hold_every_message_of_the_sources(tmp_path):
    """makemessages over a copy of the sources: a message in the code or templates that the committed
    catalogs lack (or a stale one they still hold) fails here. Needs GNU gettext's xgettext (CI installs it)."""
    if shutil.which("xgettext") is None:
        require_service("GNU gettext (xgettext) is not installed: cannot extract messages to compare")
    for name in ("manage.py", "mes", "travelers", "integrations", "templates"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy(source, tmp_path / name)
    for language in LANGUAGES:
        (tmp_path / "locale" / language / "LC_MESSAGES").mkdir(parents=True)
    subprocess.run(
        makemessages_command(),
        cwd=tmp_path,
        env=makemessages_env(),
        check=True,
        capture_output=True,
        timeout=300,
    )
    for language in LANGUAGES:
        extracted = {
            (e.msgctxt, e.msgid, e.msgid_plural)
            for e in polib.pofile(str(tmp_path / "locale" / language / "LC_MESSAGES" / "django.po"))
        }
        committed = {(e.msgctxt, e.msgid, e.msgid_plural) for e in _catalog(language) if not e.obsolete}
        missing, stale = sorted(extracted - committed, key=str), sorted(committed - extracted, key=str)
        assert not missing, f"{len(missing)} messages are not in the {language} catalog (make catalogs): {missing[:8]}"
        assert not stale, f"{len(stale)} {language} messages are no longer in the sources (make catalogs): {stale[:8]}"
