"""File drop: the legacy MES leaves files in a folder; completions go back as files.

Inbound (`poll`): every *.xml (B2MML schedule) and *.csv (work orders in the adapter's column layout,
see integrations.formats.csv_orders) in the inbox folder goes through the inbox — its external id is the file
name and SHA-256 of its bytes, so a re-dropped identical file duplicates nothing — and is processed.
Then the file moves to done/ (imported, or already imported) or to failed/ with `<name>.error.txt`
beside it saying why. Nothing is deleted. A refused file stays a dead letter in the inbox too: fix the
cause (e.g. map the operation code) and reprocess it, or drop the corrected file again. The checkpoint
"last_file" names the last file handled.

Writers should write a file under another name (e.g. `orders.xml.part`) and rename it when complete:
only names ending in .xml or .csv are picked up. `min_age_seconds` also leaves files that were changed
too recently alone.

Outbound (`publish`): on "traveler.closed", a B2MML performance document of that traveler in the version
the legacy system reads (settings "performance_version": V0700 OperationsPerformance, the default, or
V0401/V0500/V0600 ProductionPerformance; validated against that version's XSD) is written to the outbox
folder, one file per event, named after
the work order, traveler and message id (written again, it is replaced by the same content).

Settings (adapter.settings): {"inbox": path, "done": path, "failed": path, "outbox": path,
"layout": {...CSV columns...}, "site_codes": {"US10": "WIC"}, "min_age_seconds": 0, "batch": 100,
"validate": true, "performance_version": "V0700"} and how B2MML is read (integrations.orders): "segment_codes",
"units", "revisions", "revision_rule". done/ and failed/
default to folders beside the inbox; relative paths are under the var/ folder (settings.VAR_DIR).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings as django_settings
from django.utils import timezone

from integrations import b2mml
from integrations.completions import closed_travelers
from integrations.errors import IntegrationError, MessageRefused
from integrations.formats import csv_orders
from integrations.inbox import inbox_process, inbox_receive, inbox_reprocess
from integrations.models import InboxMessage
from mes.request_guard import human_size
from travelers.models import WorkOrder

from .base import AdapterImpl

log = logging.getLogger(__name__)
SUFFIXES = {".xml": "b2mml", ".csv": "csv"}


@dataclass
class FileOutcome:
    """What became of one file: imported, duplicate (already imported), refused or unreadable."""

    path: Path
    status: str
    sha256: str = ""
    message_id: int | None = None
    work_orders: list[str] = field(default_factory=list)
    reason: str = ""

    @property
    def refused(self) -> bool:
        return self.status in ("refused", "unreadable")


def max_file_bytes(adapter) -> int:
    """The largest file the drop takes (settings "max_file_mib", else FILE_DROP_MAX_MIB, 20 MiB)."""
    mib = adapter.settings.get("max_file_mib") or getattr(django_settings, "FILE_DROP_MAX_MIB", 20)
    return int(float(mib) * 2**20)


def file_receive(*, adapter, path: Path) -> FileOutcome:
    """Take one file through the inbox (the same way for the folder watcher and `import_orders`).

    A file seen before changes nothing when it was imported; when it was refused it is tried again (its
    cause may have been fixed since)."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        return FileOutcome(path, "unreadable", reason=f"{path.name} is neither a .xml (B2MML) nor a .csv file")
    limit = max_file_bytes(adapter)
    size = path.stat().st_size
    if size > limit:
        return FileOutcome(
            path, "unreadable", reason=f"{path.name} is {human_size(size)}; the limit is {human_size(limit)}"
        )
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        if kind == "b2mml":
            payload, message_type = b2mml.decode_document(data), b2mml.message_type_of(data)
        else:
            payload, message_type = csv_orders.decode(data, adapter.settings), csv_orders.MESSAGE_TYPE
    except MessageRefused as exc:  # not text in its encoding: it cannot be kept exactly as received
        return FileOutcome(path, "unreadable", sha256=sha256, reason=exc.message)
    except Exception as exc:  # noqa: BLE001 - whatever the file holds, it never blocks the files after it
        return FileOutcome(path, "unreadable", sha256=sha256, reason=f"cannot be read: {type(exc).__name__}: {exc}")
    if "\x00" in payload:
        return FileOutcome(
            path,
            "unreadable",
            sha256=sha256,
            reason=f"{path.name} holds NUL bytes: binary data, not text in its encoding",
        )
    message, created = inbox_receive(
        adapter=adapter,
        source=path.name,
        external_id=f"{path.name[:55]}@{sha256}",
        version=sha256[:12],
        message_type=message_type,
        payload=payload,
    )
    if not created and message.status == InboxMessage.Status.PROCESSED:
        return FileOutcome(
            path, "duplicate", sha256, message.pk, list(message.produced.get("work_orders", [])), "already imported"
        )
    if not created and message.status == InboxMessage.Status.DEAD:
        message = inbox_reprocess(message.pk)
    else:
        message = inbox_process(message.pk)
    if message.status == InboxMessage.Status.PROCESSED:
        return FileOutcome(path, "imported", sha256, message.pk, list(message.produced.get("work_orders", [])))
    return FileOutcome(path, "refused", sha256, message.pk, reason=message.reason)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "x"


