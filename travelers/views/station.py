"""Station pages: what a shop-floor tablet shows. This module holds the station home (the queue of the
work center the tablet stands at), scanning to open a traveler; signing in and the idle lock are in
station_auth, the traveler screen and its actions in traveler_screen, and every route in travelers/urls.py."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from mes.htmx import htmx_partial
from travelers import selectors
from travelers.forms import ScanForm

from .station_common import station_context, station_view, to_url


def _queue_context(request) -> dict:
    station = request.station
    work_center, queue = selectors.work_center_queue(station.site.code, station.code)
    today = timezone.localdate()
    entries = [
        {
            "traveler": t,
            "step": s,
            "status": t.get_status_display(),
            "step_status": s.get_status_display(),
            "overdue": t.work_order.due_date is not None and t.work_order.due_date < today,
            "url": reverse("travelers:station_step", kwargs={"number": t.number, "sequence": s.sequence}),
        }
        for t, s in queue
    ]
    return {"work_center": work_center, "entries": entries, "refreshed_at": timezone.now()}


@require_GET
@station_view(needs_station=True)
def station_home(request):
    """The station's queue: travelers waiting at or in work at this work center, by due date, with one
    input always focused for the scanner."""
    context = station_context(request, scan_form=ScanForm(), **_queue_context(request))
    return render(request, "travelers/station/queue.html", context)


@require_GET
@station_view(passive=True, needs_station=True)
def station_queue(request):
    """The queue alone, polled by the station page every few seconds (polling is not the operator's
    activity: it does not hold off the idle lock)."""
    if not htmx_partial(request):
        return redirect("travelers:station_home")
    return render(request, "travelers/station/_queue.html", station_context(request, **_queue_context(request)))


@require_GET
@station_view
def station_scan(request):
    """Open the traveler a scanned code names: its QR payload or number, a serial, lot or work order."""
    if "code" not in request.GET:
        return redirect("travelers:station_home")
    form = ScanForm(request.GET)
    matches = []
    status = 200
    if form.is_valid():
        code = form.cleaned_data["code"]
        matches = selectors.traveler_scan_matches(code, work_center=request.station)
        if len(matches) == 1:
            return to_url(request, reverse("travelers:station_traveler", kwargs={"number": matches[0].number}))
        if not matches:
            form.add_error("code", selectors.scan_miss_reason(code))
            status = 404
    else:
        status = 422
    if htmx_partial(request):
        context = station_context(request, scan_form=form, matches=matches)
        return render(request, "travelers/station/_scan.html", context, status=status)
    if request.station is None:
        return redirect("travelers:station_pick")
    context = station_context(request, scan_form=form, matches=matches, **_queue_context(request))
    return render(request, "travelers/station/queue.html", context, status=status)
