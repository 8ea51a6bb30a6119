"""The JSON API under /api/ (django-ninja): authentication and error mapping. Each app mounts its own
router and domain errors from its AppConfig.ready() (`mount`, `map_errors`), so this module knows no app
above it. OpenAPI at /api/openapi.json, interactive docs at /api/docs.

Authentication: a bearer token (`Authorization: Bearer trv_…`, see mes.compliance.tokens) for
integrations and scripts, or the Django session for the tablets' pages — a session POST needs the
CSRF token (header X-CSRFToken), a bearer request does not (nothing is sent by the browser on its own).

Every error has one body: {"error": {"code", "message", "field"}} — `code` is the error's name in
snake_case, `message` a plain sentence, `field` the input it concerns (or null); a 422 on malformed
input also lists every problem under "details"."""

from __future__ import annotations

import logging
import re

from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, SessionAuth

from mes.api_docs import INTRODUCTION
from mes.compliance.errors import CredentialRefused, SignatureRefused, SigningLocked
from mes.compliance.sessions import is_idle, mark_seen, sign_out
from mes.compliance.tokens import api_token_user
from mes.masterdata.errors import MasterDataError, NotQualified

log = logging.getLogger(__name__)


class ApiRequest(HttpRequest):
    """For type annotations: the request an authenticated endpoint receives (ninja sets `auth`)."""

    auth: User


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`: the active user the (unrevoked) token belongs to. A token has no
    signing session: each signing through it gives the user id as well as the secret."""

    def authenticate(self, request, token):
        user = api_token_user(token)
        if user is not None:
            request.signing_session_key = None
        return user


class SessionCsrfAuth(SessionAuth):
    """The Django session; unsafe methods must carry the CSRF token. The CSRF check runs only when a
    session user is there, so a request with no credentials at all gets 401, not a CSRF 403. A tablet's
    session that went idle is closed here as on the pages (mes.compliance.sessions)."""

    def _get_key(self, request):
        if not request.user.is_authenticated:
            return None
        if is_idle(request):
            sign_out(request)
            return None
        return super()._get_key(request)

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            mark_seen(request)
            request.signing_session_key = request.session.session_key
        return user


def signing_session_key(request) -> str | None:
    """The signing session of an API request (the browser session's; none for a bearer token)."""
    return getattr(request, "signing_session_key", None)


# What any operation may answer besides its own results, all with the one error body: refused input
# (mes.request_guard: NUL bytes, 413), not signed in, not allowed, not found, invalid, too many, the
# database away (mes.outage, with Retry-After).
COMMON_ERRORS = {
    "400": "Refused input, e.g. a NUL byte in a parameter (invalid_text), naming the field",
    "401": "Not signed in and no valid API token",
    "403": "Not allowed (permission, signature refused, separation of duties)",
    "404": "No such record",
    "409": "Conflicts with the record's state or version",
    "413": "The request body is over the limit",
    "422": "Invalid input, naming the field",
    "429": "Too many requests of this kind",
    "503": "The database is unavailable: retry after Retry-After seconds (with the same Idempotency-Key)",
}
ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "details": {"type": "array"},
            },
        }
    },
}


class TravelerAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Every operation documents the errors every operation may answer (COMMON_ERRORS)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                if not isinstance(operation, dict) or "responses" not in operation:
                    continue
                for code, description in COMMON_ERRORS.items():
                    operation["responses"].setdefault(
                        code, {"description": description, "content": {"application/json": {"schema": ERROR_BODY}}}
                    )
        return schema


api = TravelerAPI(
    title="Traveler API",
    version="1",
    description=INTRODUCTION,
    auth=[TokenAuth(), SessionCsrfAuth()],
    urls_namespace="api",
)


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def error_response(request, status: int, code: str, message: str, field: str | None = None, details=None):
    body = {"code": code, "message": message, "field": field}
    if details is not None:
        body["details"] = details
    return api.create_response(request, {"error": body}, status=status)


def _domain_error(status: int, code: str | None = None):
    def handler(request, exc):
        return error_response(
            request, status, code or snake_case(type(exc).__name__), exc.message, getattr(exc, "field", None)
        )

    return handler


def status_code_error(request, exc):
    """For an app's domain errors that carry their own HTTP status (`status_code`), message and field."""
    return error_response(request, exc.status_code, snake_case(type(exc).__name__), exc.message, exc.field)


_mounted: set[int] = set()


def mount(prefix: str, router) -> None:
    """Mount an app's router (once, however often its ready() runs)."""
    if id(router) not in _mounted:
        _mounted.add(id(router))
        api.add_router(prefix, router)


def map_errors(error_class) -> None:
    """Answer an app's domain errors (with status_code, message, field) as JSON error bodies."""
    api.add_exception_handler(error_class, status_code_error)


api.add_exception_handler(SignatureRefused, _domain_error(403))
api.add_exception_handler(CredentialRefused, _domain_error(422))
api.add_exception_handler(SigningLocked, _domain_error(403, "signing_locked"))
api.add_exception_handler(NotQualified, _domain_error(403))  # and QualificationExpired, its subclass
api.add_exception_handler(MasterDataError, _domain_error(422))


def _field_of(loc) -> str | None:
    """("body", "payload", "rework_steps", 0, "title") -> "rework_steps[0].title"; ("path", "sequence")
    -> "sequence". Body parameters carry the handler's parameter name second: it is dropped."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[2:] if len(parts) > 2 else parts[1:2]
    elif parts:
        parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or None


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    details = []
    for error in exc.errors:
        field = _field_of(error.get("loc", ()))
        details.append({"field": field, "message": error.get("msg", "invalid"), "type": error.get("type")})
    first = details[0] if details else {"field": None, "message": gettext("invalid input")}
    message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
    if len(details) > 1:
        message += " " + gettext("(and %(n)s more)") % {"n": len(details) - 1}
    return error_response(request, 422, "validation_error", message, first["field"], details)


@api.exception_handler(AuthenticationError)
def authentication_error(request, exc):
    return error_response(
        request,
        401,
        "not_authenticated",
        gettext("sign in, or send an API token as 'Authorization: Bearer <token>'"),
    )


HTTP_CODES = {400: "bad_request", 403: "forbidden", 404: "not_found", 405: "method_not_allowed", 429: "throttled"}


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    code = "csrf_failed" if "CSRF" in exc.message else HTTP_CODES.get(exc.status_code, snake_case(type(exc).__name__))
    return error_response(request, exc.status_code, code, exc.message)


@api.exception_handler(PermissionDenied)
def permission_denied(request, exc):
    return error_response(request, 403, "permission_denied", str(exc) or gettext("you are not allowed to do this"))


@api.exception_handler(ObjectDoesNotExist)
def does_not_exist(request, exc):
    return error_response(request, 404, "not_found", str(exc) or gettext("not found"), getattr(exc, "field", None))


@api.exception_handler(Http404)
def not_found(request, exc):
    return error_response(request, 404, "not_found", str(exc) or gettext("not found"))
