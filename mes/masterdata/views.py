"""Change control on screen: /changes/ lists routing changes; /changes/routing/<id>/new asks for one (an
engineer: reason, change order); /changes/<id>/ shows what differs — changed limits first — and takes the
engineering and the quality signature, each by whoever may give it. The services are
mes.masterdata.change_control; this module only asks and shows."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mes.compliance import credentials
from mes.compliance.errors import ComplianceError

from . import change_control
from .errors import MasterDataError
from .models import Routing, RoutingChange

app_name = "masterdata"
SIGNERS = ("masterdata.approve_routing_engineering", "masterdata.approve_routing_quality")


def _may_see(user) -> bool:
    return user.is_active and (user.has_perm("masterdata.change_routing") or any(user.has_perm(p) for p in SIGNERS))


class RequestForm(forms.Form):
    action = forms.ChoiceField(label=gettext_lazy("Change"), choices=RoutingChange.Action.choices)
    reference = forms.CharField(label=gettext_lazy("Change order (ECO/ECN)"), max_length=60, required=False)
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class ApproveForm(forms.Form):
    role = forms.ChoiceField(choices=[("engineering", "engineering"), ("quality", "quality")], widget=forms.HiddenInput)
    username = forms.CharField(label=gettext_lazy("Your user id"), max_length=150, required=False)
    secret = forms.CharField(
        label=gettext_lazy("Password or signing PIN"), strip=False, max_length=128, widget=forms.PasswordInput
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why"), max_length=4000)


@login_required
@require_GET
def change_list(request):
    if not _may_see(request.user):
        raise PermissionDenied(_("Engineers and quality only."))
    changes = _changes()[:200]
    return render(request, "masterdata/changes.html", {"changes": changes})


@login_required
@require_http_methods(["GET", "POST"])
def change_new(request, routing_id: int):
    routing = get_object_or_404(Routing.objects.select_related("part_revision__part"), pk=routing_id)
    if not request.user.has_perm("masterdata.change_routing"):
        raise PermissionDenied(_("Engineers only."))
    initial = {"action": request.GET.get("action") or "release"}
    form = RequestForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                change = change_control.routing_change_request(routing=routing, actor=request.user, **form.cleaned_data)
            except MasterDataError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = 422
            else:
                return redirect(reverse("masterdata:change_detail", args=[change.pk]))
        else:
            status = 422
    return render(request, "masterdata/change_new.html", {"routing": routing, "form": form}, status=status)


@sensitive_post_parameters("secret")
@login_required
@require_http_methods(["GET", "POST"])
def change_detail(request, change_id: int):
    if not _may_see(request.user):
        raise PermissionDenied(_("Engineers and quality only."))
    change = get_object_or_404(_changes(), pk=change_id)
    form = ApproveForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            change = change_control.routing_change_approve(
                change=change,
                role=data["role"],
                actor=request.user,
                secret=data["secret"],
                username=data.get("username") or None,
                session_key=request.session.session_key,
            )
        except (ComplianceError, MasterDataError) as exc:
            form.add_error(exc.field if exc.field in ("username", "secret") else None, exc.message)
            status = 403 if isinstance(exc, ComplianceError) else 422
        else:
            done = change.status == RoutingChange.Status.APPROVED
            messages.success(
                request, _("Signed. The change is done.") if done else _("Signed. It waits for the other signature.")
            )
            return redirect(reverse("masterdata:change_detail", args=[change.pk]))
    elif request.method == "POST":
        status = 422
    return _detail(request, change, form=form, status=status)


def _detail(request, change, *, form=None, withdraw_form=None, status=200):
    ask_user_id = not credentials.session_continues(request.session.session_key, request.user)
    roles = [
        (role, label, request.user.has_perm(perm), getattr(change, f"{role}_signature"))
        for role, label, perm in (
            ("engineering", _("Engineering: approved for release"), SIGNERS[0]),
            ("quality", _("Quality: approved"), SIGNERS[1]),
        )
    ]
    context = {
        "change": change,
        "limits": [d for d in change.diff if d["limit"]],
        "others": [d for d in change.diff if not d["limit"]],
        "roles": roles,
        "form": form or ApproveForm(),
        "withdraw_form": withdraw_form or WithdrawForm(),
        "may_withdraw": request.user.has_perm("masterdata.change_routing"),
        "ask_user_id": ask_user_id,
        "failed_role": request.POST.get("role", "") if form is not None else "",
    }
    return render(request, "masterdata/change.html", context, status=status)


@login_required
@require_POST
def change_withdraw(request, change_id: int):
    if not request.user.has_perm("masterdata.change_routing"):
        raise PermissionDenied(_("Engineers only."))
    change = get_object_or_404(_changes(), pk=change_id)
    form = WithdrawForm(request.POST)
    if form.is_valid():
        try:
            change_control.routing_change_withdraw(
                change=change, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except MasterDataError as exc:
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            messages.success(request, _("Withdrawn. The routing can be edited again."))
            return redirect(reverse("masterdata:change_detail", args=[change.pk]))
    return _detail(request, change, withdraw_form=form, status=422)


def _changes():
    return RoutingChange.objects.select_related(
        "routing__part_revision__part", "requested_by__profile", "engineering_signature", "quality_signature"
    )


urlpatterns = [
    path("", change_list, name="change_list"),
    path("routing/<int:routing_id>/new/", change_new, name="change_new"),
    path("<int:change_id>/", change_detail, name="change_detail"),
    path("<int:change_id>/withdraw/", change_withdraw, name="change_withdraw"),
]
