"""The files a station shows: a drawing or photo of a step's work instructions, and a photo or file taken
at a step — served by the application, never from MEDIA_URL, sandboxed and with their declared type."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from travelers import selectors

from .station_common import station_view

INLINE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/svg+xml"}


def _protected_file(field_file, *, content_type: str, filename: str):
    """A stored file, never from MEDIA_URL: sandboxed (an SVG or HTML inside cannot run script), the
    declared type only (no sniffing), images inline, anything else downloaded."""
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is missing.")) from None
    response = FileResponse(
        handle, content_type=content_type, as_attachment=content_type not in INLINE_TYPES, filename=filename
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_GET
@station_view(cache_seconds=3600)
def instruction_file(request, pk: int):
    """A drawing or photo of a step's work instructions."""
    try:
        attachment = selectors.instruction_file(pk)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    name = attachment.file.name.rsplit("/", 1)[-1]
    return _protected_file(attachment.file, content_type=attachment.content_type, filename=name)


@require_GET
@station_view(cache_seconds=3600)
def record_file(request, pk: int):
    """A photo or file taken at a step."""
    try:
        attachment = selectors.record_file(pk)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    return _protected_file(attachment.file, content_type=attachment.content_type, filename=attachment.filename)
