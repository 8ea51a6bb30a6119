"""What the benchmarks that need a large generated history share: a scratch database on the server
Traveler uses (the private one, or the server of DATABASE_URL), and the environment of the commands
they run against it (the integrity key of this checkout included, so generated records are keyed)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mes import embedded  # noqa: E402 - the checkout's code


def server_urls(db_name: str) -> tuple[str, str]:
    """(admin URL, scratch database URL) on the server Traveler uses."""
    if os.environ.get("DATABASE_URL"):
        base = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        return base._replace(path="/postgres").geturl(), base._replace(path=f"/{db_name}").geturl()
    url = embedded.ensure_running()
    return url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[0] + f"/{db_name}"


def fresh_database(db_name: str) -> str:
    """A new, empty scratch database `db_name` on the server Traveler uses (one left over from an earlier
    run is dropped first); returns its URL."""
    admin_url, url = server_urls(db_name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    return url


def admin(db_name: str, sql: str) -> None:
    with psycopg.connect(server_urls(db_name)[0], autocommit=True) as conn:
        conn.execute(sql)


def key_environment() -> dict[str, str]:
    """The integrity key for commands run with a DATABASE_URL: the environment's, else this checkout's file
    (made as a laptop's is, if missing)."""
    if os.environ.get("INTEGRITY_KEYS") or os.environ.get("INTEGRITY_KEY_FILE"):
        return {}
    path = ROOT / "var" / "integrity.keys"
    if not path.exists():
        subprocess.run(  # a laptop's key file appears on first use of the private server's settings
            [sys.executable, str(ROOT / "manage.py"), "integrity_key", "show"], cwd=ROOT, check=True,
            capture_output=True, env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        )  # fmt: skip
    return {"INTEGRITY_KEY_FILE": str(path)}


def manage(env: dict, *args: str, capture: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT, capture_output=capture,
        text=True,
    )  # fmt: skip
