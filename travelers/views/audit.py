"""Audit-trail review for QA and administrators (Annex 11 §9; 21 CFR 11.10(e)): /audit/ filters the
trail by traveler, work order, who, action, object and dates, shows each event in plain words with its
time at the site; /audit/export.csv and /audit/export.pdf export the same selection (same query
parameters); /audit/review/ signs, meaning "reviewed", that the selection was read.

Everything here reads travelers.audit_trail and signs through mes.compliance.reviews."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from mes.compliance.config_seal import config_seal_all
from mes.compliance.errors import ComplianceError
from mes.compliance.reviews import PERMISSION, audit_review_sign, reviews_of
from travelers.audit_pdf import trail_pdf
from travelers.audit_trail import PAGE, Trail, TrailFilterForm, csv_lines, export_name

from .station_common import need_user_id, signing_username


class ReviewForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Your user id"), max_length=150, required=False)
    secret = forms.CharField(label=gettext_lazy("Password or signing PIN"), strip=False, max_length=128)
    comment = forms.CharField(label=gettext_lazy("Comment (optional)"), max_length=2000, required=False)


def _allowed(request) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied(_("Quality and administrators review the audit trail."))
    # Configuration changes the beat has not sealed yet are sealed now, so the trail shows (and a review
    # signs) every change made so far, the admin edit of a minute ago included.
    config_seal_all()


def _filters(request) -> TrailFilterForm:
    return TrailFilterForm(request.GET or request.POST or None)


def _query(trail: Trail) -> str:
    return urlencode(trail.scope())


DEFAULT_DAYS = 7  # with no filter, the last week


@login_required
@require_GET
def audit_trail(request):
    _allowed(request)
    if not request.GET:
        since = timezone.localdate() - dt.timedelta(days=DEFAULT_DAYS)
        return redirect(f"{reverse('travelers:audit_trail')}?{urlencode({'date_from': since.isoformat()})}")
    form = _filters(request)
    if not form.is_valid():
        return render(request, "travelers/audit/trail.html", {"form": form}, status=400)
    trail = Trail.from_filters(form.cleaned_data)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE
    events = list(trail.events()[start : start + PAGE + 1])
    query = _query(trail)
    context = {
        "form": form,
        "trail": trail,
        "rows": trail.rows(events[:PAGE]),
        "first": start + 1,
        "last": start + min(len(events), PAGE),
        "page": page,
        "more": len(events) > PAGE,
        "query": query,
        "reviewable": any(trail.scope().get(k) for k in ("traveler", "work_order", "date_from", "date_to")),
        "reviews": reviews_of(trail.scope())[:5],
        "review_form": ReviewForm(),
        "ask_user_id": need_user_id(request),
    }
    return render(request, "travelers/audit/trail.html", context)


def _refused_export(form) -> HttpResponse:
    problems = "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())
    return HttpResponse(f"bad filter: {problems}\n", status=400, content_type="text/plain; charset=utf-8")


def _export(request, extension: str, build) -> HttpResponse:
    """The filtered trail as a file (the same query parameters as the page); a bad filter is a 400."""
    _allowed(request)
    form = _filters(request)
    if request.GET and not form.is_valid():
        return _refused_export(form)
    trail = Trail.from_filters(form.cleaned_data if request.GET else {})
    response = build(trail)
    disposition = "attachment" if extension == "csv" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{export_name(trail, extension)}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
@require_GET
def audit_export_csv(request):
    return _export(
        request, "csv", lambda trail: StreamingHttpResponse(csv_lines(trail), content_type="text/csv; charset=utf-8")
    )


@login_required
@require_GET
def audit_export_pdf(request):
    return _export(
        request,
        "pdf",
        lambda trail: HttpResponse(trail_pdf(trail, title=_("Audit trail")), content_type="application/pdf"),
    )


@sensitive_post_parameters("secret")
@login_required
@require_POST
def audit_review(request):
    _allowed(request)
    form = TrailFilterForm(request.POST)
    review = ReviewForm(request.POST)
    if not form.is_valid():
        return render(request, "travelers/audit/trail.html", {"form": form}, status=400)
    trail = Trail.from_filters(form.cleaned_data)
    back = f"{reverse('travelers:audit_trail')}?{_query(trail)}"
    if review.is_valid():
        data = review.cleaned_data
        try:
            done = audit_review_sign(
                events=trail.events(),
                scope=trail.scope(),
                scope_words=trail.scope_words(),
                actor=request.user,
                secret=data["secret"],
                comment=data["comment"],
                username=signing_username(request, data.get("username") or None),
                session_key=request.session.session_key,
            )
        except ComplianceError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.success(
            request,
            _("Signed: %(who)s reviewed %(n)d events (%(scope)s).")
            % {"who": done.signature.printed_name, "n": done.events, "scope": done.scope_words},
        )
        return redirect(back)
    messages.error(request, _("Type your password or signing PIN to sign the review."))
    return redirect(back)
