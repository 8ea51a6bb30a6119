"""Backups of the database, and the drill that proves one restores into records that verify.

    manage.py backup [--to DIR|s3://bucket/prefix]        -> <to>/<UTC time>/traveler.dump + manifest.json
    manage.py restore_check <to>/<UTC time> [--keep]      -> restored into a scratch database, verified

A backup is PostgreSQL's own custom-format dump (pg_dump -Fc: compressed, restorable table by table,
by pg_restore of the same or a newer version) and a manifest naming what it holds: its SHA-256 and
size, the server and software versions, the newest integrity checkpoint it should agree with, the
integrity keys its records use (ids only), and row counts. The manifest is sealed with the integrity
key, so neither it nor the dump can be swapped unseen. Point-in-time recovery in production uses the
server's own tools (WAL archiving; see docs/operations.md): this is the portable copy and its check.

`restore_check` refuses a backup whose dump does not hash to its manifest (one altered byte is enough),
restores it into a new scratch database on the same server, runs the verifier there (checkpoints up to
the backup's time; what came after is not in a backup), reports, and drops the scratch database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import fsspec
import psycopg
from django.conf import settings
from django.db import connection
from django.utils import timezone

from mes import embedded
from mes.compliance import keys
from mes.compliance.canonical import canonical_bytes
from mes.compliance.models import AuditEvent, IntegrityCheckpoint, Signature

DUMP = "traveler.dump"
MANIFEST = "manifest.json"
SCHEMA = "traveler.backup"
COUNTED = ("travelers_traveler", "travelers_measurement", "compliance_auditevent", "compliance_signature")


class BackupError(RuntimeError):
    """A backup could not be made, read or restored; the message says why."""


def backup_url() -> str:
    return getattr(settings, "BACKUP_URL", "") or str(Path(settings.VAR_DIR) / "backups")


def _tool(name: str) -> str:
    """pg_dump / pg_restore: the private server's own (as new as it), else the one on PATH."""
    if getattr(settings, "DATABASE_SOURCE", "") == "embedded" or not shutil.which(name):
        candidate = embedded.bin_dir() / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (it comes with PostgreSQL's client tools)")
    return found


def _libpq_env(db: dict) -> dict:
    env = dict(os.environ)
    host = db.get("HOST") or ""
    env.update(
        PGHOST=host,
        PGPORT=str(db.get("PORT") or ""),
        PGUSER=db.get("USER") or "",
        PGDATABASE=db["NAME"],
    )
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return {k: v for k, v in env.items() if v != "" or k not in ("PGHOST", "PGPORT", "PGUSER")}


def _run(args: list[str], env: dict, what: str) -> subprocess.CompletedProcess:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {(done.stderr or done.stdout).strip()[:2000]}")
    return done


def _sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while chunk := f.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def manifest_seal_content(manifest: dict) -> dict:
    return {k: v for k, v in manifest.items() if k != "seal"}


@dataclass(frozen=True)
class Backup:
    where: str
    manifest: dict


def backup_create(*, to: str | None = None) -> Backup:
    """Dump the database and write the dump and its sealed manifest under `to` (a folder or s3://…)."""
    db = connection.settings_dict
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
        counts = {}
        for table in COUNTED:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant table names
            counts[table] = cursor.fetchone()[0]
    newest = IntegrityCheckpoint.objects.order_by("-number").first()
    key_ids = sorted(
        set(AuditEvent.objects.values_list("key_id", flat=True).distinct())
        | set(Signature.objects.values_list("key_id", flat=True).distinct())
    )
    with tempfile.TemporaryDirectory(prefix="traveler-backup-") as tmp:
        dump = Path(tmp) / DUMP
        _run([_tool("pg_dump"), "-Fc", "--no-owner", "--no-privileges", "-f", str(dump)], _libpq_env(db), "pg_dump")
        sha, size = _sha256(dump)
        key = keys.current()
        manifest = {
            "schema": SCHEMA,
            "schema_version": 1,
            "created_at": now,
            "database": db["NAME"],
            "server_version": server_version,
            "software_version": settings.SOFTWARE_VERSION,
            "dump": {"file": DUMP, "format": "pg_dump custom", "sha256": sha, "size": size},
            "row_counts": counts,
            "integrity": {
                "checkpoint": {"number": newest.number, "seal": newest.seal, "created_at": newest.created_at}
                if newest
                else None,
                "key_ids": key_ids,
            },
            "key_id": key.id,
        }
        manifest["seal"] = key.mac(canonical_bytes(manifest_seal_content(manifest)))
        (Path(tmp) / MANIFEST).write_bytes(canonical_bytes(manifest))
        target = f"{(to or backup_url()).rstrip('/')}/{now:%Y%m%dT%H%M%SZ}"
        fs, root = fsspec.core.url_to_fs(target)
        fs.makedirs(root, exist_ok=True)
        for name in (DUMP, MANIFEST):
            fs.put_file(str(Path(tmp) / name), f"{root}/{name}")
    return Backup(target, json.loads(canonical_bytes(manifest)))


# --- The drill ------------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    backup: str
    ok: bool
    lines: list[str]


def _fetch(where: str, into: Path) -> dict:
    fs, root = fsspec.core.url_to_fs(where)
    for name in (DUMP, MANIFEST):
        try:
            fs.get_file(f"{root.rstrip('/')}/{name}", str(into / name))
        except FileNotFoundError:
            raise BackupError(f"{where} has no {name}: not a backup") from None
    try:
        return json.loads((into / MANIFEST).read_bytes())
    except ValueError as exc:
        raise BackupError(f"the manifest of {where} is unreadable: {exc}") from None


def _scratch_url(name: str) -> str:
    if getattr(settings, "DATABASE_SOURCE", "") == "embedded":
        base = embedded.ensure_running()
    else:
        base = os.environ["DATABASE_URL"]
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def _verifier_env(url: str) -> dict:
    """The environment of the verifier run against the scratch database: this installation's keys and lake."""
    env = dict(os.environ, DATABASE_URL=url, DATA_LAKE_URL=getattr(settings, "DATA_LAKE_URL", "") or "")
    if settings.INTEGRITY_KEYS or settings.INTEGRITY_KEY_FILE:
        env.update(INTEGRITY_KEYS=settings.INTEGRITY_KEYS, INTEGRITY_KEY_FILE=settings.INTEGRITY_KEY_FILE)
    else:  # a laptop's own key file, which a process with DATABASE_URL would not look for
        env["INTEGRITY_KEY_FILE"] = str(keys.local_key_file())
    if settings.INTEGRITY_KEY_ID:
        env["INTEGRITY_KEY_ID"] = settings.INTEGRITY_KEY_ID
    return env


def _admin_connect():
    db = connection.settings_dict
    params = {"dbname": "postgres", "host": db.get("HOST") or None, "port": db.get("PORT") or None}
    params.update(user=db.get("USER") or None, password=db.get("PASSWORD") or None)
    return psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True)


