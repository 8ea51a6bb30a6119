"""When the database is away, say so at once and in the contract: JSON 503 with Retry-After under /api/,
a plain page elsewhere (rendered without touching the database), never an HTML 500 after 20 seconds.

- `OutageMiddleware.process_exception` answers a view's database outage (in DEBUG too);
- `server_error` (handler500) answers one raised anywhere else (a middleware, the session) and keeps
  every other unexpected error in the contract too: JSON 500 under /api/.
Connections fail fast instead of hanging: the pool checks a connection before lending it (a restarted
server costs no failed request) and gives up after DB_POOL_TIMEOUT seconds (settings.py).

A request that failed this way saved nothing it had not committed; a retry with the same
Idempotency-Key (mes.idempotency) answers with the first result if the write had landed.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import get_language, gettext, gettext_noop

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5
API_PREFIX = "/api/"
MESSAGE = gettext_noop("the database is not reachable right now: nothing more was saved; try again in a few seconds")


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def unavailable(request) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        response = JsonResponse(
            {"error": {"code": "database_unavailable", "message": gettext(MESSAGE), "field": None}}, status=503
        )
    else:
        # No request context: the context processors would ask the database that is away.
        page = loader.render_to_string("errors/unavailable.html", {"LANGUAGE_CODE": get_language()})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class OutageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_outage(exception):
            log.error("database unavailable: %s %s: %s", request.method, request.path, exception)
            return unavailable(request)
        return None


def server_error(request, *args, **kwargs):
    """handler500: a database outage anywhere is a 503; anything else a 500 in the caller's language."""
    exc = sys.exc_info()[1]
    if is_outage(exc):
        return unavailable(request)
    if request.path.startswith(API_PREFIX):
        error = {"code": "server_error", "message": gettext("the server failed; the error is logged"), "field": None}
        return JsonResponse({"error": error}, status=500)
    page = loader.render_to_string("errors/server_error.html", {"LANGUAGE_CODE": get_language()})
    return HttpResponse(page, status=500)
