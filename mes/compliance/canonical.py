"""Canonical JSON: one byte string per content, so its SHA-256 can be recomputed by anyone.

Keys sorted, no whitespace, UTF-8; decimals as plain strings without trailing zeros ("12.7", never
"1.27E+1"); datetimes in UTC as ISO 8601 with "Z"; dates as ISO 8601. The same rules are written
out in docs/ for verifiers that do not run Traveler."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal
from typing import Any

from mes.numbers import decimal_text


def _default(value: object) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in signed or audited content")
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not part of canonical JSON")


def canonical_bytes(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default).encode(
        "utf-8"
    )


def canonical_hash(content: Any) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def jsonable(content: Any) -> Any:
    """The content as plain JSON types, exactly as it is hashed (for storing in JSON fields)."""
    return json.loads(canonical_bytes(content))
