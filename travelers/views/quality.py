"""Quality screens for inspectors: the sign-off queue, the review of one traveler with its final approval
or rejection (an electronic signature stating its meaning), and the disposition of nonconformances.

Reads come from travelers.reports and travelers.records (fixed query counts); every write is a service call
(traveler_signoff, ncr_disposition) whose domain errors are shown beside the field they name. Signatures
are verified (mes.compliance.signing.signature_verify) in their own request — `quality_signatures`,
loaded into the review page by htmx — because verifying re-reads every signed record as it stood.

Permissions: the queue needs travelers.signoff_traveler or travelers.disposition_ncr; the review and the
sign-off need signoff_traveler; an NCR's disposition needs disposition_ncr. Others get 403; anonymous
users go to settings.LOGIN_URL."""

from __future__ import annotations

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from mes.compliance.signing import signature_verify
from mes.htmx import htmx_partial
from travelers import records, reports, selectors, services
from travelers.forms import SigningForm, StationForm
from travelers.models import Nonconformance
from travelers.states import NcrStatus
from travelers.views.station_common import (
    DOMAIN_ERRORS,
    error_status,
    need_user_id,
    signing_username,
)
from travelers.views.supervisor import may_supervise

SIGNOFF = "travelers.signoff_traveler"
DISPOSITION = "travelers.disposition_ncr"


# --- Access -------------------------------------------------------------------------------------------------


