"""Pages of the archive: archived travelers (search), the backlog, and one archived traveler opened
read-only from its package — traveler.json rendered with the print template, its PDF and the whole
bag to download. Nothing here reads the live traveler tables, so a traveler whose rows have left the
database still opens. Login and travelers.view_traveler, as for printing a live traveler."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from travelers.qr import qr_svg

from . import lake as lakes
from . import selectors
from .errors import PackageProblem, StoreUnavailable

VIEW = "travelers.view_traveler"
BACKLOG_SHOWN = 50
LISTED = 100


def _record(number: str):
    record = selectors.archive_record(number)
    if record is None:
        raise Http404(_("No archived traveler %(number)s.") % {"number": number})
    return record


def _unavailable(request, record, error) -> HttpResponse:
    context = {"archive": record, "error": str(error)}
    return render(request, "archive/unavailable.html", context, status=410 if record.disposed_at else 503)


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def archive_index(request):
    query = request.GET.get("q", "")
    backlog = selectors.archive_backlog()
    context = {
        "query": query,
        "records": list(selectors.archived_travelers(query)[:LISTED]),
        "backlog": list(backlog[:BACKLOG_SHOWN]),
        "backlog_count": backlog.count(),
    }
    return _private(render(request, "archive/index.html", context))


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def archive_traveler(request, number: str):
    record = _record(number)
    if record.disposed_at:
        return _unavailable(request, record, _("The package was disposed of after its retention period."))
    try:
        envelope = selectors.package_envelope(record)
    except (OSError, PackageProblem, StoreUnavailable, ValueError) as exc:
        return _unavailable(request, record, exc)
    traveler_record = envelope["record"]
    context = {
        "record": traveler_record,
        "zone": traveler_record["site"]["time_zone"],
        "qr_svg": qr_svg(traveler_record["traveler"]["qr_payload"]),
        "archive": record,
        "envelope": {k: envelope[k] for k in ("schema", "schema_version", "software_version", "retention")},
        "inbound_count": len(envelope["inbound_messages"]),
        "audit_count": len(envelope["audit"]["events"]),
    }
    return _private(render(request, "archive/traveler.html", context))


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def archive_traveler_json(request, number: str):
    record = _record(number)
    try:
        data = selectors.package_member(record, "data/traveler.json")
    except (OSError, PackageProblem, StoreUnavailable) as exc:
        return _unavailable(request, record, exc)
    json.loads(data)  # a package whose JSON does not parse is not served as JSON
    response = HttpResponse(data, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{record.traveler_number}.json"'
    return _private(response)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def archive_traveler_pdf(request, number: str):
    record = _record(number)
    try:
        pdf = selectors.package_member(record, "data/traveler.pdf")
    except (OSError, PackageProblem, StoreUnavailable) as exc:
        return _unavailable(request, record, exc)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{record.traveler_number}.pdf"'
    return _private(response)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def archive_package(request, number: str):
    record = _record(number)
    try:
        handle = lakes.Lake().open(record.uri)
    except (OSError, StoreUnavailable) as exc:
        return _unavailable(request, record, exc)
    name = record.uri.rsplit("/", 1)[-1]
    response = FileResponse(handle, as_attachment=True, filename=name, content_type="application/x-tar")
    response["Content-Length"] = str(record.size)
    return _private(response)
