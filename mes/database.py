"""A connection of its own, outside Django's pool: for a health check that must not wait for the pool,
and for a session advisory lock that must not travel back into the pool with a connection."""

from __future__ import annotations

import psycopg
from django.db import connection


def own_connection(*, connect_timeout: int = 2, autocommit: bool = True) -> psycopg.Connection:
    db = connection.settings_dict
    params = {
        "dbname": db["NAME"],
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": db.get("PORT"),
        "application_name": (db.get("OPTIONS") or {}).get("application_name"),
    }
    return psycopg.connect(
        connect_timeout=connect_timeout, autocommit=autocommit, **{k: v for k, v in params.items() if v}
    )
