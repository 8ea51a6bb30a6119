"""Refuse, before any view runs, what no field of the product can take: a NUL byte in any text (PostgreSQL
text cannot hold one, so it used to surface as a 500 from deep inside a query) and a body over the
limit (413 naming the limit, instead of Django's bare 400 halfway through reading it).

The refusal speaks the caller's language: the JSON error contract under /api/ ({"error": {"code",
"message", "field"}}), a plain page elsewhere. Nothing has been read into a form or saved by then.

    DATA_UPLOAD_MAX_MEMORY_SIZE   the limit of a body without files (Django's setting, 2.5 MiB default)
    UPLOAD_MAX_BYTES              the limit of a multipart body (default: the attachment limit + 1 MiB)
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext

API_PREFIX = "/api/"
NUL = "\x00"


def human_size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 2**10:
        return f"{n / 2**10:.0f} KiB"
    return f"{n} bytes"


def body_limit(request) -> int:
    if request.content_type == "multipart/form-data":
        attachment = int(getattr(settings, "ATTACHMENT_MAX_BYTES", 15 * 2**20))
        return int(getattr(settings, "UPLOAD_MAX_BYTES", attachment + 2**20))
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**62)


def refuse(request, status: int, code: str, message: str, field: str | None = None):
    """The refusal, as JSON for the API and as a page for a person."""
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status)
    context = {"status": status, "message": message, "field": field}
    return render(request, "errors/refused.html", context, status=status)


def _nul_path(value, path: str = "") -> str | None:
    """Where in a parsed JSON document a NUL byte is (key or value): "lots[0].identifier", or None."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return here.replace(NUL, "\\x00")
            found = _nul_path(item, here)
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_path(item, f"{path}[{index}]")
            if found:
                return found
    return None


def _nul_in(pairs) -> str | None:
    for key, values in pairs:
        if NUL in key:
            return key.replace(NUL, "\\x00")
        if any(NUL in value for value in values):
            return key
    return None


def _nul_field(request) -> str | None:
    found = _nul_in(request.GET.lists())
    if found or request.method in ("GET", "HEAD", "OPTIONS"):
        return found
    if request.content_type == "application/json":
        body = request.body
        if b"\x00" in body or b"\\u0000" in body.lower():
            try:
                return _nul_path(json.loads(body)) or "body"
            except ValueError:
                return "body"
        return None
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        found = _nul_in(request.POST.lists())
        if found:
            return found
        for field, upload in request.FILES.items():
            if NUL in (upload.name or ""):
                return field
    return None


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return refuse(request, 400, "bad_request", gettext("the Content-Length header is not a number"))
        limit = body_limit(request)
        if length > limit:
            return refuse(
                request,
                413,
                "too_large",
                gettext("the request is %(size)s; the limit is %(limit)s")
                % {"size": human_size(length), "limit": human_size(limit)},
                None,
            )
        field = _nul_field(request)
        if field is not None:
            return refuse(
                request,
                400,
                "invalid_text",
                gettext("'%(field)s' contains a NUL byte (\\x00), which no text in Traveler may hold")
                % {"field": field},
                field,
            )
        return self.get_response(request)
