"""What an attacker with full database rights does: SQL with the guards switched off (a superuser's
`session_replication_role = replica`), so tests can show that the verifier still finds it."""

from __future__ import annotations

from django.db import connection


def as_superuser(sql: str, params=()) -> None:
    """Run `sql` as a database superuser would to rewrite history: every trigger off, for this statement."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
