"""The data lake as the store of integrity checkpoints (mes.compliance.checkpoints): each checkpoint is one
object under integrity/checkpoints/, written once (never replaced) and, on S3, under an Object Lock legal
hold: the checkpoints must outlive every record they cover."""

from __future__ import annotations

import tempfile
from pathlib import Path

from mes.compliance.checkpoints import FOLDER

from . import lake as lakes
from .errors import StoreUnavailable


class LakeCheckpointStore:
    def __init__(self, lake: lakes.Lake | None = None):
        self.lake = lake or lakes.Lake()

    def write_once(self, name: str, data: bytes) -> tuple[str, str]:
        with tempfile.TemporaryDirectory(prefix="traveler-checkpoint-") as tmp:
            path = Path(tmp) / name
            path.write_bytes(data)
            stored = self.lake.put_once(f"{FOLDER}/{name}", path, retain_until=None)
        if not stored.created:
            raise StoreUnavailable(f"checkpoint {name} is already in the lake: it is never written twice")
        return stored.uri, stored.object_lock

    def names(self) -> list[str]:
        folder = self.lake.path(FOLDER)
        try:
            entries = self.lake.fs.ls(folder, detail=False)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreUnavailable(f"cannot list {folder}: {exc}") from exc
        return sorted(e.rstrip("/").rsplit("/", 1)[-1] for e in entries)

    def read(self, name: str) -> bytes:
        with self.lake.open(self.lake.uri(f"{FOLDER}/{name}")) as f:
            return f.read()
