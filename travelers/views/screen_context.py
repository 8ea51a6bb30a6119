"""What the traveler screen shows, built in Python from one selector's rows (no query from here on): the
route with its states, the chosen step with its instructions, characteristics, values and history,
signatures, photos, components, holds and NCRs, and which actions this operator may take now."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mes.compliance.audit import printed_name_of
from mes.i18n import decimal_comma, local_decimal
from mes.masterdata.units import unit_symbol
from mes.numbers import decimal_at_places, decimal_text
from travelers import selectors
from travelers.content import current_measurements
from travelers.errors import MeasurementInvalid
from travelers.forms import (
    ComponentForm,
    CorrectionForm,
    MeasurementForm,
    NcrForm,
    PhotoForm,
    SignForm,
    StartForm,
    WorkCenterOverrideForm,
)
from travelers.judging import judge
from travelers.markdown import render_markdown
from travelers.models import Measurement
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, NcrStatus, StepStatus

from .station_common import need_user_id

SIGN_STATEMENTS = {
    "performed": gettext_lazy("I performed this step"),
    "inspected": gettext_lazy("I inspected this step"),
}


def number_text(value: Decimal | None, decimals: int | None = None) -> str:
    """A decimal as a person writes it in their language: padded to the characteristic's decimals (never
    rounded), else exact (mes.numbers); a decimal comma in French and Spanish."""
    if value is None:
        return ""
    return local_decimal(decimal_at_places(value, decimals) if decimals is not None else decimal_text(value))


def spec_text(char) -> str:
    """ "12.700 mm (12.687 – 12.713)", "≤ 1.60 µm", "pass / fail"…"""
    if char.kind == "pass_fail":
        return _("pass / fail")
    if char.kind == "choice":
        return " / ".join(str(c) for c in char.choices or [])
    if char.kind != "numeric":
        return ""
    d, unit = char.decimals, f" {unit_symbol(char.unit)}" if char.unit else ""
    low, high = number_text(char.lower_limit, d), number_text(char.upper_limit, d)
    limits = f"{low} – {high}" if low and high else (f"≥ {low}" if low else (f"≤ {high}" if high else ""))
    if char.nominal is not None:
        return f"{number_text(char.nominal, d)}{unit}" + (f" ({limits})" if limits else "")
    return f"{limits}{unit}" if limits else unit.strip()


@dataclass
class Judged:
    """A value judged against a spec, as shown beside the input (preview) or in the history."""

    state: str  # in_spec | out_of_spec | recorded | error | empty
    label: str = ""
    detail: str = ""


def judged_text(char, *, judgment: str, value: Decimal | None, deviation: Decimal | None) -> Judged:
    label = str(Measurement.Judgment(judgment).label) if judgment in Measurement.Judgment.values else judgment
    if value is None or char.kind != "numeric":
        return Judged(judgment, label)
    unit = f" {unit_symbol(char.unit)}" if char.unit else ""
    if judgment == Measurement.Judgment.OUT_OF_SPEC and deviation:
        amount = number_text(abs(deviation))
        if deviation > 0:
            detail = _("%(amount)s above the upper limit %(limit)s") % {
                "amount": f"{amount}{unit}",
                "limit": f"{number_text(char.upper_limit, char.decimals)}{unit}",
            }
        else:
            detail = _("%(amount)s below the lower limit %(limit)s") % {
                "amount": f"{amount}{unit}",
                "limit": f"{number_text(char.lower_limit, char.decimals)}{unit}",
            }
        return Judged(judgment, label, detail)
    if char.nominal is not None:
        offset = value - char.nominal
        sign = "+" if offset > 0 else ("−" if offset < 0 else "±")
        detail = _("%(offset)s from nominal") % {"offset": f"{sign}{number_text(abs(offset))}{unit}"}
        return Judged(judgment, label, detail)
    return Judged(judgment, label)


def preview(char, value: str, unit: str = "") -> Judged:
    """Judge what is typed without saving it (travelers.judging.judge is pure)."""
    if not (value or "").strip():
        return Judged("empty")
    try:
        result = judge(char, value, unit if char.kind == "numeric" else "", decimal_comma=decimal_comma())
    except MeasurementInvalid as exc:
        return Judged("error", _("Not valid"), exc.message)
    return judged_text(char, judgment=result.judgment, value=result.value_numeric, deviation=result.deviation)


@dataclass
class SignatureView:
    printed_name: str
    meaning: str
    label: str
    signed_at: object
    method: str = ""
    comment: str = ""


def signature_view(sig) -> SignatureView | None:
    if sig is None:
        return None
    return SignatureView(
        printed_name=sig.printed_name,
        meaning=sig.meaning,
        label=sig.meaning_manifest,
        signed_at=sig.signed_at,
        method=sig.method,
        comment=sig.comment,
    )


@dataclass
class HistoryEntry:
    measurement: object
    superseded: bool
    recorded_by: str
    judged: Judged
    correction: SignatureView | None


@dataclass
class CharRow:
    char: object
    spec: str
    current: object | None
    current_entry: HistoryEntry | None
    history: list[HistoryEntry]
    form: object
    photo_form: object
    correct_form: object | None
    judged: Judged
    keep_key: str
    record_url: str
    preview_url: str
    correct_url: str
    photo_url: str
    can_record: bool
    can_correct: bool


@dataclass
class RouteStep:
    step: object
    status_label: str
    url: str
    selected: bool
    here: bool  # at the work center this tablet stands at


def load_screen(number: str, sequence: int | None = None):
    """(traveler, route steps, shown step) from the selector; 404 when the traveler or step is missing."""
    try:
        return selectors.traveler_screen(number, sequence)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None


def step_url(traveler, step, name: str = "station_step", **kwargs) -> str:
    return reverse(f"travelers:{name}", kwargs={"number": traveler.number, "sequence": step.sequence, **kwargs})


def screen_context(request, screen, *, forms: dict | None = None, **extra) -> dict:
    """Everything the traveler screen template needs. `forms` holds bound forms (with their errors)
    by key: "start", "sign", "photo", "component", "ncr", "value:<char id>", "correct:<measurement id>"."""
    traveler, steps, step = screen
    forms = forms or {}
    user = request.user
    station = getattr(request, "station", None)
    is_open = traveler.status in OPEN_TRAVELER_STATES
    held = traveler.on_hold
    may = {
        "perform": user.has_perm("travelers.perform_step"),
        "inspect": user.has_perm("travelers.inspect_step"),
        "correct": user.has_perm("travelers.correct_measurement"),
        "ncr": user.has_perm("travelers.raise_ncr"),
    }
    route = [
        RouteStep(
            step=s,
            status_label=s.get_status_display(),
            url=step_url(traveler, s),
            selected=step is not None and s.pk == step.pk,
            here=station is not None and s.work_center_id == station.pk,
        )
        for s in steps
    ]
    context = {
        "traveler": traveler,
        "traveler_status": traveler.get_status_display(),
        "route": route,
        "step": step,
        "is_open": is_open,
        "held": held,
        "open_holds": traveler.open_holds,
        "open_ncrs": [n for n in traveler.ncrs.all() if n.status == NcrStatus.OPEN],
        "traveler_url": reverse("travelers:station_traveler", kwargs={"number": traveler.number}),
    }
    if step is None:
        context.update(extra)
        return context
    in_progress = step.status == StepStatus.IN_PROGRESS
    # A step of another work center than the tablet's: not started nor recorded here unless a supervisor allowed it
    elsewhere = station is not None and step.work_center_id is not None and step.work_center_id != station.pk
    allowed_here = [o for o in step.work_center_overrides.all() if elsewhere and o.work_center_id == station.pk]
    not_here = elsewhere and not allowed_here
    active = is_open and not held
    version = {"expected_version": step.version}
    signing = need_user_id(request)
    after_disposition = any(n.dispositioned_at for n in traveler.ncrs.all())
    rows = []
    by_char: dict[int, list] = {}
    for m in step.measurements.all():
        by_char.setdefault(m.characteristic_id, []).append(m)
    for char in step.characteristics.all():
        values = by_char.get(char.pk, [])
        superseded = {m.supersedes_id for m in values if m.supersedes_id}
        current = next(iter(current_measurements(values)[-1:]), None)
        history = [
            HistoryEntry(
                measurement=m,
                superseded=m.pk in superseded,
                recorded_by=printed_name_of(m.recorded_by),
                judged=judged_text(char, judgment=m.judgment, value=m.value_numeric, deviation=m.deviation),
                correction=signature_view(m.correction_signature),
            )
            for m in values
        ]
        key = f"value:{char.pk}"
        form = forms.get(key) or MeasurementForm(initial=version, auto_id=f"id_c{char.pk}_%s")
        photo_form = forms.get(f"photo:{char.pk}") or PhotoForm(
            initial={"characteristic": char.pk}, auto_id=f"id_c{char.pk}_%s"
        )
        correct_form = None
        if current is not None:
            correct_form = forms.get(f"correct:{current.pk}") or CorrectionForm(
                need_user_id=signing,
                need_cosign=traveler.site.cosign_corrections
                and (after_disposition or current.judgment == Measurement.Judgment.OUT_OF_SPEC),
                auto_id=f"id_m{current.pk}_%s",
            )
        judged = extra.get("judgments", {}).get(char.pk) or Judged("empty")
        rows.append(
            CharRow(
                char=char,
                spec=spec_text(char),
                current=current,
                current_entry=next(
                    (e for e in history if current is not None and e.measurement.pk == current.pk), None
                ),
                history=history,
                form=form,
                photo_form=photo_form,
                correct_form=correct_form,
                judged=judged,
                keep_key=f"{traveler.number}:{step.sequence}:{char.code}",
                record_url=step_url(traveler, step, "station_value_record", char_id=char.pk),
                preview_url=step_url(traveler, step, "station_value_preview", char_id=char.pk),
                correct_url=step_url(traveler, step, "station_value_correct", measurement_id=current.pk)
                if current is not None
                else "",
                photo_url=step_url(traveler, step, "station_photo"),
                can_record=active and in_progress and may["perform"] and current is None and not not_here,
                can_correct=active
                and may["correct"]
                and current is not None
                and step.status not in (StepStatus.COMPLETED, StepStatus.SKIPPED),
            )
        )
    sign_meaning = "inspected" if step.status == StepStatus.AWAITING_INSPECTION else "performed"
    consumptions = list(step.consumptions.all())
    typed = [r for r in rows if r.can_record and r.char.kind != "attachment"]
    context.update(
        {
            "rows": rows,
            # the step's form saved at once (two values or more still to record): one request, one transaction
            "values_url": step_url(traveler, step, "station_values_record") if len(typed) > 1 else "",
            "instructions_html": render_markdown(step.instructions),
            "drawings": step.drawings,
            "photos": list(step.attachments.all()),
            "consumptions": consumptions,
            "components": [
                {"part_number": c.get("part_number"), "quantity": decimal_text(Decimal(str(c.get("quantity") or 1)))}
                for c in step.components
            ],
            "signatures": [
                s
                for s in (
                    signature_view(step.performed_signature),
                    signature_view(step.inspected_signature),
                    signature_view(step.skip_signature),
                )
                if s is not None
            ],
            "step_status": step.get_status_display(),
            "step_ncrs": [
                {"ncr": n, "open": n.status == NcrStatus.OPEN} for n in traveler.ncrs.all() if n.step_id == step.pk
            ],
            "can_start": active and may["perform"] and step.status == StepStatus.PENDING and not not_here,
            "not_here": not_here and is_open and step.status in (StepStatus.PENDING, StepStatus.IN_PROGRESS),
            "allowed_here": allowed_here[-1] if allowed_here else None,
            "override_form": forms.get("override") or WorkCenterOverrideForm(auto_id="id_override_%s"),
            "override_url": step_url(traveler, step, "station_work_center_override"),
            "can_sign": active
            and (
                (in_progress and may["perform"]) or (step.status == StepStatus.AWAITING_INSPECTION and may["inspect"])
            ),
            # offered only where attachment_add would accept it: not held, the step not signed and closed
            "can_photo": active and step.status not in DONE_STEP_STATES and may["perform"],
            "can_consume": active and in_progress and may["perform"] and bool(step.components),
            "can_ncr": is_open and may["ncr"],
            "pass_fail_choices": [("pass", _("Pass")), ("fail", _("Fail"))],
            "sign_meaning": sign_meaning,
            "sign_statement": SIGN_STATEMENTS[sign_meaning],
            "need_user_id": signing,
            "start_form": forms.get("start") or StartForm(initial=version, auto_id="id_start_%s"),
            "sign_form": forms.get("sign")
            or SignForm(initial={"meaning": sign_meaning, **version}, need_user_id=signing, auto_id="id_sign_%s"),
            "photo_form": forms.get("photo") or PhotoForm(auto_id="id_photo_%s"),
            "component_form": forms.get("component")
            or ComponentForm(initial={"quantity": 1, **version}, auto_id="id_component_%s"),
            "ncr_form": forms.get("ncr") or NcrForm(auto_id="id_ncr_%s"),
            "start_url": step_url(traveler, step, "station_step_start"),
            "sign_url": step_url(traveler, step, "station_step_sign"),
            "photo_url": step_url(traveler, step, "station_photo"),
            "component_url": step_url(traveler, step, "station_component"),
            "ncr_url": step_url(traveler, step, "station_ncr"),
            "step_url": step_url(traveler, step),
            "focus_char_id": next(
                (r.char.pk for r in rows if r.can_record and r.char.kind in ("numeric", "text", "choice")), None
            ),
        }
    )
    context.update(extra)
    return context
