"""Reads of the archive: the backlog of closed travelers not yet archived, the archived travelers, and
a package's own traveler.json and PDF (read from the lake, never from the live traveler tables)."""

from __future__ import annotations

import json

from django.db.models import Exists, OuterRef, Q, QuerySet

from travelers.models import Traveler

from . import lake as lakes
from . import package
from .models import ArchiveRecord
from .services import TERMINAL


def archive_backlog() -> QuerySet[Traveler]:
    """Closed or scrapped travelers without a package yet, oldest first, each with its last failed
    attempt (`archive_attempt`, or None when no try has failed — e.g. a worker was killed)."""
    archived = ArchiveRecord.objects.filter(traveler_number=OuterRef("number"))
    return (
        Traveler.objects.filter(status__in=TERMINAL)
        .exclude(Exists(archived))
        .select_related("site", "item__part", "item__part_revision", "archive_attempt")
        .order_by("closed_at", "pk")
    )


def archived_travelers(query: str = "") -> QuerySet[ArchiveRecord]:
    """Archived travelers, newest first; `query` matches a traveler number, serial or lot, part or work
    order (exactly, or as the start)."""
    records = ArchiveRecord.objects.select_related("retention")
    query = query.strip()
    if query:
        records = records.filter(
            Q(traveler_number__istartswith=query)
            | Q(identifier__istartswith=query)
            | Q(part_number__istartswith=query)
            | Q(work_order__istartswith=query)
        )
    return records.order_by("-closed_at", "-pk")


def archive_record(number: str) -> ArchiveRecord | None:
    return ArchiveRecord.objects.select_related("retention", "disposal").filter(traveler_number=number).first()


def package_member(record: ArchiveRecord, name: str) -> bytes:
    """One file of the record's package, e.g. "data/traveler.json", read from the lake."""
    with lakes.Lake().open(record.uri) as f:
        return package.read_member(f, name)


def package_envelope(record: ArchiveRecord) -> dict:
    """The package's traveler.json (the envelope: record, signatures, audit chain, inbound messages)."""
    return json.loads(package_member(record, "data/traveler.json"))
