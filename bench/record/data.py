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
