"""System checks (manage.py check): records cannot be sealed without an integrity key."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, register

from . import keys


@register(Tags.security)
def integrity_key_configured(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        keys.ring()
    except keys.IntegrityKeyMissing as exc:
        return [
            Error(
                str(exc),
                hint="Set INTEGRITY_KEY_FILE (or INTEGRITY_KEYS); `manage.py integrity_key new ID` prints a key "
                "line. Keep the key outside the database and its backups (docs/operations.md).",
                id="compliance.E001",
            )
        ]
    return []
