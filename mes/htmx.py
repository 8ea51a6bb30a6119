"""htmx: the one test of whether a request wants a piece of a page (django-htmx's `request.htmx`)."""

from __future__ import annotations

from django.http import HttpRequest


def htmx_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps a piece of the page in. A boosted link or form, and a history restore
    (the browser's back button with the cache gone), want the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request
