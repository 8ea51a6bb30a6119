"""Values on the traveler screen: judging what is being typed (nothing saved), recording one value,
recording the step's form at once, and the notice an operator reads after — in spec, out of spec kept as
a warning, or out of spec with the traveler on hold and an NCR open."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from mes.htmx import htmx_partial
from mes.i18n import decimal_comma
from travelers import selectors, services
from travelers.forms import MeasurementForm
from travelers.models import Measurement
from travelers.records import measurement_in_units

from .screen_answers import SCREEN, SCREEN_PARTIAL, render_screen, screen_done, screen_refused, step_or_404
from .screen_judgments import preview
from .station_common import DOMAIN_ERRORS, error_status, station_view


@require_POST
@station_view
def value_preview(request, number: str, sequence: int, char_id: int):
    """Judge what is being typed, without saving anything."""
    step = step_or_404(number, sequence)
    try:
        char = selectors.step_characteristic(step.pk, char_id)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None
    judged = preview(char, request.POST.get("value", ""), request.POST.get("unit", ""))
    if htmx_partial(request):
        return render(request, "travelers/station/_judgment.html", {"judged": judged})
    form = MeasurementForm(request.POST, auto_id=f"id_c{char.pk}_%s")
    return render_screen(
        request, number, sequence, template=SCREEN, forms={f"value:{char.pk}": form}, judgments={char.pk: judged}
    )


@require_POST
@station_view
def value_record(request, number: str, sequence: int, char_id: int):
    step = step_or_404(number, sequence)
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
            return screen_done(request, number, sequence, notice, level=level)
    return screen_refused(
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
    step = step_or_404(number, sequence)
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
        response = render_screen(
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
    return screen_done(request, number, sequence, notice, level=level)


def _batch_index(exc) -> int | None:
    """values[2].unit -> 2 (the value of the batch an error names), else None."""
    field = getattr(exc, "field", None) or ""
    if field.startswith("values[") and "]." in field:
        return int(field[len("values[") : field.index("]")])
    return None


SEVERITY = ("success", "warning", "error")


def _batch_notice(recorded) -> tuple[str, str]:
    """The notice after recording several values, and its level: the most severe of theirs."""
    out = [m for m in recorded if m.judgment == Measurement.Judgment.OUT_OF_SPEC]
    ncrs = selectors.ncr_numbers_of([m.pk for m in out]) if out else {}
    outcomes = [_notice_of(m, ncrs.get(m.pk)) for m in out]
    done = ngettext("%(count)d value recorded.", "%(count)d values recorded.", len(recorded)) % {"count": len(recorded)}
    level = max((lvl for _text, lvl in outcomes), key=SEVERITY.index, default="success")
    return " ".join([done, *(text for text, _lvl in outcomes)]), level


def _recorded_notice(m) -> tuple[str, str]:
    """What the operator is told after recording a value, and how loudly (a level of _done). The value is
    the one the service just recorded, its characteristic with it; only an out-of-spec value can have
    opened an NCR, so only then is its number read."""
    ncr = selectors.ncr_numbers_of([m.pk]).get(m.pk) if m.judgment == Measurement.Judgment.OUT_OF_SPEC else None
    return _notice_of(m, ncr)


def _notice_of(m, ncr: str | None) -> tuple[str, str]:
    """The notice of a recorded value `m` that opened the NCR numbered `ncr` (None: none)."""
    name, value = m.characteristic.name, measurement_in_units(m)
    if ncr:
        text = _("%(name)s is out of spec (%(value)s): the traveler is on hold and %(ncr)s is open.")
        return text % {"name": name, "value": value, "ncr": ncr}, "error"
    if m.judgment == Measurement.Judgment.OUT_OF_SPEC:
        return _("%(name)s recorded: %(value)s — out of spec (warning).") % {"name": name, "value": value}, "warning"
    if m.judgment == Measurement.Judgment.IN_SPEC:
        return _("%(name)s recorded: %(value)s — in spec.") % {"name": name, "value": value}, "success"
    return _("%(name)s recorded: %(value)s.") % {"name": name, "value": value}, "success"
