"""Cross-site capability pages, from the warehouse: for a canonical characteristic, per site and work
center the capability against the spec, histograms and control charts (Western Electric rules), first-
pass yield and the NCR Pareto by canonical operation; a CSV of the table; and "what changed" — the same
before and after a date or between two routing revisions, per site.

Access: integrations.view_capability (engineers, supervisors, quality; staff). Bad parameters answer
400 with a page naming the field."""

from __future__ import annotations

import csv
import datetime as dt
import io
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mes.exports import row as spreadsheet_row

from . import charts, layout, queries

PERM = "integrations.view_capability"


class BadParameter(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def capability_page(view):
    @login_required
    @require_GET
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not (request.user.is_active and (request.user.is_staff or request.user.has_perm(PERM))):
            raise PermissionDenied(_("Engineers, supervisors and quality only."))
        code = kwargs.get("code")
        if code is not None and not layout.SAFE.match(code):  # no such characteristic (NUL bytes, slashes…)
            raise Http404(_("There is no characteristic %(code)r.") % {"code": code})
        try:
            return view(request, *args, **kwargs)
        except BadParameter as exc:
            context = {"field": exc.field, "message": exc.message, "supervisor_nav": True}
            return render(request, "warehouse/bad_parameter.html", context, status=400)

    return wrapped


def _date(request, field: str) -> dt.datetime | None:
    raw = (request.GET.get(field) or "").strip()
    if not raw:
        return None
    try:
        return dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), tzinfo=dt.UTC)
    except ValueError:
        raise BadParameter(
            field, _("%(field)s: %(raw)r is not a date (YYYY-MM-DD)") % {"field": field, "raw": raw}
        ) from None


def _revision(request, field: str) -> str | None:
    raw = (request.GET.get(field) or "").strip()
    if raw and not raw.isdigit():
        raise BadParameter(
            field, _("%(field)s: %(raw)r is not a routing revision number") % {"field": field, "raw": raw}
        )
    return raw or None


@capability_page
def capability_index(request):
    """The characteristics in the warehouse, first-pass yield by canonical operation and site, and the
    NCR Pareto."""
    con = queries.connect()
    pareto = queries.ncr_pareto(con=con)
    context = {
        "supervisor_nav": True,
        "characteristics": queries.characteristics(),
        "yields": queries.first_pass_yield(con=con),
        "pareto": pareto,
        "pareto_chart": charts.pareto_chart(pareto),
    }
    return render(request, "warehouse/index.html", context)


def _groups(request, code: str, *, detail: bool = True):
    since, until = _date(request, "since"), _date(request, "until")
    if since and until and until <= since:
        raise BadParameter(_("until"), _("until must be after since"))
    groups = queries.capability_groups(
        code, since=since, until=until, revision=_revision(request, "revision"), detail=detail
    )
    if not groups and not queries.has_values(queries.layout.root(), code):
        raise Http404(_("The warehouse holds no value of %(code)s.") % {"code": code})
    return groups, since, until


@capability_page
def capability(request, code: str):
    groups, since, until = _groups(request, code)
    con = queries.connect()
    pareto = queries.ncr_pareto(characteristic=code, con=con)
    operations = queries.operations_of(code, con=con)
    context = {
        "supervisor_nav": True,
        "code": code,
        "groups": [{"g": g, "chart": charts.control_chart(g), "histogram": charts.histogram(g)} for g in groups],
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
        "revision": request.GET.get("revision", ""),
        "yields": [y for y in queries.first_pass_yield(con=con) if y["operation"] in operations],
        "pareto": pareto,
        "pareto_chart": charts.pareto_chart(pareto),
    }
    return render(request, "warehouse/capability.html", context)


CSV_COLUMNS = ["site", "work_center", "unit", "aliases", "sources", "n", "mean", "sigma_within", "sigma_overall"]
CSV_COLUMNS += ["lsl", "usl", "cp", "cpk", "pp", "ppk", "out_of_spec", "first", "last"]


@capability_page
def capability_csv(request, code: str):
    groups, _since, _until = _groups(request, code, detail=False)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["characteristic", *CSV_COLUMNS])
    for g in groups:
        c = g.cap
        writer.writerow(
            spreadsheet_row(
                [code, g.site_code, g.work_center or "", g.unit or "", " ".join(g.aliases), " ".join(g.sources), g.n]
                + [_num(v) for v in (c.mean, c.sigma_within, c.sigma_overall, c.lsl, c.usl, c.cp, c.cpk, c.pp, c.ppk)]
                + [g.out_of_spec, g.first.isoformat() if g.first else "", g.last.isoformat() if g.last else ""]
            )
        )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="capability-{code}.csv"'
    return response


def _num(value) -> str:
    return "" if value is None else f"{value:.6g}"


@capability_page
def capability_changes(request, code: str):
    """Capability before and after a date (at=YYYY-MM-DD), or under two routing revisions (from, to)."""
    at = _date(request, "at")
    old_rev, new_rev = _revision(request, "from"), _revision(request, "to")
    if at is None and not (old_rev and new_rev):
        raise BadParameter(_("at"), _("give a date (at) or two routing revisions (from and to)"))
    if at is not None:
        before = queries.capability_groups(code, until=at, detail=False)
        after = queries.capability_groups(code, since=at, detail=False)
    else:
        before = queries.capability_groups(code, revision=old_rev, detail=False)
        after = queries.capability_groups(code, revision=new_rev, detail=False)
    if not before and not after and not queries.has_values(queries.layout.root(), code):
        raise Http404(_("The warehouse holds no value of %(code)s.") % {"code": code})
    rows = []
    olds, news = {g.key: g for g in before}, {g.key: g for g in after}
    for key in sorted(set(olds) | set(news)):
        old, new = olds.get(key), news.get(key)
        delta = None
        if old and new and old.cap.cpk is not None and new.cap.cpk is not None:
            delta = new.cap.cpk - old.cap.cpk
        rows.append({"key": key, "before": old, "after": new, "delta_cpk": delta})
    context = {
        "supervisor_nav": True,
        "code": code,
        "at": request.GET.get("at", ""),
        "old_rev": old_rev,
        "new_rev": new_rev,
        "rows": rows,
    }
    return render(request, "warehouse/changes.html", context)
