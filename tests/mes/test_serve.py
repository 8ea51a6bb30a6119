"""`make run`'s promise: one command migrates, seeds, serves with gunicorn + Celery worker + beat, and
Ctrl-C stops every process it started. Runs `manage.py serve` for real against a scratch database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg
import pytest
from django.db import connection

from mes.management.commands.serve import gauges_endpoint

ROOT = Path(__file__).resolve().parents[2]
SCRATCH_DB = "traveler_serve_check"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def scratch_database_url(django_db_blocker):
    """A fresh database on the server the suite uses, dropped afterwards."""
    with django_db_blocker.unblock():
        params = connection.get_connection_params()
    conninfo = {k: params[k] for k in ("host", "port", "user", "password") if params.get(k)}
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{SCRATCH_DB}"')
    host = params["host"]
    netloc = (
        f"{params['user']}@{urllib.parse.quote(host, safe='')}"
        if host.startswith("/")
        else f"{params['user']}@{host}:{params.get('port') or 5432}"
    )
    yield f"postgresql://{netloc}/{SCRATCH_DB}"
    with psycopg.connect(dbname="postgres", autocommit=True, **conninfo) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)')


def test_serve_starts_everything_and_ctrl_c_stops_it_all(scratch_database_url, tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": scratch_database_url, "PORT": str(port), "WEB_WORKERS": "1"}
    env.pop("CELERY_BROKER_URL", None)  # the laptop default: filesystem transport, no broker server
    env["TRAVELER_VAR_DIR"] = str(tmp_path / "var")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                pytest.fail("serve exited early:\n" + "".join(output[-40:]))
            output.append(line)
            if "Press Ctrl-C" in line:
                break
        else:
            pytest.fail("serve did not come up in time:\n" + "".join(output[-40:]))
        banner = "".join(output)
        # Go on reading what serve prints, as a terminal does: a pipe nobody reads fills up (64 KiB of
        # worker and web logs) and blocks every process writing to it, the shutdown included.
        threading.Thread(target=lambda: [output.append(line) for line in proc.stdout], daemon=True).start()
        assert f"http://localhost:{port}/" in banner
        assert "Demo logins" in banner

        status, body = _get(f"http://127.0.0.1:{port}/healthz")
        assert status == 200, body
        status, body = _get(f"http://127.0.0.1:{port}/admin/login/")
        assert status == 200 and b"Traveler" in body
        status, _ = _get(f"http://127.0.0.1:{port}/static/admin/css/base.css")
        assert status == 200  # static files through whitenoise

        # The URL and the logins come again once the workers' start-up lines have passed, and the default
        # logs are quiet: no line per request.
        deadline = time.monotonic() + 60
        while "".join(output).count("Press Ctrl-C") < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        later = "".join(output)
        assert later.count("Demo logins") >= 2, later[-3000:]
        assert "GET /admin/login/" not in later

        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(c.cmdline()) for c in children)
        assert "gunicorn" in names and "worker" in names and "beat" in names

        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        proc.wait(timeout=60)
        time.sleep(0.5)
        assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_gauges_move_with_the_web_port(monkeypatch):
    monkeypatch.delenv("OPCUA_GAUGES_ENDPOINT", raising=False)
    assert gauges_endpoint(8000) == "opc.tcp://127.0.0.1:4840/traveler/gauges"
    assert gauges_endpoint(8100) == "opc.tcp://127.0.0.1:4940/traveler/gauges"
    assert gauges_endpoint(80) == "opc.tcp://127.0.0.1:4840/traveler/gauges"  # 4840-7920 is no port
    monkeypatch.setenv("OPCUA_GAUGES_ENDPOINT", "opc.tcp://gauges.plant:4840/x")
    assert gauges_endpoint(8100) == "opc.tcp://gauges.plant:4840/x"
