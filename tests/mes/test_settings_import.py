"""Importing the settings reads the environment and does nothing else; the entry points' prepare() makes
what a laptop needs (mes.bootstrap). Each case runs in a fresh interpreter: settings are process-wide."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LAPTOP_LEFT = ("DATABASE_URL", "SECRET_KEY", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def run(code: str, var_dir: Path, **env: str) -> dict:
    """Run `code` (which prints one JSON line last) with a laptop's environment and `var_dir`."""
    base = {k: v for k, v in os.environ.items() if k not in LAPTOP_LEFT}
    base.update({"DJANGO_SETTINGS_MODULE": "mes.settings", "TRAVELER_VAR_DIR": str(var_dir), **env})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_importing_the_settings_and_setting_up_django_start_nothing_and_write_nothing(tmp_path):
    var_dir = tmp_path / "var"
    code = (
        "import json, django; from mes import embedded; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({'source': s.DATABASE_SOURCE, 'host': s.DATABASES['default']['HOST'], "
        "'started': embedded.started_here, 'running': embedded.is_running()}))"
    )
    seen = run(code, var_dir)
    assert seen == {"source": "embedded", "host": "", "started": False, "running": False}
    assert not var_dir.exists()  # no secret key, no broker folders, no database files


def test_prepare_makes_the_secret_key_and_the_broker_folders_once(tmp_path):
    var_dir = tmp_path / "var"
    code = (
        "import json; from mes.bootstrap import prepare; prepare(); from django.conf import settings as s; "
        "print(json.dumps({'key': s.SECRET_KEY, 'source': s.DATABASE_SOURCE}))"
    )
    database = "postgresql://nobody@127.0.0.1:1/unused"  # named, never connected to
    first = run(code, var_dir, DATABASE_URL=database)
    key_file = var_dir / "secret_key"
    assert first["source"] == "DATABASE_URL"
    assert first["key"] == key_file.read_text().strip() and len(first["key"]) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in (var_dir / "celery").iterdir()) == ["control", "processed", "queue", "results"]
    again = run(code, var_dir, DATABASE_URL=database)
    assert again["key"] == first["key"]  # the checkout keeps its key: sessions survive a restart


def test_prepare_leaves_a_configured_secret_key_and_broker_alone(tmp_path):
    var_dir = tmp_path / "var"
    code = "import json; from mes.bootstrap import prepare; prepare(); print(json.dumps({}))"
    run(
        code,
        var_dir,
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/unused",
        SECRET_KEY="k" * 50,
        CELERY_BROKER_URL="redis://127.0.0.1:6379/10",
    )
    assert not var_dir.exists()


def test_prepare_points_django_at_the_private_server_it_started(tmp_path):
    # The server itself is what `make test` and `make run` start; here its URL is stood in for, to see
    # that Django's connection (the very dict the connection handler holds) is pointed at it.
    code = (
        "import json; from mes import embedded; "
        "embedded.ensure_running = lambda: 'postgresql://postgres@%2Frun%2Fpg-socket/traveler'; "
        "from mes.bootstrap import prepare; from django.db import connections; "
        "before = connections['default'].settings_dict; prepare(); "
        "print(json.dumps({'host': before['HOST'], 'user': before['USER'], 'name': before['NAME']}))"
    )
    seen = run(code, tmp_path / "var")
    assert seen == {"host": "/run/pg-socket", "user": "postgres", "name": "traveler"}


def test_the_software_version_is_the_installed_packages():
    assert settings.SOFTWARE_VERSION == metadata.version("traveler") != ""


def test_preparing_again_keeps_the_database_a_test_run_chose(tmp_path):
    """A Celery worker started inside a test run prepares again (worker_init): the test database the run
    switched to must stay the connection's, or every separate connection opens the dev database."""
    code = (
        "import json; from mes import embedded; "
        "embedded.ensure_running = lambda: 'postgresql://postgres@%2Frun%2Fpg-socket/traveler'; "
        "from mes.bootstrap import prepare; from django.db import connections; "
        "prepare(); connections['default'].settings_dict['NAME'] = 'test_traveler'; prepare(); "
        "print(json.dumps({'name': connections['default'].settings_dict['NAME']}))"
    )
    assert run(code, tmp_path / "var") == {"name": "test_traveler"}
