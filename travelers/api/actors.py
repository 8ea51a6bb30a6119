"""Who acts through the API (the user its authentication found), the work center they say they act
from, and whether they may read travelers."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from travelers.errors import UnknownWorkCenter
from travelers.selectors.lookups import traveler_by_number
from travelers.selectors.station import station_work_center


def actor_of(request):
    """Who acts: the user of the bearer token or of the session (set by the API's authentication)."""
    return request.auth


def station_of(number: str, named: str | None):
    """The work center a client says it acts from (None when it says none); 422 when there is none such."""
    named = (named or "").strip()
    if not named:
        return None
    site, _, code = named.rpartition("/")
    found = station_work_center(site or traveler_by_number(number).site.code, code)
    if found is None:
        raise UnknownWorkCenter(f"there is no active work center {named}", field="work_center")
    return found


def require_view(request) -> None:
    """Refuse (403) a user who may not view travelers."""
    user = actor_of(request)
    if not user.has_perm("travelers.view_traveler"):
        raise PermissionDenied(
            gettext("%(username)s is not allowed to view travelers") % {"username": user.get_username()}
        )
