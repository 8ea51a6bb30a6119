"""Signing on the traveler screen: a step performed or inspected, and a recorded value corrected — each
with the password or PIN (and the user id at the session's first signing, 21 CFR 11.200), the notice
naming the signature (21 CFR 11.50)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from mes.i18n import decimal_comma
from travelers import selectors, services
from travelers.forms import CorrectionForm, SignForm
from travelers.models import Measurement
from travelers.services.cosign import correction_needs_cosign
from travelers.states import StepStatus

from .screen_answers import render_screen, screen_done, screen_refused, step_or_404
from .screen_context import SIGN_STATEMENTS, signature_view
from .station_common import DOMAIN_ERRORS, error_status, need_user_id, signing_username, station_view


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
@station_view
def step_sign(request, number: str, sequence: int):
    """Sign a step, "I performed this step" or "I inspected this step", with the password or PIN (and
    the user id at the first signing of the session). A wrong secret is counted by the service."""
    step = step_or_404(number, sequence)
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
        return render_screen(
            request, number, sequence, template="travelers/station/sign.html", forms={"sign": form}, **extra
        )
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
            return screen_done(request, number, sequence, notice, signed=sig)
    return screen_refused(
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
    step = step_or_404(number, sequence)
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
        return render_screen(
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
            return screen_done(
                request, number, sequence, notice, signed=signature_view(m.correction_signature), level=level
            )
    return screen_refused(
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
