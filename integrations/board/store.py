"""Where the board's current state lives: Redis when configured (shared by every web worker), else a
dictionary in this process. Both hold the same things:

    cursor              the last outbox event applied
    rows:<site>         traveler number -> its board row (JSON)
    next:<site>         what the legacy MES scheduled next at the site (JSON list)
    sites               the site codes with a board
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

from django.conf import settings

PREFIX = "traveler:board:"
LOCK = "traveler:board-lock"  # outside PREFIX: a rebuild clears the state under the lock, not the lock


def redis_url() -> str:
    url = getattr(settings, "BOARD_REDIS_URL", "") or ""
    broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
    return url or (broker if broker.startswith(("redis://", "rediss://")) else "")


class MemoryStore:
    kind = "in-process"

    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.cursor: int | None = None
        self.rows: dict[str, dict[str, dict]] = {}
        self.next: dict[str, list] = {}

    @contextmanager
    def locked(self):
        with self._lock:
            yield

    def get_cursor(self) -> int | None:
        return self.cursor

    def set_cursor(self, value: int) -> None:
        self.cursor = value

    def put(self, site: str, number: str, row: dict) -> None:
        self.rows.setdefault(site, {})[number] = row

    def drop(self, site: str, number: str) -> None:
        self.rows.get(site, {}).pop(number, None)

    def site_rows(self, site: str) -> list[dict]:
        return list(self.rows.get(site, {}).values())

    def set_next(self, site: str, items: list) -> None:
        self.next[site] = items

    def get_next(self, site: str) -> list:
        return list(self.next.get(site, []))

    def sites(self) -> list[str]:
        return sorted(set(self.rows) | set(self.next))


class RedisStore:
    kind = "redis"

    def __init__(self, url: str):
        import redis  # noqa: PLC0415 — only a board kept in Redis (REDIS_URL) needs the client

        self.r = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2)

    def clear(self) -> None:
        keys = list(self.r.scan_iter(f"{PREFIX}*"))
        if keys:
            self.r.delete(*keys)

    @contextmanager
    def locked(self):
        with self.r.lock(LOCK, timeout=30, blocking_timeout=10):
            yield

    def get_cursor(self) -> int | None:
        value = self.r.get(f"{PREFIX}cursor")
        return int(value) if value is not None else None

    def set_cursor(self, value: int) -> None:
        self.r.set(f"{PREFIX}cursor", value)

    def put(self, site: str, number: str, row: dict) -> None:
        self.r.hset(f"{PREFIX}rows:{site}", number, json.dumps(row))
        self.r.sadd(f"{PREFIX}sites", site)

    def drop(self, site: str, number: str) -> None:
        self.r.hdel(f"{PREFIX}rows:{site}", number)

    def site_rows(self, site: str) -> list[dict]:
        return [json.loads(v) for v in self.r.hvals(f"{PREFIX}rows:{site}")]

    def set_next(self, site: str, items: list) -> None:
        self.r.set(f"{PREFIX}next:{site}", json.dumps(items))
        self.r.sadd(f"{PREFIX}sites", site)

    def get_next(self, site: str) -> list:
        value = self.r.get(f"{PREFIX}next:{site}")
        return json.loads(value) if value else []

    def sites(self) -> list[str]:
        return sorted(self.r.smembers(f"{PREFIX}sites"))


_memory = MemoryStore()


def board_store():
    """The configured store (a new Redis client each call is cheap: the pool is per URL)."""
    url = redis_url()
    return RedisStore(url) if url else _memory
