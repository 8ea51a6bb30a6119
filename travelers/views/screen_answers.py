"""How the traveler screen answers an action (traveler_screen, screen_values, screen_signing and
station_work_center share it): the step asked for (404 when unknown), the screen rendered with its forms,
a refused form again with its errors (the piece of page for htmx, else the whole page), and a done action
— the whole screen retargeted for htmx, else a notice and a redirect to the step."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django_htmx.http import reswap, retarget

from mes.compliance.models import manifestation_line
from mes.htmx import htmx_partial
from travelers import selectors

from .screen_context import load_screen, screen_context
from .station_common import station_context

SCREEN = "travelers/station/traveler.html"
SCREEN_PARTIAL = "travelers/station/_screen.html"


def step_or_404(number: str, sequence: int):
    """The traveler's step by its sequence, or 404."""
    try:
        return selectors.step_by_sequence(number, sequence)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None


def render_screen(request, number, sequence, *, template, status=200, forms=None, char_id=None, **extra):
    """The traveler screen (or `template`, a piece of it) with `forms` in place of fresh ones; `char_id`
    picks one characteristic's row for a row's partial."""
    screen = load_screen(number, sequence)
    context = station_context(request, **screen_context(request, screen, forms=forms, **extra))
    if char_id is not None:
        context["row"] = next((r for r in context.get("rows", []) if r.char.pk == char_id), None)
    return render(request, template, context, status=status)


def screen_refused(request, number, sequence, *, key, form, status, partial, page=SCREEN, char_id=None, **extra):
    """The form again, with its errors: the piece of page for htmx, else the whole page."""
    template = partial if htmx_partial(request) else page
    return render_screen(
        request, number, sequence, template=template, status=status, forms={key: form}, char_id=char_id, **extra
    )


NOTICE_LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR}


def screen_done(request, number, sequence, notice: str, *, signed=None, level: str = "success"):
    """After an action: the whole screen for htmx (into #traveler-screen), else back to the step. `level`
    colours the notice: success (green), warning (an out-of-spec value kept as a warning), error (the
    traveler went on hold)."""
    if htmx_partial(request):
        response = render_screen(
            request, number, sequence, template=SCREEN_PARTIAL, notice=notice, notice_level=level, signed=signed
        )
        return reswap(retarget(response, "#traveler-screen"), "outerHTML")
    messages.add_message(request, NOTICE_LEVELS[level], notice)
    if signed is not None:
        messages.info(request, _manifestation(signed))
    return redirect("travelers:station_step", number=number, sequence=sequence)


def _manifestation(sig) -> str:
    """Printed name — meaning — UTC time (site time), as 21 CFR 11.50 asks on every screen."""
    return manifestation_line(sig.printed_name, sig.label, sig.signed_at, zone=timezone.get_current_timezone())
