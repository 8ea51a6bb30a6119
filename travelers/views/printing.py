"""The printable traveler: the whole as-built record as a print-ready page and as a PDF (21 CFR
11.10(b): complete, human-readable copies). Both render travelers.records.traveler_record — the same
dict the archive stores as traveler.json — in a fixed number of queries, with the traveler's audit trail
in plain words as an appendix.

Anyone who may view travelers (travelers.view_traveler) may print one; others get 403, anonymous users
go to settings.LOGIN_URL, an unknown traveler is 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET

from travelers import audit_trail, printing, records, reports
from travelers.qr import qr_svg

VIEW = "travelers.view_traveler"


def _record(number: str) -> tuple[dict, list[dict]]:
    """The record, and the traveler's audit trail in plain words (the appendix)."""
    try:
        traveler, on_traveler = reports.traveler_for_record(number)
    except reports.RecordNotFound as exc:
        raise Http404(exc.message) from None
    return records.build_record(traveler, on_traveler), audit_trail.appendix(traveler)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def traveler_print(request, number: str):
    record, audit = _record(number)
    context = {
        "record": record,
        "audit": audit,
        "zone": record["site"]["time_zone"],
        "qr_svg": qr_svg(record["traveler"]["qr_payload"]),
    }
    response = render(request, "travelers/print/traveler.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def traveler_print_pdf(request, number: str):
    record, audit = _record(number)
    response = HttpResponse(printing.record_pdf(record, audit=audit), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{record["traveler"]["number"]}.pdf"'
    patch_cache_control(response, private=True, no_store=True)
    return response
