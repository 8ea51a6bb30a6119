"""Access to a shared tablet's session (21 CFR 11.10(d)): it locks after STATION_IDLE_SECONDS without use.

Pages and the JSON API (when it is reached with the browser session) both close a session that went
idle: the operator signs in again with their badge, and their next signing asks for the user id again."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from . import credentials

SEEN_KEY = "station_seen_at"  # epoch seconds of the last request the operator made


def idle_seconds() -> int:
    return int(getattr(settings, "STATION_IDLE_SECONDS", 300))


def is_idle(request: HttpRequest) -> bool:
    seen = request.session.get(SEEN_KEY)
    return seen is not None and time.time() - float(seen) > idle_seconds()


def mark_seen(request: HttpRequest) -> None:
    """The operator made a request now. Written only when it changes the stored second (a request in the
    same second as the last leaves the session unmodified)."""
    now = int(time.time())
    if request.session.get(SEEN_KEY) != now:
        request.session[SEEN_KEY] = now


def sign_out(request: HttpRequest) -> None:
    """End the session: its signing session ends with it."""
    credentials.session_end(request.session.session_key)
    logout(request)