def requires_any(*perms: str):
    """Signed in (else to settings.LOGIN_URL) and holding at least one of `perms` (else 403)."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not any(request.user.has_perm(p) for p in perms):
                raise PermissionDenied(_("You are not allowed to see this page."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def found(loader, *args):
    """What a selector loads, or 404 with its message."""
    try:
        return loader(*args)
    except selectors.RecordNotFound as exc:
        raise Http404(exc.message) from None


def go(request, url: str):
    """After a change: a full-page redirect, also when the form was sent by htmx."""
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


# --- Forms --------------------------------------------------------------------------------------------------


class SignoffForm(SigningForm):
    """The final quality sign-off: approve or reject (with a reason), signed with user id (first signing of
    the session) and password or PIN."""

    decision = forms.ChoiceField(
        choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(
        label=gettext_lazy("Why is it rejected?"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field_map = {"traveler": None, "actor": None, "status": None}
    field_order = ["decision", "reason", "username", "secret"]

    MEANINGS = {
        "approve": gettext_lazy("I approve this traveler"),
        "reject": gettext_lazy("I reject this traveler"),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.auto_id = f"id_{self.decision_value()}_%s"  # two dialogs on one page: distinct ids

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the traveler is rejected."))
        return data

    def meaning(self) -> str:
        decision = self.data.get("decision") if self.is_bound else self.initial.get("decision")
        return str(self.MEANINGS.get(decision, self.MEANINGS["approve"]))

    def decision_value(self) -> str:
        decision = self.data.get("decision") if self.is_bound else self.initial.get("decision")
        return decision if decision in self.MEANINGS else "approve"


class DispositionForm(SigningForm):
    disposition = forms.ChoiceField(
        label=gettext_lazy("Disposition"),
        choices=[("", gettext_lazy("— choose —")), *Nonconformance.Disposition.choices],
    )
    notes = forms.CharField(
        label=gettext_lazy("Notes (why, and what is to be done)"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    mrb_username = forms.CharField(
        label=gettext_lazy("Engineer's user id (material review board)"),
        required=False,
        max_length=150,
        help_text=gettext_lazy("For “use as is” and “repair”: an engineer co-signs, here, with their own secret."),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "autocomplete": "off"}),
    )
    mrb_secret = forms.CharField(
        label=gettext_lazy("Engineer's password or signing PIN"),
        required=False,
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    field_map = {"traveler": None, "actor": None, "status": None, "rework_steps": None, "mrb": "mrb_username"}
    field_order = ["disposition", "notes", "username", "secret", "mrb_username", "mrb_secret"]


class ReworkStepForm(StationForm):
    operation = forms.ChoiceField(label=gettext_lazy("Operation"), required=False)
    title = forms.CharField(label=gettext_lazy("Title"), max_length=160, required=False)
    instructions = forms.CharField(
        label=gettext_lazy("Instructions"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    work_center = forms.ChoiceField(label=gettext_lazy("Work center"), required=False)

    def __init__(self, *args, operations=(), work_centers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operation"].choices = [("", "—")] + [(op.code, f"{op.code} — {op.name}") for op in operations]
        self.fields["work_center"].choices = [("", _("the NCR step's work center"))] + [
            (wc.code, f"{wc.code} — {wc.name}") for wc in work_centers
        ]

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any((data.get(k) or "").strip() for k in ("operation", "title", "instructions"))

    def as_step(self) -> dict:
        data = self.cleaned_data
        return {
            "operation": data.get("operation") or "",
            "title": data.get("title") or "",
            "instructions": data.get("instructions") or "",
            "work_center": data.get("work_center") or None,
        }


ReworkFormSet = forms.formset_factory(ReworkStepForm, extra=0, max_num=20, absolute_max=20)
REWORK_PREFIX = "rework"
REWORK_ROWS = 2  # empty rows offered when the form is first shown


# --- The queue ------------------------------------------------------------------------------------------------


@require_GET
@requires_any(SIGNOFF, DISPOSITION)
def quality_queue(request):
    """What waits for quality: travelers awaiting final sign-off, NCRs awaiting a disposition."""
    user = request.user
    context = {
        "supervisor_nav": may_supervise(user),
        "can_signoff": user.has_perm(SIGNOFF),
        "can_disposition": user.has_perm(DISPOSITION),
        "travelers": reports.signoff_queue() if user.has_perm(SIGNOFF) else [],
        "ncrs": reports.ncr_queue() if user.has_perm(DISPOSITION) else [],
    }
    template = "travelers/quality/_queue.html" if htmx_partial(request) else "travelers/quality/queue.html"
    return render(request, template, context)


# --- Review and sign-off ------------------------------------------------------------------------------------


def _review_context(request, number: str, form: SignoffForm | None = None) -> dict:
    traveler, on_traveler = found(reports.traveler_for_record, number)
    record = records.build_record(traveler, on_traveler)
    blockers = records.signoff_blockers(record)
    ask_user_id = need_user_id(request)
    return {
        "supervisor_nav": may_supervise(request.user),
        "record": record,
        "zone": record["site"]["time_zone"],
        "out_of_spec": records.out_of_spec_values(record),
        "corrections": records.corrections(record),
        "blockers": blockers,
        "closed": records.is_closed(record),
        "can_sign": not blockers,
        "can_disposition": request.user.has_perm(DISPOSITION),
        "approve_form": form
        if form is not None and form.decision_value() == "approve"
        else SignoffForm(initial={"decision": "approve"}, need_user_id=ask_user_id),
        "reject_form": form
        if form is not None and form.decision_value() == "reject"
        else SignoffForm(initial={"decision": "reject"}, need_user_id=ask_user_id),
        "record_number": record["traveler"]["number"],
    }


@require_GET
@requires_any(SIGNOFF)
def quality_review(request, number: str):
    """One traveler as quality reviews it: out-of-spec values, corrections and NCRs first, then every
    signature; approve or reject from here."""
    return render(request, "travelers/quality/review.html", _review_context(request, number))


@require_http_methods(["GET", "POST"])
@requires_any(SIGNOFF)
def quality_signoff(request, number: str):
    """Sign the final approval or rejection. GET shows the signing form on its own page (for a browser
    without JavaScript); POST signs. Errors come back beside the field: as the dialog's form for htmx,
    else on the signing page."""
    traveler = found(selectors.traveler_by_number, number)
    ask_user_id = need_user_id(request)
    if request.method == "GET":
        decision = request.GET.get("decision", "approve")
        form = SignoffForm(initial={"decision": decision}, need_user_id=ask_user_id)
        return render(
            request, "travelers/quality/signoff.html", {**_review_context(request, number, form), "form": form}
        )
    form = SignoffForm(request.POST, need_user_id=ask_user_id)
    status = 422
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.traveler_signoff(
                traveler=traveler,
                approve=data["decision"] == "approve",
                actor=request.user,
                secret=data["secret"],
                reason=data.get("reason") or "",
                username=signing_username(request, data.get("username")),
                session_key=request.session.session_key,
            )
        except DOMAIN_ERRORS as exc:
            form.add_domain_error(exc)
            status = error_status(exc)
        else:
            traveler, signature, ncr = selectors.signoff_state(traveler.pk)
            text = _("Signed: %(manifestation)s.") % {"manifestation": signature.manifestation}
            if ncr:
                text += " " + _("%(ncr)s now holds the traveler.") % {"ncr": ncr}
            messages.success(request, text)
            return go(request, reverse("travelers:quality_review", args=[number]))
    if htmx_partial(request):
        context = {"form": form, "record_number": number, "dialog": True}
        return render(request, "travelers/quality/_signoff_form.html", context, status=status)
    context = {**_review_context(request, number, form), "form": form}
    return render(request, "travelers/quality/signoff.html", context, status=status)


@require_GET
@requires_any(SIGNOFF)
def quality_signatures(request, number: str):
    """Every signature on the traveler, each verified against the record as it stood when signed
    ("verified", or "BROKEN" when the record no longer hashes to what was signed)."""
    traveler, on_traveler = found(reports.traveler_for_record, number)
    record = records.build_record(traveler, on_traveler)
    rows = {s.pk: s for s in reports.signatures_of(s["id"] for s in record["signatures"])}
    verified = {}
    for sig in record["signatures"]:
        try:
            verified[sig["id"]] = signature_verify(rows[sig["id"]])
        except LookupError:  # a record type nobody registered: it cannot be checked
            verified[sig["id"]] = None
    signatures = [{**sig, "verified": verified[sig["id"]]} for sig in record["signatures"]]
    context = {"record": record, "zone": record["site"]["time_zone"], "signatures": signatures, "checked": True}
    template = "travelers/quality/_signatures.html" if htmx_partial(request) else "travelers/quality/signatures.html"
    return render(request, template, context)


# --- NCR disposition ---------------------------------------------------------------------------------------


def _rework_forms(request, operations, work_centers, *, add_row: bool = False):
    kwargs = {"operations": operations, "work_centers": work_centers}
    if request.method == "POST":
        data = request.POST.copy()
        if add_row:
            key = f"{REWORK_PREFIX}-TOTAL_FORMS"
            data[key] = str(min(int(data.get(key) or 0) + 1, 20))
        formset = ReworkFormSet(data, prefix=REWORK_PREFIX, form_kwargs=kwargs)
    else:
        formset = ReworkFormSet(initial=[{} for _ in range(REWORK_ROWS)], prefix=REWORK_PREFIX, form_kwargs=kwargs)
    return formset


def _dispositioned(request, ncr):
    ncr = selectors.ncr_state(ncr.pk)
    text = _("%(ncr)s dispositioned: %(disposition)s. Signed: %(manifestation)s.") % {
        "ncr": ncr.number,
        "disposition": ncr.get_disposition_display(),
        "manifestation": ncr.disposition_signature.manifestation,
    }
    added = [s.sequence for s in ncr.rework_steps.all()]
    if added:
        text += " " + _("Rework steps added: %(steps)s.") % {"steps": ", ".join(str(s) for s in added)}
    messages.success(request, text)
    if request.user.has_perm(SIGNOFF):
        return go(request, reverse("travelers:quality_review", args=[ncr.traveler.number]))
    return go(request, reverse("travelers:quality_queue"))


@require_http_methods(["GET", "POST"])
@requires_any(DISPOSITION)
def ncr_disposition(request, number: str):
    """Quality's signed disposition of a nonconformance; rework and repair add the steps listed."""
    ncr = found(reports.ncr_for_disposition, number)
    operations, work_centers = reports.rework_choices(ncr.traveler.site_id)
    ask_user_id = need_user_id(request)
    add_row = request.method == "POST" and "add_row" in request.POST
    form = DispositionForm(request.POST or None, need_user_id=ask_user_id)
    formset = _rework_forms(request, operations, work_centers, add_row=add_row)
    status = 200
    if request.method == "POST" and not add_row:
        status = 422
        rows_ok = formset.is_valid()
        if form.is_valid() and rows_ok:
            rows = [(i, f) for i, f in enumerate(formset.forms) if not f.is_blank()]
            data = form.cleaned_data
            try:
                services.ncr_disposition(
                    ncr=ncr,
                    disposition=data["disposition"],
                    notes=data["notes"],
                    rework_steps=[f.as_step() for _, f in rows],
                    actor=request.user,
                    secret=data["secret"],
                    username=signing_username(request, data.get("username")),
                    session_key=request.session.session_key,
                    mrb_username=data.get("mrb_username"),
                    mrb_secret=data.get("mrb_secret"),
                )
            except DOMAIN_ERRORS as exc:
                status = error_status(exc)
                _place_error(exc, form, formset, [i for i, _ in rows])
            else:
                return _dispositioned(request, ncr)
    context = {
        "ncr": ncr,
        "ncr_open": ncr.status == NcrStatus.OPEN,
        "traveler": ncr.traveler,
        "zone": ncr.traveler.site.time_zone,
        "form": form,
        "formset": formset,
        "rework_error": getattr(form, "rework_error", ""),
    }
    template = "travelers/quality/_ncr_form.html" if htmx_partial(request) else "travelers/quality/ncr.html"
    return render(request, template, context, status=status)


def _place_error(exc, form, formset, row_of: list[int]) -> None:
    """Put a domain error beside its field: "rework_steps[1].title" is the title of the second row given."""
    field = getattr(exc, "field", None) or ""
    if field.startswith("rework_steps[") and "]." in field:
        index, name = field[len("rework_steps[") :].split("].", 1)
        try:
            row = formset.forms[row_of[int(index)]]
        except (ValueError, IndexError):
            row = None
        if row is not None and name in row.fields:
            row.add_error(name, exc.message)
            return
    if field == "rework_steps":
        form.rework_error = exc.message
        return
    form.add_domain_error(exc)
