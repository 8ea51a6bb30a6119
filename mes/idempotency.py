"""Idempotent writes: a POST, PUT, PATCH or DELETE sent with an `Idempotency-Key` header is done once.

After a dropped connection a tablet cannot know whether its value landed; it sends the same request
again with the same key and gets the first answer back (`Idempotent-Replayed: true`), whether the first
attempt landed or not — never a second value, never a 409 to puzzle over.

How: the whole request runs in one transaction that begins by inserting the key (unique per user or
token) and ends by storing the answer. So the key exists exactly when the write does: a request that
fails with a 5xx or an outage rolls back both, and its retry runs afresh. A retry arriving while the
first is still running waits on the key's unique index until the first commits, then replays it.
Reusing a key for a different request (other method, path or body) is refused with 422.

Answers of every kind below 500 are kept (a refusal replays as the same refusal). Keys are kept
IDEMPOTENCY_HOURS (24) and purged by the beat (`mes.tasks.idempotency_purge`).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext

from mes.events.models import IdempotentRequest

from .outage import is_outage, unavailable

HEADER = "Idempotency-Key"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MAX_KEY = 200
MAX_STORED_BODY = 1_000_000  # bytes: larger answers keep their status only


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": "Idempotency-Key"}}, status=status)


def scope_of(request) -> str | None:
    """Whose key this is: the bearer token (by its hash) or the signed-in user; None for nobody."""
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(authorization[7:].strip().encode()).hexdigest()[:64]
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return None


def _body_parts(request) -> list[bytes]:
    try:
        return [request.body]
    except RawPostDataException:  # a multipart body was parsed from the stream: its fields and files
        parts = [f"{k}={v}".encode() for k, values in sorted(request.POST.lists()) for v in values]
        for name, upload in sorted(request.FILES.items()):
            content = hashlib.sha256()
            for chunk in upload.chunks():
                content.update(chunk)
            upload.seek(0)
            parts.append(f"{name}:{upload.name}:{content.hexdigest()}".encode())
        return parts


def fingerprint_of(request) -> str:
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), *_body_parts(request)):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _replay(saved: IdempotentRequest, fingerprint: str) -> HttpResponse:
    if saved.fingerprint != fingerprint:
        return _error(
            422,
            "idempotency_key_reused",
            gettext("this Idempotency-Key was used for another request (%(request)s): use a new key")
            % {"request": f"{saved.method} {saved.path}"},
        )
    response = HttpResponse(bytes(saved.body), status=saved.status, content_type=saved.content_type or None)
    response["Idempotent-Replayed"] = "true"
    return response


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or request.method not in WRITES:
            return self.get_response(request)
        key = key.strip()
        if not key or len(key) > MAX_KEY or not key.isprintable():
            return _error(
                400,
                "invalid_idempotency_key",
                gettext("an Idempotency-Key is 1 to %(n)s printable characters") % {"n": MAX_KEY},
            )
        scope = scope_of(request)
        if scope is None:  # nobody to keep it for: the view answers 401/403 as usual
            return self.get_response(request)
        fingerprint = fingerprint_of(request)
        try:
            return self._once(request, scope, key, fingerprint)
        except DatabaseError as exc:
            if is_outage(exc):
                return unavailable(request)
            raise

    def _once(self, request, scope: str, key: str, fingerprint: str) -> HttpResponse:
        saved = IdempotentRequest.objects.filter(scope=scope, key=key).first()
        if saved is not None:
            return _replay(saved, fingerprint)
        with transaction.atomic():
            try:
                with transaction.atomic():
                    record = IdempotentRequest.objects.create(
                        scope=scope, key=key, fingerprint=fingerprint, method=request.method, path=request.path[:500]
                    )
            except IntegrityError:
                # The same key committed while this request waited on it: that one is the answer.
                return _replay(IdempotentRequest.objects.get(scope=scope, key=key), fingerprint)
            response = self.get_response(request)
            if response.status_code >= 500 or response.streaming:
                transaction.set_rollback(True)  # neither the write nor the key: the retry runs afresh
                return response
            body = response.content if len(response.content) <= MAX_STORED_BODY else b""
            record.status, record.content_type, record.body = (
                response.status_code,
                response.get("Content-Type", ""),
                body,
            )
            record.save(update_fields=["status", "content_type", "body"])
        return response


def idempotency_purge() -> int:
    """Forget keys older than IDEMPOTENCY_HOURS; returns how many."""
    hours = int(getattr(settings, "IDEMPOTENCY_HOURS", 24))
    cutoff = timezone.now() - dt.timedelta(hours=hours)
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
