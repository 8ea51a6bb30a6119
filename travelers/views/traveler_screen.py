"""The traveler screen on a tablet, and every action an operator or inspector takes on it.

Each action calls one service. With htmx, a refused action answers the piece of page that holds the form,
with the error beside the field (status as the JSON API would answer); a done action answers the whole
screen (retargeted), so the route, the hold and the values all show what changed. Without JavaScript,
the same URLs answer whole pages: the form with its errors, or a redirect to the step after success."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from mes.compliance.models import manifestation_line
from mes.htmx import htmx_partial
from mes.i18n import decimal_comma
from travelers import selectors, services
from travelers.forms import ComponentForm, CorrectionForm, MeasurementForm, NcrForm, PhotoForm, SignForm, StartForm
from travelers.models import Measurement
from travelers.records import measurement_in_units
from travelers.services.attachments import max_bytes
from travelers.services.cosign import correction_needs_cosign
from travelers.states import StepStatus

from .screen_context import SIGN_STATEMENTS, load_screen, preview, screen_context, signature_view
from .station_common import (
    DOMAIN_ERRORS,
    error_status,
    need_user_id,
    signing_username,
    station_context,
    station_view,
)

SCREEN = "travelers/station/traveler.html"
SCREEN_PARTIAL = "travelers/station/_screen.html"


def _step(number: str, sequence: int):
    try:
        return selectors.step_by_sequence(number, sequence)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None


def _render(request, number, sequence, *, template, status=200, forms=None, char_id=None, **extra):
    screen = load_screen(number, sequence)
    context = station_context(request, **screen_context(request, screen, forms=forms, **extra))
    if char_id is not None:
        context["row"] = next((r for r in context.get("rows", []) if r.char.pk == char_id), None)
    return render(request, template, context, status=status)


def _refused(request, number, sequence, *, key, form, status, partial, page=SCREEN, char_id=None, **extra):
    """The form again, with its errors: the piece of page for htmx, else the whole page."""
    template = partial if htmx_partial(request) else page
    return _render(
        request, number, sequence, template=template, status=status, forms={key: form}, char_id=char_id, **extra
    )


NOTICE_LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR}


def _done(request, number, sequence, notice: str, *, signed=None, level: str = "success"):
    """After an action: the whole screen for htmx (into #traveler-screen), else back to the step. `level`
    colours the notice: success (green), warning (an out-of-spec value kept as a warning), error (the
    traveler went on hold)."""
    if htmx_partial(request):
        response = _render(
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


# --- Reading --------------------------------------------------------------------------------------------


@require_GET
@station_view
def traveler_page(request, number: str, sequence: int | None = None):
    """The traveler: its route, and one step (the one in work unless another is asked for)."""
    template = SCREEN_PARTIAL if htmx_partial(request) else SCREEN
    return _render(request, number, sequence, template=template)


# --- Running a step --------------------------------------------------------------------------------------


@require_POST
@station_view
def step_start(request, number: str, sequence: int):
    step = _step(number, sequence)
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
            return _done(request, number, sequence, _("Step %(sequence)s started.") % {"sequence": sequence})
    return _refused(
        request, number, sequence, key="start", form=form, status=status, partial="travelers/station/_start_form.html"
    )


@require_POST
@station_view
def value_preview(request, number: str, sequence: int, char_id: int):
    """Judge what is being typed, without saving anything."""
    step = _step(number, sequence)
    try:
        char = selectors.step_characteristic(step.pk, char_id)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    judged = preview(char, request.POST.get("value", ""), request.POST.get("unit", ""))
    if htmx_partial(request):
        return render(request, "travelers/station/_judgment.html", {"judged": judged})
    form = MeasurementForm(request.POST, auto_id=f"id_c{char.pk}_%s")
    return _render(
        request, number, sequence, template=SCREEN, forms={f"value:{char.pk}": form}, judgments={char.pk: judged}
    )


@require_POST
@station_view
def value_record(request, number: str, sequence: int, char_id: int):
    step = _step(number, sequence)
    form = MeasurementForm(request.POST, auto_id=f"id_c{char_id}_%s")
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            m = services.measurement_record(
                step=step,
                characteristic=char_id,
                value=data["value"],
                unit=data["unit"],
                expected_version=data["expected_version"],
                actor=request.user,
                station=request.station,
                decimal_comma=decimal_comma(),
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            notice, level = _recorded_notice(m)
            return _done(request, number, sequence, notice, level=level)
    return _refused(
        request,
        number,
        sequence,
        key=f"value:{char_id}",
        form=form,
        status=status,
        partial="travelers/station/_char_row.html",
        char_id=char_id,
    )


@require_POST
@station_view
def values_record(request, number: str, sequence: int):
    """Save the step's form at once: every value typed in its rows (fields c<char id>-value and
    c<char id>-unit), in one transaction (services.measurement_record_batch). A refused value shows its
    error beside its field, the other typed values kept; nothing is saved."""
    step = _step(number, sequence)
    chars = [c for c in selectors.step_characteristics(step.pk) if c.kind != "attachment"]
    typed = {}
    for char in chars:
        data = {
            "value": request.POST.get(f"c{char.pk}-value", "").strip(),
            "unit": request.POST.get(f"c{char.pk}-unit", "").strip(),
        }
        if data["value"]:
            typed[char.pk] = data
    version = request.POST.get("expected_version", "")
    entries = [services.ValueEntry(characteristic=pk, value=d["value"], unit=d["unit"]) for pk, d in typed.items()]
    try:
        recorded = services.measurement_record_batch(
            step=step,
            values=entries,
            expected_version=int(version) if version.isdigit() else None,
            actor=request.user,
            station=request.station,
            decimal_comma=decimal_comma(),
        )
    except DOMAIN_ERRORS as exc:
        forms = {
            f"value:{pk}": MeasurementForm({**d, "expected_version": version}, auto_id=f"id_c{pk}_%s")
            for pk, d in typed.items()
        }
        at, values_error = _batch_index(exc), None
        if at is not None:  # beside the field of the value at fault
            form = forms[f"value:{list(typed)[at]}"]
            form.is_valid()
            exc.field = exc.field.split(".", 1)[1]
            form.add_domain_error(exc)
        else:
            values_error = exc.message
        partial = htmx_partial(request)
        response = _render(
            request,
            number,
            sequence,
            template=SCREEN_PARTIAL if partial else SCREEN,
            status=error_status(exc),
            forms=forms,
            values_error=values_error,
        )
        return reswap(retarget(response, "#traveler-screen"), "outerHTML") if partial else response
    notice, level = _batch_notice(recorded)
    return _done(request, number, sequence, notice, level=level)


def _batch_index(exc) -> int | None:
    """values[2].unit -> 2 (the value of the batch an error names), else None."""
    field = getattr(exc, "field", None) or ""
    if field.startswith("values[") and "]." in field:
        return int(field[len("values[") : field.index("]")])
    return None


SEVERITY = ("success", "warning", "error")


def _batch_notice(recorded) -> tuple[str, str]:
    """The notice after recording several values, and its level: the most severe of theirs."""
    outcomes = [_recorded_notice(m) for m in recorded if m.judgment == Measurement.Judgment.OUT_OF_SPEC]
    done = ngettext("%(count)d value recorded.", "%(count)d values recorded.", len(recorded)) % {"count": len(recorded)}
    level = max((lvl for _text, lvl in outcomes), key=SEVERITY.index, default="success")
    return " ".join([done, *(text for text, _lvl in outcomes)]), level


def _recorded_notice(m) -> tuple[str, str]:
    """What the operator is told after recording a value, and how loudly (a level of _done)."""
    m, ncr = selectors.measurement_outcome(m.pk)
    name, value = m.characteristic.name, measurement_in_units(m)
    if ncr:
        text = _("%(name)s is out of spec (%(value)s): the traveler is on hold and %(ncr)s is open.")
        return text % {"name": name, "value": value, "ncr": ncr}, "error"
    if m.judgment == Measurement.Judgment.OUT_OF_SPEC:
        return _("%(name)s recorded: %(value)s — out of spec (warning).") % {"name": name, "value": value}, "warning"
    if m.judgment == Measurement.Judgment.IN_SPEC:
        return _("%(name)s recorded: %(value)s — in spec.") % {"name": name, "value": value}, "success"
    return _("%(name)s recorded: %(value)s.") % {"name": name, "value": value}, "success"


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
@station_view
def step_sign(request, number: str, sequence: int):
    """Sign a step, "I performed this step" or "I inspected this step", with the password or PIN (and
    the user id at the first signing of the session). A wrong secret is counted by the service."""
    step = _step(number, sequence)
    meaning = request.POST.get("meaning") or request.GET.get("meaning")
    if meaning not in SIGN_STATEMENTS:
        meaning = "inspected" if step.status == StepStatus.AWAITING_INSPECTION else "performed"
    form = SignForm(
        request.POST or None,
        initial={"meaning": meaning, "expected_version": step.version},
        need_user_id=need_user_id(request),
        auto_id="id_sign_%s",
    )
    extra = {"sign_meaning": meaning, "sign_statement": SIGN_STATEMENTS[meaning]}
    if request.method == "GET":
        return _render(request, number, sequence, template="travelers/station/sign.html", forms={"sign": form}, **extra)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        sign = services.step_perform if data["meaning"] == "performed" else services.step_inspect
        try:
            signed = sign(
                step=step,
                actor=request.user,
                secret=data["secret"],
                username=signing_username(request, data.get("username")),
                session_key=request.session.session_key,
                expected_version=data["expected_version"],
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            state = selectors.step_state(signed.pk)
            sig = signature_view(
                state.performed_signature if data["meaning"] == "performed" else state.inspected_signature
            )
            notice = _("Step %(sequence)s signed: %(meaning)s.") % {"sequence": sequence, "meaning": sig.label}
            return _done(request, number, sequence, notice, signed=sig)
    return _refused(
        request,
        number,
        sequence,
        key="sign",
        form=form,
        status=status,
        partial="travelers/station/_sign_form.html",
        page="travelers/station/sign.html",
        **extra,
    )


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
@station_view
def value_correct(request, number: str, sequence: int, measurement_id: int):
    """Correct a recorded value: a new value, the reason, signed; the original stays, struck through."""
    step = _step(number, sequence)
    try:
        original = selectors.measurement_by_id(measurement_id)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    if original.step_id != step.pk:
        raise Http404(_("That value was not recorded at this step."))
    form = CorrectionForm(
        request.POST or None,
        need_user_id=need_user_id(request),
        need_cosign=correction_needs_cosign(step.traveler, original),
        auto_id=f"id_m{original.pk}_%s",
    )
    extra = {"cform": form, "cm": original, "curl": request.path}
    page = "travelers/station/correct.html"
    if request.method == "GET":
        return _render(
            request,
            number,
            sequence,
            template=page,
            forms={f"correct:{original.pk}": form},
            char_id=original.characteristic_id,
            **extra,
        )
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            m = services.measurement_correct(
                measurement=original,
                value=data["value"],
                unit=data["unit"],
                reason=data["reason"],
                secret=data["secret"],
                username=signing_username(request, data.get("username")),
                session_key=request.session.session_key,
                cosigner_username=data.get("cosigner_username"),
                cosigner_secret=data.get("cosigner_secret"),
                actor=request.user,
                decimal_comma=decimal_comma(),
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            m, ncr = selectors.measurement_outcome(m.pk)
            notice = _("%(name)s corrected: %(old)s → %(new)s.") % {
                "name": m.characteristic.name,
                "old": original.entered_value,
                "new": m.entered_value,
            }
            if ncr:
                notice += " " + _("Out of spec: the traveler is on hold and %(ncr)s is open.") % {"ncr": ncr}
            level = "error" if ncr else "warning" if m.judgment == Measurement.Judgment.OUT_OF_SPEC else "success"
            return _done(request, number, sequence, notice, signed=signature_view(m.correction_signature), level=level)
    return _refused(
        request,
        number,
        sequence,
        key=f"correct:{original.pk}",
        form=form,
        status=status,
        partial="travelers/station/_correct_form.html",
        page=page,
        char_id=original.characteristic_id,
        **extra,
    )


@require_POST
@station_view
def photo_add(request, number: str, sequence: int):
    """A photo from the tablet's camera (or any accepted file) at the step. For an attachment-kind
    characteristic, the photo is then recorded as its value (both or neither)."""
    step = _step(number, sequence)
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
            return _done(request, number, sequence, _("Photo %(name)s attached.") % {"name": attachment.filename})
    if char_id:
        return _refused(
            request,
            number,
            sequence,
            key=f"photo:{char_id}",
            form=form,
            status=status,
            partial="travelers/station/_char_row.html",
            char_id=char_id,
        )
    return _refused(
        request, number, sequence, key="photo", form=form, status=status, partial="travelers/station/_photo_form.html"
    )


@require_POST
@station_view
def component_consume(request, number: str, sequence: int):
    """Install a component by scanning its serial (or draw a quantity from a lot)."""
    step = _step(number, sequence)
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
            return _done(request, number, sequence, _("%(component)s installed.") % {"component": component})
    return _refused(
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
    step = _step(number, sequence)
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
            return _done(request, number, sequence, notice, level="warning")
    return _refused(
        request, number, sequence, key="ncr", form=form, status=status, partial="travelers/station/_ncr_form.html"
    )


# --- Files ------------------------------------------------------------------------------------------------

INLINE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/svg+xml"}


def _protected_file(field_file, *, content_type: str, filename: str):
    """A stored file, never from MEDIA_URL: sandboxed (an SVG or HTML inside cannot run script), the
    declared type only (no sniffing), images inline, anything else downloaded."""
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is missing.")) from None
    response = FileResponse(
        handle, content_type=content_type, as_attachment=content_type not in INLINE_TYPES, filename=filename
    )
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@require_GET
@station_view(cache_seconds=3600)
def instruction_file(request, pk: int):
    """A drawing or photo of a step's work instructions."""
    try:
        attachment = selectors.instruction_file(pk)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    name = attachment.file.name.rsplit("/", 1)[-1]
    return _protected_file(attachment.file, content_type=attachment.content_type, filename=name)


@require_GET
@station_view(cache_seconds=3600)
def record_file(request, pk: int):
    """A photo or file taken at a step."""
    try:
        attachment = selectors.record_file(pk)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    return _protected_file(attachment.file, content_type=attachment.content_type, filename=attachment.filename)
