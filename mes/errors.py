"""The error pages people see: refused (403, including a failed CSRF check), not found (404). Styled like
the rest of the product, with a way back; the API keeps its JSON answers (mes.urls.api_not_found, the
API's own handlers), and 500 is mes.outage.server_error."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def _page(request, status: int, heading: str, text: str):
    if request.path.startswith(API_PREFIX):
        code = {403: "forbidden", 404: "not_found"}[status]
        return JsonResponse({"error": {"code": code, "message": text, "field": None}}, status=status)
    return render(request, "errors/error.html", {"status": status, "heading": heading, "text": text}, status=status)


def forbidden(request, exception=None):
    return _page(
        request,
        403,
        _("You may not open this page"),
        _("Your role does not allow this. Ask your supervisor or an administrator if you need it."),
    )


def not_found(request, exception=None):
    return _page(request, 404, _("Page not found"), _("There is nothing at this address. Check it, or start again."))


def csrf_failure(request, reason=""):
    return _page(
        request,
        403,
        _("This form has expired"),
        _("The page was open too long or you signed in again elsewhere. Go back, reload the page and try again."),
    )
