"""The integrity key ring: secrets that key the hashes of audit events, signatures and checkpoints.

A SHA-256 over content anyone can rebuild proves nothing to someone who can write the database: they
change a value and recompute every hash. Keyed hashes (HMAC-SHA256) with a secret held *outside* the
database can only be recomputed by whoever holds the key, so a rewrite by a database superuser shows.

Where the keys come from (docs/operations.md, "Key custody and rotation"):

    INTEGRITY_KEYS="2026a:<base64 secret>,2027a:<base64 secret>"   keys inline (e.g. from a secret store)
    INTEGRITY_KEY_FILE=/etc/traveler/integrity.keys                 one "<key id> <base64 secret>" a line
    INTEGRITY_KEY_ID=2027a                                          the key new records use (default: last)

On a laptop (no DATABASE_URL, the private PostgreSQL) a key file is made under var/ on first use, as
the secret key is. Anywhere else a missing key is an error: a server must never invent its own key.

Every record stores the id of the key that sealed it, so rotating to a new key keeps old records
verifiable as long as the old key stays in the ring (it is only retired from signing, never deleted).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .canonical import canonical_bytes
from .errors import ComplianceError

KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
MIN_SECRET_BYTES = 32


class IntegrityKeyMissing(ComplianceError):
    """No usable integrity key: records cannot be sealed or checked."""


@dataclass(frozen=True)
class Key:
    id: str
    secret: bytes = b""

    def __repr__(self) -> str:  # never print a secret
        return f"Key({self.id!r})"

    def mac(self, data: bytes) -> str:
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Ring:
    keys: dict[str, Key]
    current_id: str
    source: str

    @property
    def current(self) -> Key:
        return self.keys[self.current_id]


_lock = threading.Lock()
_ring: Ring | None = None


def _decode(key_id: str, text: str, where: str) -> Key:
    if not KEY_ID.match(key_id):
        raise IntegrityKeyMissing(f"{where}: key id {key_id!r} must be 1-32 letters, digits, '.', '_' or '-'")
    try:
        secret = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise IntegrityKeyMissing(f"{where}: the secret of key {key_id!r} is not base64") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise IntegrityKeyMissing(f"{where}: key {key_id!r} is {len(secret)} bytes; at least {MIN_SECRET_BYTES}")
    return Key(key_id, secret)


def parse(text: str, *, where: str) -> list[Key]:
    """Keys from "id secret" lines or "id:secret" items separated by commas; '#' starts a comment."""
    keys = []
    for raw in re.split(r"[,\n]", text):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(":", 1) if ":" in line and " " not in line else line.split(None, 1)
        if len(parts) != 2:
            raise IntegrityKeyMissing(f"{where}: expected '<key id> <base64 secret>', got {line[:20]!r}…")
        keys.append(_decode(parts[0].strip(), parts[1], where))
    return keys


def new_key_line(key_id: str) -> str:
    """A fresh key as one line of a key file."""
    if not KEY_ID.match(key_id):
        raise IntegrityKeyMissing(f"key id {key_id!r} must be 1-32 letters, digits, '.', '_' or '-'")
    return f"{key_id} {base64.b64encode(secrets.token_bytes(32)).decode()}\n"


def local_key_file() -> Path:
    return Path(settings.VAR_DIR) / "integrity.keys"


def _laptop() -> bool:
    return getattr(settings, "DATABASE_SOURCE", "") == "embedded"


def _load() -> Ring:
    inline = getattr(settings, "INTEGRITY_KEYS", "") or ""
    path = getattr(settings, "INTEGRITY_KEY_FILE", "") or ""
    keys: list[Key] = []
    sources = []
    if inline.strip():
        keys += parse(inline, where="INTEGRITY_KEYS")
        sources.append("INTEGRITY_KEYS")
    if path:
        file = Path(path)
        if not file.is_file():
            raise IntegrityKeyMissing(f"INTEGRITY_KEY_FILE={path} does not exist")
        keys += parse(file.read_text(), where=str(file))
        sources.append(str(file))
    if not keys and _laptop():
        file = local_key_file()
        if not file.exists():
            file.parent.mkdir(parents=True, exist_ok=True)
            with open(file, "x") as f:  # two processes starting at once: one writes, the other reads
                f.write("# Traveler integrity keys of this checkout (laptop only); see docs/operations.md\n")
                f.write(new_key_line("local-1"))
            file.chmod(0o600)
        keys += parse(file.read_text(), where=str(file))
        sources.append(str(file))
    if not keys:
        raise IntegrityKeyMissing(
            "no integrity key is configured: set INTEGRITY_KEY_FILE or INTEGRITY_KEYS "
            "(manage.py integrity_key new writes one; see docs/operations.md)"
        )
    ring: dict[str, Key] = {}
    for key in keys:
        if key.id in ring and ring[key.id].secret != key.secret:
            raise IntegrityKeyMissing(f"key id {key.id!r} is listed twice with different secrets")
        ring[key.id] = key
    current = getattr(settings, "INTEGRITY_KEY_ID", "") or keys[-1].id
    if current not in ring:
        raise IntegrityKeyMissing(f"INTEGRITY_KEY_ID={current} is not in the key ring")
    return Ring(ring, current, ", ".join(sources))


def ring() -> Ring:
    global _ring
    if _ring is None:
        with _lock:
            if _ring is None:
                _ring = _load()
    return _ring


def child_environment() -> dict[str, str]:
    """What a process this one starts (web, worker, beat) needs to use the same key ring: a laptop's key
    file is otherwise only looked for by processes on the private PostgreSQL, not by ones given its URL."""
    loaded = ring()
    if getattr(settings, "INTEGRITY_KEYS", "") or getattr(settings, "INTEGRITY_KEY_FILE", ""):
        return {}
    return {"INTEGRITY_KEY_FILE": loaded.source}


def current() -> Key:
    """The key that seals new records."""
    return ring().current


def get(key_id: str) -> Key | None:
    """A key of the ring by id, or None when this installation does not hold it."""
    return ring().keys.get(key_id)


def fingerprint(key: Key) -> str:
    """A public name for a key's secret (first 16 hex of SHA-256 of a fixed label under the key): lets
    two installations compare keys without showing them."""
    return key.mac(b"traveler key fingerprint")[:16]


def seal(content: Any) -> tuple[str, str]:
    """(key id, HMAC-SHA256 of the canonical JSON of `content`) with the current key."""
    key = current()
    return key.id, key.mac(canonical_bytes(content))


def check(content: Any, key_id: str, digest: str) -> bool:
    """True when `digest` is the HMAC of `content` under key `key_id`; IntegrityKeyMissing when the key
    is not in this installation's ring (the record cannot be checked here)."""
    key = get(key_id)
    if key is None:
        raise IntegrityKeyMissing(f"key {key_id!r} is not in this installation's key ring")
    return hmac.compare_digest(key.mac(canonical_bytes(content)), digest)


def reset() -> None:
    """Forget the loaded ring (tests change the settings; an operator rotates the keys)."""
    global _ring
    with _lock:
        _ring = None


@receiver(setting_changed)
def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in {"INTEGRITY_KEYS", "INTEGRITY_KEY_FILE", "INTEGRITY_KEY_ID", "VAR_DIR", "DATABASE_SOURCE"}:
        reset()
