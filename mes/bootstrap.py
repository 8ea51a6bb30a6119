"""What a process of this project does before Django serves anything on a laptop, kept out of the settings
(importing mes.settings reads the environment and nothing else: no server started, no file written).

Entry points call `prepare()`: manage.py, mes.wsgi, mes.asgi, a Celery worker or beat (mes.celery), the
test run (tests/conftest.py); a script calls `setup()`. Each step does something only when the
environment leaves it to the laptop:

- no SECRET_KEY: the per-checkout key under VAR_DIR/secret_key is made on first use;
- the filesystem broker (no CELERY_BROKER_URL): its folders under VAR_DIR/celery;
- no DATABASE_URL: the private PostgreSQL of mes.embedded is started and Django's default connection
  pointed at it (its socket directory is known only once it runs).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
import django
from django.conf import settings

from mes import embedded

BROKER_FOLDERS = ("queue", "processed", "results", "control")
_database_pointed = False  # prepare() has pointed Django's connection at the private PostgreSQL


def local_secret_key(var_dir: Path) -> str:
    """The checkout's own SECRET_KEY (laptops; production sets SECRET_KEY), made on first use."""
    path = var_dir / "secret_key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def prepare() -> None:
    """Make what the settings name but leave to the laptop: the secret key, the broker's folders, the
    private database. Idempotent; a no-op for whatever the environment provides."""
    if not os.environ.get("SECRET_KEY"):
        settings.SECRET_KEY = local_secret_key(Path(settings.VAR_DIR))
    if settings.CELERY_BROKER_URL.startswith("filesystem"):
        for folder in BROKER_FOLDERS:
            (Path(settings.CELERY_QUEUE_DIR) / folder).mkdir(parents=True, exist_ok=True)
    global _database_pointed
    if settings.DATABASE_SOURCE == "embedded" and not _database_pointed:
        running = dj_database_url.parse(embedded.ensure_running())
        # In place: Django's connection handler holds this very dict. Once per process: a later call (a
        # Celery worker started inside a test run) must not point a test database back at the dev one.
        settings.DATABASES["default"].update({k: running[k] for k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")})
        _database_pointed = True


def setup() -> None:
    """For scripts: prepare, then django.setup()."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
    prepare()
    django.setup()
