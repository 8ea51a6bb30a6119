"""The record bench's scratch database and what its tablets work on: a routing of STEPS steps x CHARS
numeric characteristics, one operator (with an API token and a signing PIN) per tablet, and their
travelers, built through the services."""

from __future__ import annotations

import os

import psycopg
import scratch  # bench/, on the path of every bench script

DB_NAME = os.environ.get("BENCH_DB", "traveler_bench")  # a name of your own if others bench too
STEPS, CHARS = 10, 10
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway scratch database
PIN = "482913"


def scratch_database_url() -> str:
    """The URL of a fresh scratch database on the same server as Traveler's."""
    return scratch.fresh_database(DB_NAME)


def drop_scratch(url: str) -> None:
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
