"""What the traveler screen shows, built in Python from one selector's rows (no query from here on): the
route with its states, the chosen step with its instructions, characteristics, values and history,
signatures, photos, components, holds and NCRs, and which actions this operator may take now.
screen_context assembles it from named parts: the traveler and its route, the step's scope (who, what
state, which work center), its rows, what it holds, its actions and their forms. How specs and judgments
read is in screen_judgments."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mes.compliance.audit import printed_name_of
from mes.numbers import decimal_text
from travelers import selectors
from travelers.content import current_measurements
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
from travelers.markdown import render_markdown
from travelers.models import Measurement
from travelers.states import DONE_STEP_STATES, OPEN_TRAVELER_STATES, NcrStatus, StepStatus

from .screen_judgments import Judged, judged_text, spec_text
from .station_common import need_user_id

SIGN_STATEMENTS = {
    "performed": gettext_lazy("I performed this step"),
    "inspected": gettext_lazy("I inspected this step"),
}


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
    by key: "start", "sign", "photo", "component", "ncr", "value:<char id>", "correct:<measurement id>".
    The traveler and its route always; for a shown step, what may be done there now (StepScope), its
    rows of characteristics, what it holds, and its actions' forms and URLs."""
    traveler, steps, step = screen
    station = getattr(request, "station", None)
    context = traveler_part(traveler, steps, step, station)
    if step is not None:
        scope = step_scope(request, traveler, step, station, forms or {})
        rows = char_rows(scope, extra.get("judgments", {}))
        context.update(step_part(scope, rows))
        context.update(step_actions(scope, rows))
        context.update(step_forms(scope))
    context.update(extra)
    return context


def traveler_part(traveler, steps, step, station) -> dict:
    """The traveler, its route (the shown step selected, the steps of this tablet's work center marked),
    its holds and open NCRs."""
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
    return {
        "traveler": traveler,
        "traveler_status": traveler.get_status_display(),
        "route": route,
        "step": step,
        "is_open": traveler.status in OPEN_TRAVELER_STATES,
        "held": traveler.on_hold,
        "open_holds": traveler.open_holds,
        "open_ncrs": [n for n in traveler.ncrs.all() if n.status == NcrStatus.OPEN],
        "traveler_url": reverse("travelers:station_traveler", kwargs={"number": traveler.number}),
    }


@dataclass
class StepScope:
    """What decides the actions offered at the shown step: who (their permissions, whether their next
    signing asks for the user id), the traveler's state, and where the tablet stands."""

    traveler: object
    step: object
    forms: dict
    may: dict[str, bool]
    is_open: bool
    active: bool  # open and not held
    in_progress: bool
    not_here: bool  # another work center's step, not allowed here by a supervisor
    allowed_here: list
    signing: bool  # the next signing asks for the user id too
    version: dict


def step_scope(request, traveler, step, station, forms: dict) -> StepScope:
    user = request.user
    is_open = traveler.status in OPEN_TRAVELER_STATES
    # A step of another work center than the tablet's: not started nor recorded here unless a supervisor allowed it
    elsewhere = station is not None and step.work_center_id is not None and step.work_center_id != station.pk
    allowed_here = [o for o in step.work_center_overrides.all() if elsewhere and o.work_center_id == station.pk]
    return StepScope(
        traveler=traveler,
        step=step,
        forms=forms,
        may={
            "perform": user.has_perm("travelers.perform_step"),
            "inspect": user.has_perm("travelers.inspect_step"),
            "correct": user.has_perm("travelers.correct_measurement"),
            "ncr": user.has_perm("travelers.raise_ncr"),
        },
        is_open=is_open,
        active=is_open and not traveler.on_hold,
        in_progress=step.status == StepStatus.IN_PROGRESS,
        not_here=elsewhere and not allowed_here,
        allowed_here=allowed_here,
        signing=need_user_id(request),
        version={"expected_version": step.version},
    )


def char_rows(scope: StepScope, judgments: dict) -> list[CharRow]:
    """One row per characteristic of the step: its spec, current value and history, and its forms."""
    step = scope.step
    after_disposition = any(n.dispositioned_at for n in scope.traveler.ncrs.all())
    by_char: dict[int, list] = {}
    for m in step.measurements.all():
        by_char.setdefault(m.characteristic_id, []).append(m)
    return [
        char_row(scope, char, by_char.get(char.pk, []), judgments.get(char.pk), after_disposition=after_disposition)
        for char in step.characteristics.all()
    ]


