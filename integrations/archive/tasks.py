"""Celery tasks of the archive: thin, idempotent, taking ids, calling services.

archive_traveler(traveler_id)   queued by the "archive" outbound adapter on traveler.closed/scrapped
archive_backlog_sweep()         beat: queue every closed traveler still without a package
archive_verify()                beat, weekly: re-read packages, compare, record the outcome
"""

from __future__ import annotations

import logging

from celery import shared_task

from .errors import NotArchivable, PackageProblem, StoreUnavailable
from .selectors import archive_backlog
from .services import archive_verify_many, traveler_archive

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(StoreUnavailable, PackageProblem, ConnectionError, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=12,
)
def archive_traveler(traveler_id: int) -> str:
    """Archive one closed traveler; returns where its package is (quietly, if it already was)."""
    try:
        return traveler_archive(traveler_id=traveler_id).uri
    except NotArchivable as exc:
        log.info("archive: %s", exc)
        return ""


@shared_task(acks_late=True)
def archive_backlog_sweep(limit: int = 500) -> list[int]:
    """Queue the closed travelers that have no package yet (a missed event, a failed try)."""
    ids = list(archive_backlog().values_list("pk", flat=True)[:limit])
    for traveler_id in ids:
        archive_traveler.delay(traveler_id)
    return ids


@shared_task(acks_late=True)
def archive_verify(sample: int | None = None) -> dict:
    """Annex 11 §17: re-read every package (or a sample), compare with its ArchiveRecord, record it."""
    checked = archive_verify_many(sample=sample)
    bad = [c.record.traveler_number for c in checked if not c.ok]
    return {"checked": len(checked), "problems": bad}
