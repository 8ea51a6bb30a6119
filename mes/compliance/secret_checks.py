"""Checking a signer's password or PIN, with a few minutes' memory of the ones that just matched.

Every signing checks the secret typed against its stored hash: PBKDF2, 60,000 rounds for a PIN (about 15 ms of
a core) and Django's full count for a password. An operator who signs every step of a busy cell types the same
PIN dozens of times an hour, and those hash checks became most of the server's CPU for a signed step.

So, for SIGNING_SECRET_MEMORY_SECONDS after a secret matched a stored hash (300 by default; 0 turns this off),
this process remembers an HMAC-SHA256 of that secret, keyed with 32 random bytes drawn when the process starts
and never stored, against that very hash. The same secret typed again for the same stored hash matches the
digest in microseconds; anything else is checked the full way.

What does not change:
- every signing still needs the secret, checked against the hash the database holds now (21 CFR 11.200): the
  memory is looked up by the stored hash, so a new PIN or password, or a reset, finds nothing remembered;
- a wrong secret is always checked in full and counted towards the lock (11.300) by the caller, as before;
  only matches are remembered, for a fixed time from the full check (a match does not extend it);
- nothing is written anywhere: the digests live in this process' memory and end with it.
Whoever can read a worker's memory could search these digests offline faster than the PBKDF2 hashes — but could
as well read the secrets themselves as requests bring them in, and the integrity keys; the database, backups and
logs (where a stolen hash usually comes from) hold nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User

# At most this many stored hashes remembered per process (each entry is ~200 bytes); the oldest go first.
REMEMBERED_LIMIT = 10_000

_key = secrets.token_bytes(32)
_lock = threading.Lock()
_remembered: OrderedDict[str, tuple[bytes, float]] = OrderedDict()


def memory_seconds() -> float:
    return float(getattr(settings, "SIGNING_SECRET_MEMORY_SECONDS", 300))


def _digest(secret: str, encoded: str) -> bytes:
    return hmac.new(_key, encoded.encode() + b"\x00" + secret.encode(), hashlib.sha256).digest()


def secret_matches(secret: str, encoded: str, setter: Callable[[str], None] | None = None) -> bool:
    """True when `secret` matches the stored hash `encoded` (as django's check_password, `setter` included:
    it re-hashes a secret whose hasher settings changed, on a full check)."""
    if not secret or not encoded:
        return False
    seconds = memory_seconds()
    if seconds <= 0:
        return check_password(secret, encoded, setter)
    digest = _digest(secret, encoded)
    with _lock:
        remembered = _remembered.get(encoded)
    if remembered is not None and remembered[1] > time.monotonic() and hmac.compare_digest(remembered[0], digest):
        return True
    if not check_password(secret, encoded, setter):
        return False
    with _lock:
        _remembered[encoded] = (digest, time.monotonic() + seconds)
        _remembered.move_to_end(encoded)
        while len(_remembered) > REMEMBERED_LIMIT:
            _remembered.popitem(last=False)
    return True


def password_matches(user: User, secret: str) -> bool:
    """`user.check_password(secret)` through the memory above (its re-hashing setter kept)."""

    def rehash(raw: str) -> None:
        user.set_password(raw)
        user._password = None  # type: ignore[attr-defined]  # as User.check_password: not a change of password
        user.save(update_fields=["password"])

    return secret_matches(secret, user.password, rehash)


def forget_all() -> None:
    """Forget every remembered match (tests; a process that wants a clean slate)."""
    with _lock:
        _remembered.clear()
