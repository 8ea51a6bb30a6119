"""Supervisor and engineer screens: work in progress by work center, open holds, and an individuals
control chart (X̄ ± 2.66·MR̄, with the spec limits) for each numeric characteristic of each part; links
into the admin for the master data behind them.

Access: travelers.view_traveler, and either staff status or the Supervisor or Engineer role (the groups
mes.compliance.roles keeps). Operators and inspectors get 403: these pages compare the whole shop.
Anonymous users go to settings.LOGIN_URL."""

from __future__ import annotations

from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mes.htmx import htmx_partial
from mes.masterdata.models import Site
from travelers import reports, selectors, services, spc
from travelers.errors import TravelerError
from travelers.forms import ReleaseForm
from travelers.states import StepStatus, TravelerStatus
from travelers.views.station_common import error_status

VIEW = "travelers.view_traveler"
ROLES = ("Supervisor", "Engineer")
CHART_POINTS = (25, 50, 100, 250)


def may_supervise(user) -> bool:
    if not (user.is_authenticated and user.is_active and user.has_perm(VIEW)):
        return False
    return user.is_staff or user.is_superuser or user.groups.filter(name__in=ROLES).exists()


def supervisor_page(view):
    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_supervise(request.user):
            raise PermissionDenied(_("Supervisors and engineers only."))
        return view(request, *args, **kwargs)

    return wrapped


def admin_url(name: str, *args) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return None


def _context(**extra) -> dict:
    return {"supervisor_nav": True, **extra}


@require_GET
@supervisor_page
def supervisor_overview(request):
    """Where the open travelers are (by work center and the state of their current step) and every open
    hold. Both lists refresh themselves every minute."""
    rows, awaiting = reports.wip_by_work_center()
    holds = reports.open_holds()
    context = _context(
        rows=rows,
        awaiting=awaiting,
        holds=holds,
        columns=[(status, StepStatus(status).label) for status in reports.WIP_COLUMNS],
        awaiting_label=TravelerStatus.AWAITING_SIGNOFF.label,
        totals=_totals(rows),
        admin_work_centers=admin_url("masterdata_workcenter_changelist"),
        admin_parts=admin_url("masterdata_part_changelist"),
        admin_routings=admin_url("masterdata_routing_changelist"),
        admin_operations=admin_url("masterdata_operation_changelist"),
        admin_qualifications=admin_url("masterdata_qualification_changelist"),
    )
    part = request.GET.get("part")
    if htmx_partial(request) and part == "wip":
        return render(request, "travelers/supervisor/_wip.html", context)
    if htmx_partial(request) and part == "holds":
        return render(request, "travelers/supervisor/_holds.html", context)
    return render(request, "travelers/supervisor/overview.html", context)


def _totals(rows) -> dict:
    totals = {status: 0 for status in reports.WIP_COLUMNS}
    held = 0
    for row in rows:
        for status in totals:
            totals[status] += row.counts.get(status, 0)
        held += row.held
    return {"counts": totals, "held": held, "total": sum(totals.values()) + held}


@require_GET
@supervisor_page
def spc_index(request):
    """Every numeric characteristic with values, by part: links to its control chart."""
    return render(
        request,
        "travelers/supervisor/spc_index.html",
        _context(characteristics=reports.spc_characteristics(), admin_parts=admin_url("masterdata_part_changelist")),
    )


