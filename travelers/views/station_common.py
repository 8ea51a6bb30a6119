"""What every shop-floor page shares: sign-in and the idle lock, the tablet's work center, the site's time
zone, rendering a page or its partial, and turning domain errors into messages beside the field.

A tablet is shared by a shift. Whoever uses it signs in with their badge; after STATION_IDLE_SECONDS
without a request (the page's own polling does not count) the next request signs them out and asks for
a badge again, and the page's idle timer (app.js) does the same without waiting for a request. The work
center the tablet stands at is kept in a long-lived signed cookie, so it survives operators changing."""

from __future__ import annotations

import zoneinfo
from functools import wraps
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from mes.compliance import credentials
from mes.compliance.errors import ComplianceError, SignatureRefused
from mes.compliance.sessions import idle_seconds, is_idle, mark_seen, sign_out
from mes.masterdata.errors import MasterDataError, NotQualified
from travelers import selectors
from travelers.errors import TravelerError

STATION_COOKIE = "traveler_station"
STATION_COOKIE_SALT = "travelers.station.work-center"
STATION_COOKIE_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie

DOMAIN_ERRORS = (TravelerError, ComplianceError, MasterDataError)


def safe_next(request, default: str | None = None) -> str:
    """Where to go after signing in: the `next` asked for when it is a path on this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default or reverse("travelers:station_home")


def _current_page(request) -> str:
    """The page the operator was on: the browser's URL for an htmx request, this one for a GET, the
    referring page of this site for a form posted without JavaScript."""
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.current_url_abs_path:
        return htmx.current_url_abs_path
    if request.method == "GET":
        return request.get_full_path()
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc == request.get_host() and referer.path.startswith("/"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return reverse("travelers:station_home")


def to_login(request, *, locked: bool = False):
    """To the badge page, coming back here afterwards; an htmx request makes the whole page go there."""
    name = "travelers:station_lock" if locked else "travelers:station_login"
    query = {"next": _current_page(request), **({"idle": "1"} if locked else {})}  # locked here: only when idle
    url = f"{reverse(name)}?{urlencode(query)}"
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def to_url(request, url: str):
    """Go to `url`: a redirect, or for htmx a client-side one (the whole page changes)."""
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def activate_site_zone(request, work_center) -> None:
    """Times show in the zone of the site the tablet stands at (mes.masterdata.middleware reads it)."""
    zone = work_center.site.time_zone
    if request.session.get("site_time_zone") != zone:
        request.session["site_time_zone"] = zone
    try:
        timezone.activate(zoneinfo.ZoneInfo(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass


def station_of(request):
    """The work center this tablet stands at (from its cookie), or None when none is chosen."""
    raw = request.get_signed_cookie(STATION_COOKIE, default=None, salt=STATION_COOKIE_SALT)
    if not raw or "/" not in raw:
        return None
    site_code, code = raw.split("/", 1)
    return selectors.station_work_center(site_code, code)


def remember_station(response, work_center) -> None:
    response.set_signed_cookie(
        STATION_COOKIE,
        f"{work_center.site.code}/{work_center.code}",
        salt=STATION_COOKIE_SALT,
        max_age=STATION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def station_view(view=None, *, passive: bool = False, needs_station: bool = False, cache_seconds: int = 0):
    """A shop-floor page: signed in (else the badge page), not idle too long (else signed out and
    locked), allowed to see travelers (else 403). `passive` requests (the queue's polling) do not count
    as the operator's activity. Responses vary on HX-Request and are not cached (`cache_seconds` lets
    the browser alone keep a file): on a shared tablet, Back after a lock must not show the previous
    operator's page."""

    def decorate(view_func):
        @wraps(view_func)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                response = to_login(request)
            elif is_idle(request):
                sign_out(request)
                response = to_login(request, locked=True)
            else:
                if not passive:
                    mark_seen(request)
                if not request.user.has_perm("travelers.view_traveler"):
                    raise PermissionDenied(_("You are not allowed to see travelers."))
                request.station = station_of(request)
                if request.station is not None:
                    activate_site_zone(request, request.station)
                if needs_station and request.station is None:
                    response = to_url(request, reverse("travelers:station_pick"))
                else:
                    response = view_func(request, *args, **kwargs)
            patch_vary_headers(response, ["HX-Request"])
            if cache_seconds and response.status_code == 200:
                patch_cache_control(response, private=True, max_age=cache_seconds)
            else:
                add_never_cache_headers(response)
            return response

        return wrapped

    return decorate(view) if view is not None else decorate


def station_context(request, **extra) -> dict:
    """What the station layout needs on every page."""
    return {
        "station": getattr(request, "station", None),
        "idle_seconds": idle_seconds(),
        "idle_minutes": max(1, round(idle_seconds() / 60)),
        **extra,
    }


def error_status(exc) -> int:
    """The HTTP status of a refused action, as the JSON API answers it."""
    if isinstance(exc, TravelerError):
        return exc.status_code
    if isinstance(exc, (SignatureRefused, NotQualified)):
        return 403
    return 422


def need_user_id(request) -> bool:
    """The first signing of a session asks for the user id as well as the secret (21 CFR 11.200); the
    signing service keeps track (mes.compliance.credentials) and refuses a first signing without it."""
    return not credentials.session_continues(request.session.session_key, request.user)


def signing_username(request, typed: str | None) -> str | None:
    """The user id to give the signing service: None once given in this session; the badge number of
    the signed-in user stands for their user id (the scanner types it)."""
    if typed is None:
        return None
    typed = typed.strip()
    profile = getattr(request.user, "profile", None)
    if profile is not None and typed and typed.lower() == profile.employee_number.lower():
        return request.user.get_username()
    return typed


def signed_action(request, form, act, notice, *, status: int = 422, refused_status=error_status) -> int | None:
    """One signed action from a form (21 CFR 11.50, 11.200): a valid form's secret, reason and signer go
    to the service `act`, called with actor, secret, reason, username and session_key as keywords. Signed:
    `notice(result)` — which names the signature's manifestation — is queued as a success message, and the
    answer is None (the caller redirects). Refused: the error goes beside the form's fields, and the answer
    is the status to show the form again with (`refused_status(exc)`; a `status` other than 422 given by
    the caller is a refusal decided before, and nothing is signed)."""
    if status != 422 or not form.is_valid():
        return status
    data = form.cleaned_data
    try:
        result = act(
            actor=request.user,
            secret=data["secret"],
            reason=data["reason"],
            username=signing_username(request, data.get("username")),
            session_key=request.session.session_key,
        )
    except DOMAIN_ERRORS as exc:
        form.add_domain_error(exc)
        return refused_status(exc)
    messages.success(request, notice(result))
    return None
