"""The traveler screen on a tablet, and the actions on a step that are neither values nor signatures:
starting it, a photo, a component installed, a nonconformance raised. Values are in screen_values,
signing and correcting in screen_signing, the stored files in station_files; how every action answers is
in screen_answers.

Each action calls one service. With htmx, a refused action answers the piece of page that holds the form,
with the error beside the field (status as the JSON API would answer); a done action answers the whole
screen (retargeted), so the route, the hold and the values all show what changed. Without JavaScript,
the same URLs answer whole pages: the form with its errors, or a redirect to the step after success."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mes.htmx import htmx_partial
from travelers import selectors, services
from travelers.forms import ComponentForm, NcrForm, PhotoForm, StartForm
from travelers.services.attachments import max_bytes

from .screen_answers import SCREEN, SCREEN_PARTIAL, render_screen, screen_done, screen_refused, step_or_404
from .station_common import DOMAIN_ERRORS, error_status, station_view


@require_GET
@station_view
def traveler_page(request, number: str, sequence: int | None = None):
    """The traveler: its route, and one step (the one in work unless another is asked for)."""
    template = SCREEN_PARTIAL if htmx_partial(request) else SCREEN
    return render_screen(request, number, sequence, template=template)


@require_POST
@station_view
def step_start(request, number: str, sequence: int):
    step = step_or_404(number, sequence)
    form = StartForm(request.POST, auto_id="id_start_%s")
    status = 422
    if form.is_valid():
        try:
            services.step_start(
                step=step,
                actor=request.user,
                expected_version=form.cleaned_data["expected_version"],
                station=request.station,
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            return screen_done(request, number, sequence, _("Step %(sequence)s started.") % {"sequence": sequence})
    return screen_refused(
        request, number, sequence, key="start", form=form, status=status, partial="travelers/station/_start_form.html"
    )


@require_POST
@station_view
def photo_add(request, number: str, sequence: int):
    """A photo from the tablet's camera (or any accepted file) at the step. For an attachment-kind
    characteristic, the photo is then recorded as its value (both or neither)."""
    step = step_or_404(number, sequence)
    raw = request.POST.get("characteristic") or ""
    char_id = int(raw) if raw.isdigit() else None
    auto_id = f"id_c{char_id}_%s" if char_id else "id_photo_%s"
    form = PhotoForm(request.POST, request.FILES, auto_id=auto_id)
    status = 422
    if form.is_valid():
        upload = form.cleaned_data["file"]
        attachment = None
        try:
            with transaction.atomic():
                attachment = services.attachment_add(
                    step=step,
                    filename=upload.name or "photo",
                    content=upload.read(max_bytes() + 1),
                    content_type=upload.content_type or "",
                    actor=request.user,
                )
                if char_id:
                    services.measurement_record(
                        step=step,
                        characteristic=char_id,
                        value=attachment.filename,
                        attachment_id=attachment.pk,
                        actor=request.user,
                        station=request.station,
                    )
        except DOMAIN_ERRORS as exc:
            if attachment is not None:  # the value was refused, so the photo's row rolled back: its file goes too
                attachment.file.storage.delete(attachment.file.name)
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            return screen_done(request, number, sequence, _("Photo %(name)s attached.") % {"name": attachment.filename})
    if char_id:
        return screen_refused(
            request,
            number,
            sequence,
            key=f"photo:{char_id}",
            form=form,
            status=status,
            partial="travelers/station/_char_row.html",
            char_id=char_id,
        )
    return screen_refused(
        request, number, sequence, key="photo", form=form, status=status, partial="travelers/station/_photo_form.html"
    )


@require_POST
@station_view
def component_consume(request, number: str, sequence: int):
    """Install a component by scanning its serial (or draw a quantity from a lot)."""
    step = step_or_404(number, sequence)
    form = ComponentForm(request.POST, auto_id="id_component_%s")
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            consumption = services.component_consume(
                step=step,
                identifier=data["identifier"],
                part_number=data["part_number"] or None,
                quantity=data["quantity"] if data["quantity"] is not None else 1,
                expected_version=data["expected_version"],
                actor=request.user,
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            component = selectors.consumption_state(consumption.pk).component
            return screen_done(request, number, sequence, _("%(component)s installed.") % {"component": component})
    return screen_refused(
        request,
        number,
        sequence,
        key="component",
        form=form,
        status=status,
        partial="travelers/station/_component_form.html",
    )


@require_POST
@station_view
def ncr_raise(request, number: str, sequence: int):
    """Raise a nonconformance at this step: the traveler is held until quality dispositions it."""
    step = step_or_404(number, sequence)
    form = NcrForm(request.POST, auto_id="id_ncr_%s")
    status = 422
    if form.is_valid():
        try:
            ncr = services.ncr_raise(
                traveler=step.traveler, step=step, description=form.cleaned_data["description"], actor=request.user
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            notice = _("%(ncr)s raised: the traveler is on hold until quality dispositions it.") % {"ncr": ncr.number}
            return screen_done(request, number, sequence, notice, level="warning")
    return screen_refused(
        request, number, sequence, key="ncr", form=form, status=status, partial="travelers/station/_ncr_form.html"
    )
