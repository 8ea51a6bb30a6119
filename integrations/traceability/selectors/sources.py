"""Which sources an answer was drawn from, and the completeness statement every answer carries.

    Searched: live database (0.012 s), archive index (0.002 s); archive value facts (data lake) NOT
    reachable (folder /x does not exist) — archived travelers matched by operation, person or value
    are missing from this answer.

Database reads of a search run inside a transaction with a statement timeout (`guarded`), so a
search that would take too long is stopped by PostgreSQL and said plainly instead of holding a
connection."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import psycopg.errors
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext, gettext_lazy

STATEMENT_TIMEOUT = "3s"

LIVE = "live database"
ARCHIVE_INDEX = "archive index"
LAKE = "archive value facts (data lake)"
_SOURCE_NAMES = {  # the names above are also keys of the JSON answer: only their display is translated
    LIVE: gettext_lazy("live database"),
    ARCHIVE_INDEX: gettext_lazy("archive index"),
    LAKE: gettext_lazy("archive value facts (data lake)"),
}


def source_name(name: str) -> str:
    return str(_SOURCE_NAMES.get(name, name))


class SearchTooSlow(Exception):
    """PostgreSQL stopped a query at the statement timeout."""


@dataclass
class Source:
    name: str
    state: str = "searched"  # searched | unreachable | not_needed
    seconds: float = 0.0
    detail: str = ""  # why it could not be reached, or what was cut
    missing: str = ""  # what the answer lacks because of it

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "state": self.state,
            "seconds": round(self.seconds, 4),
            "detail": self.detail,
            "missing": self.missing,
        }


@dataclass
class Completeness:
    sources: list[Source] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # limits of what a source can answer

    def source(self, name: str) -> Source:
        for s in self.sources:
            if s.name == name:
                return s
        s = Source(name)
        self.sources.append(s)
        return s

    @contextlib.contextmanager
    def timing(self, name: str):
        s = self.source(name)
        start = time.perf_counter()
        try:
            yield s
        finally:
            s.seconds += time.perf_counter() - start

    def drop(self, name: str) -> None:
        self.sources = [s for s in self.sources if s.name != name]

    def unreachable(self, name: str, detail: str, missing: str) -> None:
        s = self.source(name)
        s.state, s.detail, s.missing = "unreachable", detail, missing

    @property
    def complete(self) -> bool:
        return all(s.state != "unreachable" for s in self.sources)

    @property
    def statement(self) -> str:
        """What was searched and what could not be, in the reader's language (the sources' names too)."""
        searched = [f"{source_name(s.name)} ({s.seconds:.3f} s)" for s in self.sources if s.state == "searched"]
        text = gettext("Searched: %(sources)s") % {"sources": ", ".join(searched) if searched else gettext("nothing")}
        for s in self.sources:
            if s.state == "unreachable":
                text += gettext("; %(source)s NOT reachable (%(detail)s)") % {
                    "source": source_name(s.name),
                    "detail": s.detail,
                }
                if s.missing:
                    # Translators: %(missing)s is a phrase like "archived travelers are" (translated itself).
                    text += gettext(" — %(missing)s missing from this answer") % {"missing": s.missing}
        skipped = [source_name(s.name) for s in self.sources if s.state == "not_needed"]
        if skipped:
            text += gettext("; not needed for this search: %(sources)s") % {"sources": ", ".join(skipped)}
        text += "."
        for note in self.notes:
            text += f" {note}"
        return text

    def as_dict(self) -> dict:
        return {
            "complete": self.complete,
            "statement": self.statement,
            "sources": [s.as_dict() for s in self.sources],
            "notes": list(self.notes),
        }


@contextlib.contextmanager
def guarded():
    """A transaction whose statements PostgreSQL stops after STATEMENT_TIMEOUT (SET LOCAL: it ends
    with the transaction); a stopped statement comes out as SearchTooSlow."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT}'")
            yield
    except DatabaseError as exc:
        if _is_timeout(exc):
            raise SearchTooSlow(
                gettext(
                    "the search took longer than %(STATEMENT_TIMEOUT)s and was stopped — add a filter (site, part, "
                    "dates) or search an exact number"
                )
                % {"STATEMENT_TIMEOUT": STATEMENT_TIMEOUT}
            ) from exc
        raise


def _is_timeout(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc
    return isinstance(cause, psycopg.errors.QueryCanceled) or "statement timeout" in str(exc)


def fetch(sql: str, params: list) -> list[tuple]:
    """One read of the database (a search runs it inside `guarded`): its rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