def move_aside(path: Path, folder: Path) -> Path:
    """Move a file into `folder` under its name, or a dated name when that is taken (never overwrite)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    if target.exists():
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        target = folder / f"{path.stem}.{stamp}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Impl(AdapterImpl):
    def folder(self, name: str, default: Path | None = None) -> Path | None:
        value = self.setting(name)
        if not value:
            return default
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path(django_settings.VAR_DIR) / path

    def folders(self) -> tuple[Path, Path, Path]:
        inbox = self.folder("inbox")
        if inbox is None:
            raise IntegrationError(f"adapter {self.adapter.name} has no inbox folder (settings 'inbox')")
        done = self.folder("done", inbox.parent / "done")
        failed = self.folder("failed", inbox.parent / "failed")
        for folder in (inbox, done, failed):
            folder.mkdir(parents=True, exist_ok=True)
        return inbox, done, failed

    def pending(self, inbox: Path) -> list[Path]:
        """Files waiting in the inbox, oldest first; hidden and too-recent files are left alone."""
        min_age = float(self.setting("min_age_seconds", 0) or 0)
        now = time.time()
        files = []
        for path in inbox.iterdir():
            if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            mtime = path.stat().st_mtime
            if now - mtime >= min_age:
                files.append((mtime, path.name, path))
        return [p for _, _, p in sorted(files)][: int(self.setting("batch", 100) or 100)]

    def poll(self) -> int:
        inbox, done, failed = self.folders()
        handled = 0
        for path in self.pending(inbox):
            try:
                outcome = file_receive(adapter=self.adapter, path=path)
            except FileNotFoundError:  # another watcher took it meanwhile
                continue
            self.file_aside(outcome, done=done, failed=failed)
            self.set_checkpoint("last_file", f"{path.name} sha256:{outcome.sha256}")
            handled += 1
        return handled

    def file_aside(self, outcome: FileOutcome, *, done: Path, failed: Path) -> Path:
        if not outcome.refused:
            target = move_aside(outcome.path, done)
            log.info("file drop %s: %s %s %s", self.adapter.name, outcome.status, target.name, outcome.work_orders)
            return target
        target = move_aside(outcome.path, failed)
        lines = [
            f"{outcome.path.name} was refused by adapter {self.adapter.name} on "
            f"{timezone.now().astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC.",
            "",
            f"Why: {outcome.reason}",
            "",
        ]
        if outcome.message_id:
            lines.append(
                f"It is kept as dead letter #{outcome.message_id} in the inbox. Fix the cause (e.g. map the "
                "operation code, create the part), then reprocess the dead letter, or drop the corrected file "
                "into the inbox folder again."
            )
        else:
            lines.append("Nothing was imported. Drop a corrected file into the inbox folder again.")
        if outcome.sha256:
            lines.append(f"SHA-256 of the file: {outcome.sha256}")
        target.with_name(f"{target.name}.error.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        log.warning("file drop %s: refused %s: %s", self.adapter.name, target.name, outcome.reason)
        return target

    # --- Outbound ---------------------------------------------------------------------------------

    def publish(self, messages) -> dict[int, str | None]:
        outcome: dict[int, str | None] = {}
        for message in messages:
            if message.event_type != "traveler.closed":
                outcome[message.pk] = None  # not for the legacy MES: nothing to write
                continue
            try:
                self.write_performance(message)
                outcome[message.pk] = None
            except (IntegrationError, OSError) as exc:
                outcome[message.pk] = str(exc) if isinstance(exc, IntegrationError) else f"{type(exc).__name__}: {exc}"
        return outcome

    def write_performance(self, message) -> Path | None:
        """Write the performance document of the closed traveler the event names; None when it is not
        this adapter's (another site)."""
        if self.adapter.site_id and message.site_code and message.site_code != self.adapter.site.code:
            return None
        outbox = self.folder("outbox")
        if outbox is None:
            raise IntegrationError(f"adapter {self.adapter.name} has no outbox folder (settings 'outbox')")
        records = closed_travelers(numbers=[message.aggregate_id], source_system=self.adapter.source_system)
        if not records:
            raise IntegrationError(f"traveler {message.aggregate_id} is not closed")
        work_order = WorkOrder.objects.select_related("site").get(number=records[0].work_order)
        document = b2mml.performance_bytes(
            records,
            work_order=work_order,
            version=self.setting("performance_version", "V0700"),
            validate=self.setting("validate", True),
        )
        outbox.mkdir(parents=True, exist_ok=True)
        name = safe_name(f"{work_order.number}_{message.aggregate_id}_{message.message_id}") + ".xml"
        path = outbox / name
        write_atomically(path, document)
        return path