def restore_check(where: str, *, keep: bool = False) -> RestoreReport:
    """Check one backup end to end (see the module docstring); never touches the live database."""
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="traveler-restore-") as tmp:
        manifest = _fetch(where, Path(tmp))
        if manifest.get("schema") != SCHEMA:
            raise BackupError(f"{where}: the manifest is not a Traveler backup manifest")
        try:
            sealed = keys.check(manifest_seal_content(manifest), manifest.get("key_id", ""), manifest.get("seal", ""))
        except keys.IntegrityKeyMissing as exc:
            return RestoreReport(where, False, [f"manifest: cannot be checked: {exc}"])
        if not sealed:
            return RestoreReport(where, False, ["manifest: does not match its seal: it was altered"])
        lines.append(f"manifest: sealed with key {manifest['key_id']}, made {manifest['created_at']}")
        sha, size = _sha256(Path(tmp) / DUMP)
        if (sha, size) != (manifest["dump"]["sha256"], manifest["dump"]["size"]):
            lines.append(
                f"dump: {size} bytes sha256 {sha[:16]}…, the manifest says {manifest['dump']['size']} bytes "
                f"{manifest['dump']['sha256'][:16]}…: the dump was altered or damaged"
            )
            return RestoreReport(where, False, lines)
        lines.append(f"dump: {size} bytes, SHA-256 as in the manifest")
        scratch = f"restore_check_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}_{os.getpid()}"
        with _admin_connect() as admin:
            admin.execute(f'CREATE DATABASE "{scratch}"')
        try:
            url = _scratch_url(scratch)
            env = _verifier_env(url)
            _run(
                [_tool("pg_restore"), "--no-owner", "--no-privileges", "-d", url, str(Path(tmp) / DUMP)],
                env,
                "pg_restore",
            )
            lines.append(f"restored into scratch database {scratch}")
            with psycopg.connect(url) as conn:
                for table, expected in manifest["row_counts"].items():
                    got = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 - manifest tables
                    if got != expected:
                        lines.append(f"{table}: {got} rows restored, the manifest says {expected}")
                        return RestoreReport(where, False, lines)
            lines.append(
                "row counts as in the manifest: " + ", ".join(f"{t} {n}" for t, n in manifest["row_counts"].items())
            )
            until = manifest["created_at"]
            verify = subprocess.run(  # noqa: S603 - our own manage.py with our own arguments
                [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "verify_audit", "--no-record",
                 "--checkpoints-until", until, "--all"],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            out = (verify.stdout + verify.stderr).strip().splitlines()
            lines.extend(f"verifier: {line}" for line in out if not line.startswith("{"))
            return RestoreReport(where, verify.returncode == 0, lines)
        finally:
            if keep:
                lines.append(f"kept scratch database {scratch}")
            else:
                with _admin_connect() as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
