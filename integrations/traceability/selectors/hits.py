"""What a traceability search answers: its hits (live or archived travelers, with their links), the
result around them, and the page marker (cursor) that continues it in keyset order."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import dataclass, field

from integrations.traceability import links

from .query import Query
from .sources import Completeness

# --- Results ---------------------------------------------------------------------------------------------


@dataclass
class Hit:
    source: str  # live | archive
    traveler_number: str
    identifier: str
    tracking: str
    part_number: str
    part_revision: str
    work_order: str
    site_code: str
    released_at: dt.datetime
    closed_at: dt.datetime | None
    status: str = "archived"
    on_hold: bool = False
    part_name: str = ""
    item_id: int | None = None
    time_zone: str = "UTC"
    archive_uri: str | None = None
    disposed: bool = False

    @property
    def key(self) -> tuple:
        return (self.released_at, self.traveler_number)

    @property
    def print_url(self) -> str | None:
        return links.print_url(self.traveler_number) if self.source == "live" else None

    @property
    def archive_url(self) -> str | None:
        return links.archive_url(self.traveler_number) if self.archive_uri else None

    @property
    def trace_url(self) -> str | None:
        if self.item_id:
            return links.item_trace_url(self.item_id)
        return links.archived_trace_url(self.traveler_number)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "traveler": self.traveler_number,
            "serial_or_lot": self.identifier,
            "tracking": self.tracking,
            "part": self.part_number,
            "revision": self.part_revision,
            "part_name": self.part_name,
            "work_order": self.work_order,
            "site": self.site_code,
            "status": self.status,
            "on_hold": self.on_hold,
            "released_at": self.released_at,
            "closed_at": self.closed_at,
            "archived": self.archive_uri is not None,
            "archive_uri": self.archive_uri,
            "disposed": self.disposed,
            "links": {"trace": self.trace_url, "print": self.print_url, "archive": self.archive_url},
        }


@dataclass
class SearchResult:
    query: Query
    hits: list[Hit] = field(default_factory=list)
    next_cursor: str | None = None
    readings: list[str] = field(default_factory=list)  # how the words were read
    messages: list[str] = field(default_factory=list)  # what could not be used, and why
    completeness: Completeness = field(default_factory=Completeness)
    searched: bool = False


# --- Cursor ------------------------------------------------------------------------------------------------


def encode_cursor(key: tuple) -> str:
    released_at, number = key
    raw = f"{released_at.isoformat()}|{number}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple | None:
    """(released_at, number) or None; ValueError for anything that is not a cursor of ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, number = raw.split("|", 1)
        released_at = dt.datetime.fromisoformat(when)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("the page marker is not valid; starting from the first page") from exc
    if released_at.tzinfo is None or "\x00" in number:
        raise ValueError("the page marker is not valid; starting from the first page")
    return released_at, number
