"""Show times in the site's zone: the station's site on a tablet, else the user's home site."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone


def site_zone_for(request) -> str | None:
    zone = request.session.get("site_time_zone") if hasattr(request, "session") else None
    if zone:
        return zone
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        profile = getattr(user, "profile", None)
        site = getattr(profile, "site", None) if profile else None
        if site is not None:
            return site.time_zone
    return None


class SiteTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = site_zone_for(request)
        if zone:
            try:
                timezone.activate(zoneinfo.ZoneInfo(zone))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
