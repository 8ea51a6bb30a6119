"""Secrets that matched their slow hash a moment ago, remembered by this process so that a signer's next
signing does not pay the slow hash again.

Every signing checks the secret (21 CFR 11.200(a)(1): each later signing of a session uses at least the
secret). Against its stored hash that costs PBKDF2: ~50 ms of a core for a PIN, ~1 s for a password. An
operator signs every step, so on a busy cell those checks were most of the server's work per step and
every tablet queued behind them (issue 15: signing ~1 s p50 at 20 tablets on two cores).

After a secret matched a stored hash here, this process remembers for SIGNING_SECRET_MEMORY_SECONDS a
keyed digest of (user, stored hash, secret) under a random key made at start and never written anywhere.
A later check whose secret gives the same digest for the same user and the same stored hash is a match
without PBKDF2. Anything else goes to the full check, so it is counted exactly as before: a wrong secret,
a changed PIN or password (its stored hash changed, salt and all, so the old entry no longer applies), an
entry older than the setting. Locks, ageing and a reset are read from the database before any check
(mes.compliance.signing), so none of them waits for an entry to expire. 0 turns the memory off.

What is kept is no secret and no hash that leaves the process: a reader of this process's memory could
search the 10^6 PINs against a digest with the key beside it, as they could against the stored PBKDF2 hash
of the database (mes.compliance.hashers: a PIN is protected online, by the lockout) and as they could read
the secrets in the requests this process handles."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings

MAX_ENTRIES = 10_000  # one per signer and stored hash; the oldest go first

_key = secrets.token_bytes(32)
_lock = threading.Lock()
_entries: OrderedDict[tuple[int, str], tuple[bytes, float]] = OrderedDict()


def memory_seconds() -> float:
    return float(getattr(settings, "SIGNING_SECRET_MEMORY_SECONDS", 0))


def _digest(user_id: int, encoded: str, secret: str) -> bytes:
    message = b"\0".join((str(user_id).encode(), encoded.encode(), secret.encode()))
    return hmac.new(_key, message, hashlib.sha256).digest()


def matches(*, user_id: int, encoded: str, secret: str, full_check: Callable[[], bool]) -> bool:
    """True when `secret` is the one `encoded` (a stored hash of user `user_id`'s) was made from: from a
    recent match of this process, else by `full_check()` (the slow hash), which a match then remembers."""
    if not secret or not encoded:
        return False
    seconds = memory_seconds()
    if seconds <= 0:
        return full_check()
    digest = _digest(user_id, encoded, secret)
    now = time.monotonic()
    with _lock:
        entry = _entries.get((user_id, encoded))
    if entry is not None and entry[1] > now and hmac.compare_digest(entry[0], digest):
        return True
    if not full_check():
        return False
    with _lock:
        _entries[(user_id, encoded)] = (digest, now + seconds)
        _entries.move_to_end((user_id, encoded))
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return True


def forget_all() -> None:
    """Drop every remembered match (tests; a process that wants the full check on every signing again)."""
    with _lock:
        _entries.clear()
