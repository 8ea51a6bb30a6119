"""One poll per adapter at a time, across every worker and machine: a PostgreSQL advisory lock.

Observed: two polls worked on the same drop file at once during a 22 s import (FileNotFoundError). The
lock is a session lock, taken without waiting, on a connection of its own for the length of the poll (so
it never travels back into the pool held): a worker that finds it taken skips the poll, since the one
holding it handles what is there. A worker killed mid-poll loses its connection, and with it the lock.
"""

from __future__ import annotations

import contextlib

from mes.database import own_connection

POLL_LOCK = 0x7E1A_0002  # advisory lock class: (POLL_LOCK, adapter id)


@contextlib.contextmanager
def poll_lock(adapter):
    """Yields True when this process holds the adapter's poll lock (released on exit), else False."""
    with own_connection() as conn:
        mine = bool(conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [POLL_LOCK, adapter.pk]).fetchone()[0])
        yield mine
