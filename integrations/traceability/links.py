"""Where a result links to: a live traveler's print page, an archived traveler's package page (served
by integrations.archive once it has one; until then no link), and the trace pages of this app."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse


def print_url(number: str | None) -> str | None:
    if not number:
        return None
    try:
        return reverse("travelers:traveler_print", args=[number])
    except NoReverseMatch:
        return None


def archive_url(number: str | None) -> str | None:
    """The archived package's page, or None while the archive serves none."""
    if not number:
        return None
    try:
        return reverse("archive:traveler", args=[number])
    except NoReverseMatch:
        return None


def item_trace_url(item_id: int | None) -> str | None:
    return reverse("traceability:item", args=[item_id]) if item_id else None


def archived_trace_url(number: str | None) -> str | None:
    return reverse("traceability:archived", args=[number]) if number else None
