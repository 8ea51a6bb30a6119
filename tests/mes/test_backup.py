"""Backup and the restore drill (21 CFR 11.10(c), Annex 11 §7.2): a fresh backup restores into records
that verify; a backup with one byte altered is refused before anything is restored."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from mes.backup import DUMP, MANIFEST, backup_create, restore_check
from mes.compliance import checkpoints
from tests.travelers.conftest import do_step, shop, traveler  # noqa: F401 - fixtures

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.regulation("Annex 11 §7", "21 CFR 11.10(c)"),
]  # pg_dump sees committed rows only


def test_a_fresh_backup_restores_into_records_that_verify(shop, traveler, tmp_path, capsys):  # noqa: F811
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    checkpoints.checkpoint_write()
    call_command("backup", "--to", str(tmp_path / "backups"))
    (folder,) = (tmp_path / "backups").iterdir()
    assert {p.name for p in folder.iterdir()} == {DUMP, MANIFEST}
    call_command("restore_check", str(folder))
    out = capsys.readouterr().out
    assert "dump: " in out and "SHA-256 as in the manifest" in out and "restore check passed" in out
    assert "verifier: records intact" in out and "travelers_measurement 2" in out


def test_a_backup_with_one_altered_byte_fails_the_drill(shop, traveler, tmp_path):  # noqa: F811
    made = backup_create(to=str(tmp_path / "backups"))
    dump = Path(made.where) / DUMP
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0x01
    dump.write_bytes(bytes(data))
    report = restore_check(made.where)
    assert not report.ok and "the dump was altered or damaged" in report.lines[-1]
    with pytest.raises(CommandError, match="restore check FAILED"):
        call_command("restore_check", made.where)


def test_an_altered_manifest_fails_the_drill(shop, traveler, tmp_path):  # noqa: F811
    made = backup_create(to=str(tmp_path / "backups"))
    manifest = Path(made.where) / MANIFEST
    manifest.write_bytes(manifest.read_bytes().replace(b'"travelers_traveler":1', b'"travelers_traveler":2'))
    report = restore_check(made.where)
    assert not report.ok and report.lines == ["manifest: does not match its seal: it was altered"]