def char_row(scope: StepScope, char, values: list, judged: Judged | None, *, after_disposition: bool) -> CharRow:
    """A characteristic's row: its current value (the last not superseded), every value with who recorded
    it and how it was judged, the form to record, attach or correct, and whether this operator may."""
    traveler, step, forms = scope.traveler, scope.step, scope.forms
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
    form = forms.get(f"value:{char.pk}") or MeasurementForm(initial=scope.version, auto_id=f"id_c{char.pk}_%s")
    photo_form = forms.get(f"photo:{char.pk}") or PhotoForm(
        initial={"characteristic": char.pk}, auto_id=f"id_c{char.pk}_%s"
    )
    correct_form = None
    if current is not None:
        correct_form = forms.get(f"correct:{current.pk}") or CorrectionForm(
            need_user_id=scope.signing,
            need_cosign=traveler.site.cosign_corrections
            and (after_disposition or current.judgment == Measurement.Judgment.OUT_OF_SPEC),
            auto_id=f"id_m{current.pk}_%s",
        )
    return CharRow(
        char=char,
        spec=spec_text(char),
        current=current,
        current_entry=next((e for e in history if current is not None and e.measurement.pk == current.pk), None),
        history=history,
        form=form,
        photo_form=photo_form,
        correct_form=correct_form,
        judged=judged or Judged("empty"),
        keep_key=f"{traveler.number}:{step.sequence}:{char.code}",
        record_url=step_url(traveler, step, "station_value_record", char_id=char.pk),
        preview_url=step_url(traveler, step, "station_value_preview", char_id=char.pk),
        correct_url=step_url(traveler, step, "station_value_correct", measurement_id=current.pk)
        if current is not None
        else "",
        photo_url=step_url(traveler, step, "station_photo"),
        can_record=scope.active
        and scope.in_progress
        and scope.may["perform"]
        and current is None
        and not scope.not_here,
        can_correct=scope.active
        and scope.may["correct"]
        and current is not None
        and step.status not in (StepStatus.COMPLETED, StepStatus.SKIPPED),
    )


def step_part(scope: StepScope, rows: list[CharRow]) -> dict:
    """What the step holds: its rows, instructions and drawings, photos, components (to install and
    installed), signatures and NCRs."""
    step, traveler = scope.step, scope.traveler
    return {
        "rows": rows,
        "instructions_html": render_markdown(step.instructions),
        "drawings": step.drawings,
        "photos": list(step.attachments.all()),
        "consumptions": list(step.consumptions.all()),
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
    }


def step_actions(scope: StepScope, rows: list[CharRow]) -> dict:
    """Which actions this operator may take at the step now, and where the cursor starts."""
    step, may, active, in_progress = scope.step, scope.may, scope.active, scope.in_progress
    return {
        "can_start": active and may["perform"] and step.status == StepStatus.PENDING and not scope.not_here,
        "not_here": scope.not_here and scope.is_open and step.status in (StepStatus.PENDING, StepStatus.IN_PROGRESS),
        "allowed_here": scope.allowed_here[-1] if scope.allowed_here else None,
        "can_sign": active
        and ((in_progress and may["perform"]) or (step.status == StepStatus.AWAITING_INSPECTION and may["inspect"])),
        # offered only where attachment_add would accept it: not held, the step not signed and closed
        "can_photo": active and step.status not in DONE_STEP_STATES and may["perform"],
        "can_consume": active and in_progress and may["perform"] and bool(step.components),
        "can_ncr": scope.is_open and may["ncr"],
        "focus_char_id": next(
            (r.char.pk for r in rows if r.can_record and r.char.kind in ("numeric", "text", "choice")), None
        ),
        # the step's form saved at once (two values or more still to record): one request, one transaction
        "values_url": step_url(scope.traveler, step, "station_values_record")
        if len([r for r in rows if r.can_record and r.char.kind != "attachment"]) > 1
        else "",
    }


def step_forms(scope: StepScope) -> dict:
    """The step's actions' forms — the bound ones given (with their errors), else fresh — and their URLs."""
    traveler, step, forms, version, signing = scope.traveler, scope.step, scope.forms, scope.version, scope.signing
    sign_meaning = "inspected" if step.status == StepStatus.AWAITING_INSPECTION else "performed"
    return {
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
        "override_form": forms.get("override") or WorkCenterOverrideForm(auto_id="id_override_%s"),
        "override_url": step_url(traveler, step, "station_work_center_override"),
        "start_url": step_url(traveler, step, "station_step_start"),
        "sign_url": step_url(traveler, step, "station_step_sign"),
        "photo_url": step_url(traveler, step, "station_photo"),
        "component_url": step_url(traveler, step, "station_component"),
        "ncr_url": step_url(traveler, step, "station_ncr"),
        "step_url": step_url(traveler, step),
    }
