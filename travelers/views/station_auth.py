"""Switching operators on a shared tablet: badge + password or signing PIN, the idle lock, and choosing
the work center the tablet stands at.

The password path goes through `django.contrib.auth.authenticate`, so django-axes counts failures and
locks the account. A PIN is checked here; a wrong PIN falls through to the password check and is counted
by axes the same way, and an account axes has locked cannot sign in by PIN either. Nothing the page
says, nor how long it takes, tells whether a badge exists."""

from __future__ import annotations

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_ip_address
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.hashers import check_password, get_hasher, make_password
from django.db.models import Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from travelers import selectors
from travelers.forms import BadgeLoginForm, WorkCenterForm

from .credentials import must_change
from .station_common import (
    activate_site_zone,
    is_idle,
    mark_seen,
    remember_station,
    safe_next,
    sign_out,
    station_context,
    station_of,
    station_view,
)

MODEL_BACKEND = "mes.compliance.backends.ModelBackendOneQuery"
_DUMMY_PIN_HASHES: dict[tuple, str] = {}


def _dummy_pin_hash() -> str:
    """A hash no PIN matches, checked when the badge is unknown or has no PIN, so that every attempt
    costs the same hash checks whatever the badge (made with the PIN hasher when there is one)."""
    key = tuple(settings.PASSWORD_HASHERS)
    if key not in _DUMMY_PIN_HASHES:
        try:
            get_hasher("pbkdf2_sha256_pin")
            hasher = "pbkdf2_sha256_pin"
        except ValueError:
            hasher = "default"
        _DUMMY_PIN_HASHES[key] = make_password(get_random_string(32), hasher=hasher)
    return _DUMMY_PIN_HASHES[key]


class SignInRefused(Exception):
    def __init__(self, message: str, *, locked: bool = False):
        super().__init__(message)
        self.message = message
        self.locked = locked


def tablet_guesses(request) -> int:
    """Wrong sign-ins at this tablet (its address) within the lockout's cool-off, whatever the badges."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    attempts = AccessAttempt.objects.filter(ip_address=get_client_ip_address(request), attempt_time__gte=since)
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


def badge_authenticate(request, *, badge: str, secret: str):
    """The active user whose badge this is and whose password or signing PIN `secret` is; else
    SignInRefused with a message that does not say which of the two was wrong."""
    profile = selectors.profile_by_badge(badge)
    user = profile.user if profile is not None else None
    # An unknown badge is counted under a name no user has, so it is refused and locked alike.
    username = user.get_username() if user is not None else f"badge:{badge.strip()[:60]}"
    credentials = {"username": username}
    locked_message = _("Too many wrong attempts: this badge is locked for now. Ask your supervisor.")
    if not AxesProxyHandler.is_allowed(request, credentials):
        raise SignInRefused(locked_message, locked=True)
    if tablet_guesses(request) >= settings.TABLET_LOGIN_GUESS_LIMIT:
        raise SignInRefused(
            _("Too many wrong attempts at this tablet: sign-in is paused here for now. Ask your supervisor."),
            locked=True,
        )
    pin_hash = selectors.signing_pin_hash(user) if user is not None else ""
    pin_matches = check_password(secret, pin_hash or _dummy_pin_hash())  # always one hash check
    if pin_matches and pin_hash and user.is_active:
        return user
    found = authenticate(request, username=username, password=secret)
    if found is not None:
        return found
    if getattr(request, "axes_locked_out", False):
        # This failure reached the limit. Axes has counted and locked it; the page says so itself
        # (instead of axes' bare lockout response), still without saying whether the badge exists.
        request.axes_locked_out = False
        raise SignInRefused(locked_message, locked=True)
    raise SignInRefused(_("Badge or password/PIN not recognised. Try again."))


@sensitive_post_parameters("secret")
@require_http_methods(["GET", "POST"])
def station_login(request, *, locked: bool = False):
    """The badge page. At /station/lock/ it is also the lock: a POST without a badge (the idle timer,
    or "Switch operator") signs the current operator out and shows it again."""
    if request.method == "POST" and "badge" not in request.POST:
        if request.user.is_authenticated:
            sign_out(request)
        # The page's idle timer says so (idle=1); "Lock · switch operator" does not: the page then says which.
        query = {"next": safe_next(request), **({"idle": "1"} if request.POST.get("idle") == "1" else {})}
        url = f"{reverse('travelers:station_lock')}?{urlencode(query)}"
        return redirect(url)
    form = BadgeLoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = badge_authenticate(request, badge=form.cleaned_data["badge"], secret=form.cleaned_data["secret"])
        except SignInRefused as exc:
            form.add_error("secret", exc.message)
            status = 429 if exc.locked else 403
        else:
            login(request, user, backend=MODEL_BACKEND)
            mark_seen(request)
            station = station_of(request)
            if station is not None:
                activate_site_zone(request, station)
            if must_change(user):  # a secret someone else set, or one aged out: choose a new one first
                messages.warning(request, _("Choose a new password (or signing PIN) before you sign."))
                return redirect(f"{reverse('travelers:station_account')}?{urlencode({'next': safe_next(request)})}")
            return redirect(safe_next(request))
    elif request.method == "POST":
        status = 422
    signed_in = request.user.is_authenticated and not is_idle(request)
    context = station_context(
        request,
        form=form,
        locked=locked,
        idle_lock=locked and request.GET.get("idle") == "1",
        next=safe_next(request),
        signed_in=signed_in,
        station=station_of(request),
    )
    response = render(request, "travelers/station/login.html", context, status=status)
    add_never_cache_headers(response)
    return response


def station_lock(request):
    return station_login(request, locked=True)


@require_POST
@station_view(passive=True)
def station_alive(request):
    """The page's idle timer reports the operator is busy on the page (reading, scrolling) though the
    page made no request: it counts as activity."""
    mark_seen(request)
    return HttpResponse(status=204)


@require_http_methods(["GET", "POST"])
@station_view
def station_pick(request):
    """Choose the work center this tablet stands at; remembered by the tablet for good."""
    work_centers = selectors.station_work_centers()
    form = WorkCenterForm(request.POST or None, work_centers=work_centers)
    if request.method == "POST" and form.is_valid():
        site_code, code = form.cleaned_data["work_center"].split("/", 1)
        chosen = next(wc for wc in work_centers if wc.site.code == site_code and wc.code == code)
        activate_site_zone(request, chosen)
        response = redirect("travelers:station_home")
        remember_station(response, chosen)
        return response
    home_site = getattr(getattr(request.user, "profile", None), "site_id", None)
    sites: dict = {}
    for wc in sorted(work_centers, key=lambda w: (w.site_id != home_site, w.site.code, w.code)):
        sites.setdefault(wc.site, []).append(wc)
    context = station_context(request, form=form, sites=sites.items())
    return render(request, "travelers/station/pick.html", context, status=422 if form.errors else 200)