@require_GET
@supervisor_page
def spc_chart(request, part: str, code: str):
    """The individuals chart of one characteristic of one part: the current values in the order they
    were recorded, the centre line and control limits computed from them, and the spec limits."""
    try:
        last = int(request.GET.get("last", 100))
    except ValueError:
        last = 100
    last = min(max(last, 2), max(CHART_POINTS))
    series = reports.spc_series(part, code, last=last)
    if not series:
        raise Http404(_("No value of %(code)s was recorded for part %(part)s.") % {"code": code, "part": part})
    newest = series[-1]
    unit = newest.spec_unit
    other_units = sum(1 for m in series if m.spec_unit != unit)
    series = [m for m in series if m.spec_unit == unit]
    values = [m.value_numeric for m in series]
    chart = spc.individuals_chart(
        [(f"{m.step.traveler.number}", m.value_numeric) for m in series],
        lower_spec=newest.spec_lower,
        upper_spec=newest.spec_upper,
        nominal=newest.spec_nominal,
    )
    limits = chart.limits
    decimals = newest.characteristic.decimals
    rows = [
        {"m": m, "point": p, "moving_range": mr}
        for m, p, mr in zip(series, chart.points, [None, *spc.moving_ranges(values)], strict=True)
    ]
    spec_changed = len({(m.spec_lower, m.spec_upper) for m in series}) > 1
    context = _context(
        part=part,
        code=code,
        name=newest.characteristic.name,
        unit=unit,
        decimals=decimals,
        chart=chart,
        limits=limits,
        rows=list(reversed(rows)),
        newest=newest,
        last=last,
        choices=CHART_POINTS,
        other_units=other_units,
        spec_changed=spec_changed,
        signals=sum(1 for p in chart.points if p.out_of_control),
        out_of_spec=sum(1 for p in chart.points if p.out_of_spec),
        stats=_stats(values, limits, decimals),
        admin_characteristic=admin_url("masterdata_characteristic_change", newest.characteristic.source_id)
        if newest.characteristic.source_id
        else None,
    )
    template = "travelers/supervisor/_chart.html" if htmx_partial(request) else "travelers/supervisor/spc_chart.html"
    return render(request, template, context)


def _stats(values, limits, decimals: int) -> list[tuple[str, str]]:
    def show(value: Decimal | None) -> str:
        return "—" if value is None else f"{value:.{decimals + 1}f}"

    if limits is None:
        return [(_("values"), str(len(values)))]
    return [
        (_("values"), str(limits.n)),
        ("X̄", show(limits.centre)),
        ("MR̄", show(limits.mr_bar)),
        ("UCL", show(limits.ucl)),
        ("LCL", show(limits.lcl)),
    ]


@require_http_methods(["GET", "POST"])
@supervisor_page
def supervisor_release(request):
    """Released work orders whose travelers are not all released (none yet, or fewer than ordered):
    release them here — serial numbers typed or scanned, or from the site's numbering rule; lots with
    their quantities. A refusal is shown beside the order's form, and nothing is released."""
    site = (request.GET.get("site") or "").strip()
    forms, status = {}, 200
    if request.method == "POST":
        number = request.POST.get("work_order", "")
        try:
            order = selectors.work_order_by_number(number)
        except selectors.RecordNotFound as exc:
            messages.error(request, exc.message)
            return redirect(_release_url(site))
        form = ReleaseForm(request.POST, prefix=f"wo-{order.pk}")
        if form.is_valid():
            try:
                travelers = services.work_order_release(
                    work_order=order,
                    actor=request.user,
                    serials=form.cleaned_data["serials"],
                    lots=form.cleaned_data["lots"],
                )
            except TravelerError as exc:
                form.add_domain_error(exc)
                status = error_status(exc)
            else:
                names = ", ".join(f"{t.number} ({t.item.identifier})" for t in travelers)
                messages.success(request, _("Work order %(wo)s: released %(names)s.") % {"wo": number, "names": names})
                return redirect(_release_url(site))
        else:
            status = 422
        forms[order.pk] = form
    rows = selectors.work_orders_to_release(site or None)
    for row in rows:
        row.form = forms.get(row.order.pk) or ReleaseForm(prefix=f"wo-{row.order.pk}")
    context = _context(
        rows=rows,
        site=site,
        sites=list(Site.objects.order_by("code").values_list("code", flat=True)),
        can_release=request.user.has_perm("travelers.release_traveler"),
        admin_rules=admin_url("travelers_numberingrule_changelist"),
    )
    template = "travelers/supervisor/_release.html" if htmx_partial(request) else "travelers/supervisor/release.html"
    return render(request, template, context, status=status)


def _release_url(site: str) -> str:
    url = reverse("travelers:supervisor_release")
    return f"{url}?{urlencode({'site': site})}" if site else url
