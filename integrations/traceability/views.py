"""Traceability pages: the search box, a unit's trace (genealogy down and up, values, signers), an
archived traveler's trace, and the recall view with its CSV (and Excel) export.

Anyone who may view travelers (travelers.view_traveler — operators included) may search; others get
403, anonymous users go to settings.LOGIN_URL. Each page costs a fixed number of queries whatever the
number of results (the selectors load everything; templates fire none). Whatever is typed, the page
answers with results or a plain message, and always with the completeness statement."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from mes.exports import row as spreadsheet_row
from mes.htmx import htmx_partial
from mes.masterdata.models import Site

from .selectors import genealogy, recall, search
from .selectors.query import clean_text

VIEW = "travelers.view_traveler"


def may_trace(view):
    """Signed in (else to settings.LOGIN_URL) and allowed to view travelers (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(VIEW):
            raise PermissionDenied(gettext("You are not allowed to see travelers."))
        response = view(request, *args, **kwargs)
        patch_cache_control(response, private=True, no_store=True)
        patch_vary_headers(response, ["HX-Request"])
        return response

    return wrapped


def _param(request, name: str, limit: int = 600) -> str:
    """A GET parameter, cleaned of control characters and cut to a sane length."""
    return clean_text(request.GET.get(name, "")[: limit * 4])[:limit]


def _date(request, name: str, messages: list[str]) -> dt.date | None:
    value = _param(request, name, 40)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        messages.append(f"'{value}' is not a date (YYYY-MM-DD): it was ignored")
        return None


@require_GET
@may_trace
def search_page(request):
    q = request.GET.get("q", "")
    filters = {
        "site": _param(request, "site", 40),
        "from": _param(request, "from", 40),
        "to": _param(request, "to", 40),
    }
    result = None
    if q.strip() or any(filters.values()):
        result = search.search(q, cursor=_param(request, "cursor", 200) or None, **filters)
    context = {
        "q": clean_text(q[:2000])[:500],
        "filters": filters,
        "result": result,
        "sites": list(Site.objects.order_by("code").values_list("code", "name")),
    }
    template = "traceability/_results.html" if htmx_partial(request) else "traceability/search.html"
    return render(request, template, context)


@require_GET
@may_trace
def item_trace(request, item_id: int):
    depth = request.GET.get("depth", "")
    trace = genealogy.trace_item(item_id, depth=int(depth) if depth.isdigit() else genealogy.DEFAULT_DEPTH)
    if trace is None:
        raise Http404(gettext("There is no such unit or lot."))
    return render(request, "traceability/trace.html", {"trace": trace})


@require_GET
@may_trace
def archived_trace(request, number: str):
    trace = genealogy.trace_archived(clean_text(number)[:30])
    if trace is None:
        raise Http404(gettext("There is no archived traveler with that number."))
    return render(request, "traceability/trace.html", {"trace": trace})


def _recall_args(request) -> tuple[dict, list[str]]:
    messages: list[str] = []
    args = {
        "lot": _param(request, "lot", 100),
        "part": _param(request, "part", 100),
        "characteristic": _param(request, "characteristic", 100),
        "date_from": _date(request, "from", messages),
        "date_to": _date(request, "to", messages),
        "out_of_spec_only": request.GET.get("oos") in ("1", "on", "true"),
    }
    return args, messages


@require_GET
@may_trace
def recall_page(request):
    args, messages = _recall_args(request)
    result = None
    if args["lot"] or args["characteristic"]:
        result = recall.recall(**args, cursor=_param(request, "cursor", 60) or None)
        result.messages = messages + result.messages
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "args": args,
        "result": result,
        "problems": messages if result is None else [],
        "export_query": query.urlencode(),
        "excel": importlib.util.find_spec("openpyxl") is not None,
    }
    return render(request, "traceability/recall.html", context)


EXPORT_COLUMNS = [
    "site",
    "part",
    "revision",
    "serial_or_lot",
    "tracking",
    "traveler",
    "traveler_status",
    "source",
    "levels_up",
    "via",
    "in_stock",
    "archive_uri",
]


def _export_rows(args: dict):
    pages = recall.recall_all(**args)
    first = next(pages)
    # Comment lines for the person opening the file; the column names below stay the same in every
    # language, so a script reading exports from every site reads them alike.
    yield ["# " + gettext("completeness"), first.completeness.statement]
    yield ["# " + gettext("suspects"), "; ".join(first.suspects)]
    for site, n in first.per_site:
        yield ["# " + gettext("units at site"), site, n]
    yield EXPORT_COLUMNS
    for unit in pages:
        row = unit.as_dict()
        row["via"] = " > ".join(row["via"])
        yield [row[c] if row[c] is not None else "" for c in EXPORT_COLUMNS]


class _Echo:
    def write(self, value):
        return value


@require_GET
@may_trace
def recall_csv(request):
    args, _ = _recall_args(request)
    if not (args["lot"] or args["characteristic"]):
        return HttpResponse(
            gettext("Name a suspect lot or a characteristic.") + "\n", content_type="text/plain", status=400
        )
    writer = csv.writer(_Echo())
    rows = (writer.writerow(spreadsheet_row(row)) for row in _export_rows(args))
    response = StreamingHttpResponse(rows, content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="recall.csv"'
    return response


@require_GET
@may_trace
def recall_xlsx(request):
    try:
        import openpyxl  # noqa: PLC0415 — optional: openpyxl is not a dependency (CSV export without it)
    except ImportError:
        raise Http404(
            gettext("Excel export needs openpyxl, which is not installed here; use the CSV export.")
        ) from None
    args, _ = _recall_args(request)
    if not (args["lot"] or args["characteristic"]):
        return HttpResponse(
            gettext("Name a suspect lot or a characteristic.") + "\n", content_type="text/plain", status=400
        )
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("recall")
    for row in _export_rows(args):
        sheet.append(spreadsheet_row(str(v) if not isinstance(v, int | float) else v for v in row))
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="recall.xlsx"'
    return response
