"""Writes of the archive: archive a closed traveler, verify packages, dispose of one after retention.

    traveler_archive(traveler_id=...)      -> ArchiveRecord   (the task, the backfill command and the bench)
    archive_verify(record)                 -> list of problems (verify_archive, the weekly task)
    archive_dispose(record=..., actor=..., secret=..., reason=...) -> Disposal

Archiving seals only what verifies: the traveler's chains, signatures and reconciliation are checked
first (travelers.integrity) and a failure refuses it visibly (backlog, ERROR log); then a checkpoint of
its chains is written to the lake and carried in the package. Archiving is idempotent: the traveler row
is locked while its package is made; an ArchiveRecord for its number means the work is done. A failure
(store unreachable, worker killed, a record that does not verify) leaves the traveler closed and
unarchived — in `selectors.archive_backlog()` with the reason — and the next try completes it. A package
already in the lake from an interrupted try is adopted, never written twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mes.compliance import checkpoints
from mes.compliance.audit import audit_record
from mes.compliance.models import Signature
from mes.compliance.signing import signature_record, signing_authenticate
from travelers.integrity import traveler_chains, traveler_findings
from travelers.models import Traveler
from travelers.states import TravelerStatus

from . import lake as lakes
from . import package, parquet, verify
from .errors import DisposalRefused, IntegrityRefused, NotArchivable, PackageProblem, StoreUnavailable
from .models import ArchiveAttempt, ArchiveRecord, Disposal, RetentionClass

log = logging.getLogger(__name__)

TERMINAL = (TravelerStatus.CLOSED, TravelerStatus.SCRAPPED)
DEFAULT_RETENTION = {"code": "aerospace-30y", "name": "Aerospace: 30 years after closing", "years": 30}


# --- Retention -----------------------------------------------------------------------------------------


def retention_class_for(part) -> RetentionClass:
    """The part's own class, else its customer's, else the default (30 years, seeded by migration)."""
    classes = list(RetentionClass.objects.filter(part=part)) or (
        list(RetentionClass.objects.filter(customer=part.customer, part__isnull=True)) if part.customer else []
    )
    if classes:
        return classes[0]
    default = RetentionClass.objects.filter(is_default=True).order_by("code").first()
    if default is None:
        default, _ = RetentionClass.objects.get_or_create(
            code=DEFAULT_RETENTION["code"], defaults={**DEFAULT_RETENTION, "is_default": True}
        )
    return default


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def retain_until_of(closed_at: dt.datetime, retention: RetentionClass) -> dt.date | None:
    """The last day the record must be kept (None: life of product, never disposed)."""
    if retention.years is None:
        return None
    return add_years(closed_at.astimezone(dt.UTC).date(), retention.years)


# --- Archiving -----------------------------------------------------------------------------------------


def traveler_archive(*, traveler_id: int, lake: lakes.Lake | None = None, with_pdf: bool = True) -> ArchiveRecord:
    """Archive one closed traveler (see the module docstring); returns its ArchiveRecord."""
    done = ArchiveRecord.objects.filter(traveler_id=traveler_id).first()
    if done is not None:
        return done
    try:
        checkpoint = _verified_and_checkpointed(traveler_id)
        return _archive(traveler_id, lake or lakes.Lake(), with_pdf=with_pdf, checkpoint=checkpoint)
    except NotArchivable:
        raise
    except Exception as exc:
        _attempt_failed(traveler_id, exc)
        raise


def _verified_and_checkpointed(traveler_id: int) -> dict:
    """Refuse a traveler whose record does not verify; else checkpoint its chains and return the document."""
    traveler = Traveler.objects.select_related("work_order").get(pk=traveler_id)
    if traveler.status not in TERMINAL or traveler.closed_at is None:
        raise NotArchivable(f"traveler {traveler.number} is {traveler.get_status_display().lower()}, not closed")
    problems = traveler_findings(traveler)
    if problems:
        log.error("archive: %s does not verify; not archived", traveler.number, extra={"problems": problems[:20]})
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise IntegrityRefused(
            f"{traveler.number} does not verify, so it is not sealed into the archive: "
            + "; ".join(problems[:3])
            + more
        )
    return checkpoints.checkpoint_document(checkpoints.checkpoint_covering(traveler_chains(traveler)))


@transaction.atomic
def _archive(traveler_id: int, lake: lakes.Lake, *, with_pdf: bool, checkpoint: dict) -> ArchiveRecord:
    traveler = (
        Traveler.objects.select_for_update(of=("self",))
        .select_related("site", "item__part", "item__part_revision", "work_order")
        .get(pk=traveler_id)
    )
    existing = ArchiveRecord.objects.select_for_update().filter(traveler_number=traveler.number).first()
    if existing is not None:  # another worker finished while this one waited for the lock
        return existing
    if traveler.status not in TERMINAL or traveler.closed_at is None:
        raise NotArchivable(f"traveler {traveler.number} is {traveler.get_status_display().lower()}, not closed")
    rc = retention_class_for(traveler.item.part)
    retain_until = retain_until_of(traveler.closed_at, rc)
    envelope = package.archive_envelope(
        traveler, retention=package.Retention(rc.code, rc.name, rc.years, retain_until), checkpoint=checkpoint
    )
    site, closed, number = traveler.site.code, traveler.closed_at, traveler.number
    with tempfile.TemporaryDirectory(prefix="traveler-archive-") as tmp:
        stored = _adopt(lake, site, closed, number)
        if stored is None:
            built = package.build_package(traveler, envelope, Path(tmp), with_pdf=with_pdf)
            stored = lake.put_once(
                lakes.package_key(site, closed, number, built.sha256), built.path, retain_until=retain_until
            )
    index_uri = lake.put_replace(
        lakes.index_key(site, closed, number),
        parquet.index_bytes(envelope, uri=stored.uri, sha256=stored.sha256, size=stored.size),
    )
    facts, rows = parquet.facts_bytes(envelope)
    facts_uri = lake.put_replace(lakes.facts_key(site, closed, number), facts)
    item = traveler.item
    record = ArchiveRecord.objects.create(
        traveler_number=number,
        traveler=traveler,
        part_number=item.part.number,
        part_revision=item.part_revision.revision,
        identifier=item.identifier,
        tracking=item.tracking,
        work_order=traveler.work_order.number,
        site_code=site,
        released_at=traveler.released_at,
        closed_at=closed,
        uri=stored.uri,
        package_sha256=stored.sha256,
        size=stored.size,
        schema_version=package.SCHEMA_VERSION,
        archived_at=timezone.now(),
        retention=rc,
        retain_until=retain_until,
        index_uri=index_uri,
        facts_uri=facts_uri,
        facts_rows=rows,
        object_lock=stored.object_lock,
    )
    ArchiveAttempt.objects.filter(traveler_number=number).delete()
    audit_record(
        chain=f"archive:{number}",
        action="archive.written",
        object_type="archive.archiverecord",
        object_id=record.pk,
        changes={
            "uri": [None, record.uri],
            "package_sha256": [None, record.package_sha256],
            "retain_until": [None, retain_until],
            "adopted": [None, not stored.created],
        },
    )
    log.info(
        "archive: %s written",
        number,
        extra={"uri": record.uri, "sha256": record.package_sha256, "bytes": record.size, "adopted": not stored.created},
    )
    return record


def _adopt(lake: lakes.Lake, site: str, closed: dt.datetime, number: str) -> lakes.Stored | None:
    """A whole package an interrupted try already wrote (writes are atomic), checked, or None."""
    for uri in lake.packages_of(site, closed, number):
        with tempfile.TemporaryDirectory(prefix="traveler-adopt-") as tmp:
            try:
                with lake.open(uri) as f:
                    sha, size = lakes.sha256_of(f)
                    f.seek(0)
                    bag_dir = package.safe_extract(f, Path(tmp))
                report = verify.check_bag(bag_dir)
            except (OSError, PackageProblem) as exc:
                log.warning("archive: ignoring unreadable package %s: %s", uri, exc)
                continue
        if report.ok and uri.rsplit("/", 1)[-1] == f"{lakes.safe(number)}-{sha[:12]}.tar":
            return lakes.Stored(uri, sha, size, created=False)
        log.warning("archive: ignoring package %s that does not verify: %s", uri, report.problems)
    return None


def _attempt_failed(traveler_id: int, exc: Exception) -> None:
    """Say in the backlog why the last try failed (its own transaction: the try's was rolled back)."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    log.warning("archive: traveler %s not archived: %s", traveler_id, error)
    try:
        with transaction.atomic():
            number = Traveler.objects.filter(pk=traveler_id).values_list("number", flat=True).first()
            if number is None:
                return
            now = timezone.now()
            attempt, created = ArchiveAttempt.objects.get_or_create(
                traveler_number=number,
                defaults={
                    "traveler_id": traveler_id,
                    "attempts": 1,
                    "first_failed_at": now,
                    "last_attempt_at": now,
                    "last_error": error,
                },
            )
            if not created:
                ArchiveAttempt.objects.filter(pk=attempt.pk).update(
                    attempts=F("attempts") + 1, last_attempt_at=now, last_error=error
                )
    except Exception:  # noqa: BLE001 - the database may be what failed; the backlog still shows the traveler
        log.exception("archive: could not record the failed attempt of traveler %s", traveler_id)


# --- Verifying -----------------------------------------------------------------------------------------


@dataclass
class Checked:
    record: ArchiveRecord
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def archive_check(record: ArchiveRecord, lake: lakes.Lake | None = None) -> list[str]:
    """Re-read one package: present, same SHA-256 and size as recorded, a valid bag whose signatures,
    audit chain and attachments verify, and its index row present. Returns the problems (none: fine)."""
    lake = lake or lakes.Lake()
    problems: list[str] = []
    try:
        if not lake.exists(record.uri):
            return [f"package missing: {record.uri}"]
        with tempfile.TemporaryDirectory(prefix="traveler-verify-") as tmp, lake.open(record.uri) as f:
            sha, size = lakes.sha256_of(f)
            if (sha, size) != (record.package_sha256, record.size):
                problems.append(
                    f"package corrupt: {size} bytes sha256 {sha[:12]}…, recorded {record.size} bytes "
                    f"{record.package_sha256[:12]}…"
                )
            f.seek(0)
            try:
                report = verify.check_bag(package.safe_extract(f, Path(tmp)))
                problems.extend(report.problems)
            except (PackageProblem, OSError, EOFError, ValueError) as exc:  # tarfile errors are OSError/ValueError
                problems.append(f"package unreadable: {exc}")
        if record.index_uri and not lake.exists(record.index_uri):
            problems.append(f"index row missing: {record.index_uri}")
    except StoreUnavailable as exc:
        problems.append(f"store unavailable: {exc}")
    except OSError as exc:
        problems.append(f"store unavailable: {type(exc).__name__}: {exc}")
    return problems


def archive_verify(record: ArchiveRecord, lake: lakes.Lake | None = None) -> Checked:
    """archive_check, and record when and how it went (last_verified_at / ok / problem)."""
    problems = archive_check(record, lake)
    ArchiveRecord.objects.filter(pk=record.pk).update(
        last_verified_at=timezone.now(), last_verify_ok=not problems, last_verify_problem="\n".join(problems)[:5000]
    )
    record.refresh_from_db()
    if problems:
        log.error("archive: package of %s fails verification", record.traveler_number, extra={"problems": problems})
    return Checked(record, problems)


def archive_verify_many(*, sample: int | None = None, numbers: list[str] | None = None) -> list[Checked]:
    """Every live (not disposed) package, or a random `sample` of them, least recently verified first."""
    records = ArchiveRecord.objects.filter(disposed_at__isnull=True)
    if numbers:
        records = records.filter(traveler_number__in=numbers)
    if sample:
        records = records.order_by("?")[:sample]
    else:
        records = records.order_by(F("last_verified_at").asc(nulls_first=True), "pk")
    lake = lakes.Lake()
    lake.sweep_temporary()
    return [archive_verify(r, lake) for r in records]


# --- Disposal ------------------------------------------------------------------------------------------


def disposal_content(record: ArchiveRecord, reason: str) -> dict:
    return {
        "traveler_number": record.traveler_number,
        "uri": record.uri,
        "package_sha256": record.package_sha256,
        "retention": record.retention.code,
        "retain_until": record.retain_until,
        "reason": reason,
    }


def disposal_signed_content(record_id, as_of) -> dict:
    """The content a disposal approval signed (registered with mes.compliance.signing)."""
    record = ArchiveRecord.objects.select_related("retention", "disposal").get(pk=record_id)
    return disposal_content(record, record.disposal.reason)


def archive_dispose(
    *,
    record: ArchiveRecord,
    actor,
    secret: str,
    reason: str,
    username: str | None = None,
    session_key: str | None = None,
) -> Disposal:
    """Dispose of a package after its retain-until date, with the approver's signature ("disposed"):
    the package and its Parquet rows leave the lake; the ArchiveRecord stays as the record of it."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _dispose(record.pk, actor=actor, authority=authority, reason=reason)


@transaction.atomic
def _dispose(record_id: int, *, actor, authority, reason: str) -> Disposal:
    record = ArchiveRecord.objects.select_for_update().select_related("retention").get(pk=record_id)
    if not actor.has_perm("archive.dispose_package"):
        raise DisposalRefused(f"{actor.get_username()} may not approve disposals", field="actor")
    if record.disposed_at is not None:
        raise DisposalRefused(f"the package of {record.traveler_number} was already disposed of", field="record")
    if record.retain_until is None:
        raise DisposalRefused(
            f"{record.traveler_number} is kept for the life of the product: it is never disposed of", field="record"
        )
    today = timezone.now().astimezone(dt.UTC).date()
    if today <= record.retain_until:
        raise DisposalRefused(
            f"{record.traveler_number} must be kept until {record.retain_until:%Y-%m-%d} "
            f"({record.retention.name}); it can be disposed of from the day after",
            field="record",
        )
    reason = (reason or "").strip()
    if not reason:
        raise DisposalRefused("say why the package is disposed of", field="reason")
    now = timezone.now()
    signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.DISPOSED,
        record_type="archive.archiverecord",
        record_id=record.pk,
        content=disposal_content(record, reason),
        audit_chain=f"archive:{record.traveler_number}",
        comment=reason,
        signed_at=now,
    )
    disposal = Disposal.objects.create(
        record=record, approved_by=actor, approval_signature=signature, reason=reason, disposed_at=now
    )
    record.disposed_at = now
    record.save(update_fields=["disposed_at"])
    audit_record(
        chain=f"archive:{record.traveler_number}",
        action="archive.disposed",
        object_type="archive.archiverecord",
        object_id=record.pk,
        actor=actor,
        changes={"disposed_at": [None, now], "uri": [record.uri, None], "signature": [None, signature.pk]},
        reason=reason,
    )
    # Last: a store that refuses (e.g. Object Lock still on) rolls the whole disposal back.
    lake = lakes.Lake()
    for uri in (record.uri, record.index_uri, record.facts_uri):
        if uri:
            try:
                lake.remove(uri)
            except OSError as exc:
                raise StoreUnavailable(f"the data lake refused to delete {uri}: {exc}") from exc
    return disposal
