"""The record bench's scratch database and what its tablets work on: a routing of STEPS steps x CHARS
numeric characteristics, one operator (with an API token and a signing PIN) per tablet, and their
travelers, built through the services."""

from __future__ import annotations

import os
import urllib.parse

import psycopg

DB_NAME = os.environ.get("BENCH_DB", "traveler_bench")  # a name of your own if others bench too
STEPS, CHARS = 10, 10
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway scratch database
PIN = "482913"


def scratch_database_url() -> str:
    """The URL of a fresh scratch database on the same server as Traveler's."""
    if os.environ.get("DATABASE_URL"):
        base = urllib.parse.urlsplit(os.environ["DATABASE_URL"])
        admin_url = base._replace(path="/postgres").geturl()
        url = base._replace(path=f"/{DB_NAME}").geturl()
    else:
        from mes import embedded  # noqa: PLC0415 — only without DATABASE_URL (the private server)

        url = embedded.ensure_running(DB_NAME).rsplit("/", 1)[0] + f"/{DB_NAME}"
        admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return url


def drop_scratch(url: str) -> None:
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def build(tablets: int, travelers_each: int = 1, *, soak_tablets: int = 0, soak_travelers: int = 0) -> list[dict]:
    """Master data, one operator per tablet (token), `travelers_each` travelers per tablet, then
    `soak_tablets` more with `soak_travelers` each. Returns the tablets (each with its first traveler as
    `traveler`, all of them as `travelers`), the soak's last."""
    from . import building  # noqa: PLC0415 — it imports models: only after the caller's django.setup()

    # The bench's passwords are only ever checked here, while building: a fast hasher for them (PBKDF2 costs
    # a second a user). The signing PINs keep theirs, which the server checks on every signing.
    with building.override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher", "mes.compliance.hashers.SigningPinHasher"]
    ):
        return building.build(tablets, travelers_each, soak_tablets, soak_travelers)
