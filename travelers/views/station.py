"""Station pages: what a shop-floor tablet shows. This module holds the station home (the queue of the
work center the tablet stands at), scanning to open a traveler, and every station URL; signing in and
the idle lock are in station_auth, the traveler screen and its actions in traveler_screen."""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from mes.htmx import htmx_partial
from travelers import selectors
from travelers.forms import ScanForm

from . import station_auth, station_work_center, traveler_screen
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


T = "station/travelers/<str:number>/"
S = T + "steps/<int:sequence>/"

urlpatterns = [
    path("", station_home, name="station_home"),
    path("station/queue/", station_queue, name="station_queue"),
    path("station/scan/", station_scan, name="station_scan"),
    path("station/login/", station_auth.station_login, name="station_login"),
    path("station/lock/", station_auth.station_lock, name="station_lock"),
    path("station/alive/", station_auth.station_alive, name="station_alive"),
    path("station/work-center/", station_auth.station_pick, name="station_pick"),
    path(T, traveler_screen.traveler_page, name="station_traveler"),
    path(S, traveler_screen.traveler_page, name="station_step"),
    path(S + "start/", traveler_screen.step_start, name="station_step_start"),
    path(S + "sign/", traveler_screen.step_sign, name="station_step_sign"),
    path(S + "values/", traveler_screen.values_record, name="station_values_record"),
    path(S + "values/<int:char_id>/", traveler_screen.value_record, name="station_value_record"),
    path(S + "values/<int:char_id>/preview/", traveler_screen.value_preview, name="station_value_preview"),
    path(S + "measurements/<int:measurement_id>/correct/", traveler_screen.value_correct, name="station_value_correct"),
    path(S + "photos/", traveler_screen.photo_add, name="station_photo"),
    path(S + "components/", traveler_screen.component_consume, name="station_component"),
    path(S + "ncrs/", traveler_screen.ncr_raise, name="station_ncr"),
    path(S + "work-center/", station_work_center.work_center_override, name="station_work_center_override"),
    path("station/instructions/<int:pk>/", traveler_screen.instruction_file, name="station_instruction_file"),
    path("station/attachments/<int:pk>/", traveler_screen.record_file, name="station_record_file"),
]
