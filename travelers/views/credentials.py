"""People's own credentials, on screen (21 CFR 11.200, 11.300):

/station/account/      anyone signed in: change their password, choose their signing PIN (at a tablet too)
                       and the language of their screens;
                       where they are sent when someone else set their secret or it aged out
/supervisor/signers/   supervisors and administrators (compliance.unlock_signing): who is locked out of
                       signing or of logging in, who must choose a new secret; unlock with a reason and
                       their own signature

The services are mes.compliance.credentials; these pages only ask and show.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language_from_request
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from mes.compliance import credentials, unlocking
from mes.compliance.alerts import locked_signers
from mes.compliance.errors import ComplianceError
from mes.compliance.models import Profile, SigningCredential
from mes.i18n import remember_language
from travelers.forms import LanguageForm, PasswordChangeForm, PinSetForm, UnlockForm

from .station_common import need_user_id, signed_action, station_context, station_view

UNLOCK = "compliance.unlock_signing"


def credential_state(user) -> dict:
    """What the account page says of the user's secrets (ages, what must change)."""
    credential = SigningCredential.objects.filter(user=user).first()
    return {
        "must_set_new_secret": bool(credential and credential.must_set_new_secret),
        "password_expired": credentials.password_expired(user, credential),
        "password_changed_at": (credential.password_changed_at if credential else None) or user.date_joined,
        "password_max_days": credentials.password_max_age().days,
        "has_pin": bool(credential and credential.pin_hash),
        "pin_set_at": credential.pin_set_at if credential else None,
        "pin_expired": bool(credential and credentials.pin_expired(credential)),
        "pin_max_days": credentials.pin_max_age().days,
        "signing_locked": bool(credential and credential.locked_at),
    }


def must_change(user) -> bool:
    state = credential_state(user)
    return state["must_set_new_secret"] or state["password_expired"]


@sensitive_post_parameters("current_password", "new_password", "new_password2", "new_pin", "new_pin2")
@require_http_methods(["GET", "POST"])
@station_view
def station_account(request):
    kind = request.POST.get("form")
    password_form = PasswordChangeForm(request.POST if kind == "password" else None, prefix="password")
    pin_form = PinSetForm(request.POST if kind == "pin" else None, prefix="pin")
    profile = Profile.objects.select_related("site").filter(user=request.user).first()
    language_form = LanguageForm(
        request.POST if kind == "language" else None,
        prefix="language",
        initial={"language": profile.language if profile else ""},
        site_language=profile.site.language if profile and profile.site else "",
    )
    status = 200
    if request.method == "POST" and kind == "language":
        if profile is not None and language_form.is_valid():
            try:
                credentials.profile_language_set(
                    profile=profile, language=language_form.cleaned_data["language"], actor=request.user
                )
            except ComplianceError as exc:
                language_form.add_domain_error(exc)
                status = 422
            else:
                code = remember_language(request, request.user)
                translation.activate(code or get_language_from_request(request))
                messages.success(request, _("Your language is saved."))
                return redirect(request.POST.get("next") or reverse("travelers:station_account"))
        else:
            if profile is None:
                language_form.add_error(
                    None, _("Your account has no shop-floor profile: an administrator sets your language.")
                )
            status = 422
    elif request.method == "POST":
        form = password_form if kind == "password" else pin_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if kind == "password":
                    credentials.password_change(
                        user=request.user, current_password=data["current_password"], new_password=data["new_password"]
                    )
                    update_session_auth_hash(request, request.user)  # stays signed in at this tablet
                    messages.success(request, _("Your password is changed."))
                else:
                    credentials.signing_pin_set(
                        user=request.user, current_password=data["current_password"], new_pin=data["new_pin"]
                    )
                    messages.success(request, _("Your signing PIN is set."))
            except ComplianceError as exc:
                form.add_domain_error(exc)
                status = 422
            else:
                return redirect(request.POST.get("next") or reverse("travelers:station_account"))
        else:
            status = 422
    context = station_context(
        request,
        password_form=password_form,
        pin_form=pin_form,
        language_form=language_form,
        state=credential_state(request.user),
    )
    return render(request, "travelers/account/account.html", context, status=status)


def _unlocked(unlock) -> str:
    return _("%(user)s can sign again. Signed: %(manifestation)s.") % {
        "user": unlock.username,
        "manifestation": unlock.signature.manifestation,
    }


def _unlock_refused(exc) -> int:
    """A refused unlock: 422 for a missing reason or user id, else 403 (a wrong secret, not allowed)."""
    return 422 if exc.field in ("reason", "username") else 403


def _may_unlock(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_perm(UNLOCK)


@sensitive_post_parameters("secret")
@login_required
@require_http_methods(["GET", "POST"])
def signers(request):
    """Who is locked out of signing or logging in, and who must choose a new secret; unlock, signed."""
    if not _may_unlock(request.user):
        raise PermissionDenied(_("Supervisors and administrators only."))
    ask_user_id = need_user_id(request)
    form = UnlockForm(request.POST or None, need_user_id=ask_user_id)
    status = 200
    if request.method == "POST":

        def unlock(**signed):
            target = get_user_model().objects.filter(username=form.cleaned_data["user"]).first()
            if target is None:
                raise PermissionDenied(_("There is no such user."))
            return unlocking.signing_unlock(user=target, **signed)

        refused = signed_action(request, form, unlock, _unlocked, refused_status=_unlock_refused)
        if refused is None:
            return redirect(reverse("travelers:signers"))
        status = refused
    must_change = (
        SigningCredential.objects.filter(must_set_new_secret=True).select_related("user__profile").order_by("user")
    )
    context = {
        "locked": locked_signers(),
        "must_change": must_change,
        "form": form,
        "failed_user": request.POST.get("user", ""),
        "supervisor_nav": True,
    }
    return render(request, "travelers/account/signers.html", context, status=status)
