"""The areas bar at the top of every page: each person sees the areas their role lets them use (an operator
the station and traceability; an inspector quality too; a supervisor the shop's status; an engineer the
routing changes), the one they are in marked. A context processor, evaluated only when a page shows it."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Area:
    label: str
    url_name: str
    perms: tuple[str, ...]  # any one of them opens the area; () with staff_only: staff only
    prefixes: tuple[str, ...]  # the paths that belong to it (for aria-current)
    staff_too: bool = True  # staff (administrators) see it whatever their permissions


AREAS = (
    Area(_("Station"), "travelers:station_home", ("travelers.perform_step", "travelers.inspect_step"), ("/station/",)),
    Area(
        _("Quality"),
        "travelers:quality_queue",
        ("travelers.signoff_traveler", "travelers.disposition_ncr"),
        ("/quality/",),
    ),
    Area(
        _("Supervision"),
        "travelers:supervisor_overview",
        ("travelers.release_traveler", "travelers.skip_step", "travelers.replan_traveler"),
        ("/supervisor/",),
    ),
    Area(
        _("Routing changes"),
        "masterdata:change_list",
        ("masterdata.change_routing", "masterdata.approve_routing_quality", "masterdata.approve_routing_engineering"),
        ("/changes/",),
    ),
    Area(_("Traceability"), "traceability:search", ("travelers.view_traveler",), ("/trace/",)),
    Area(_("Sync status"), "integrations:status", ("integrations.view_sync_status",), ("/integrations/",)),
    Area(_("Audit trail"), "travelers:audit_trail", ("compliance.review_audit_trail",), ("/audit/",)),
    Area(_("Administration"), "admin:index", (), ("/admin/",)),
)


def areas_for(user, path: str) -> list[dict]:
    """The areas `user` may use, in bar order, each with its url and whether `path` is in it."""
    if not (user.is_authenticated and user.is_active):
        return []
    shown = []
    for area in AREAS:
        allowed = (user.is_staff and area.staff_too) or any(user.has_perm(p) for p in area.perms)
        if not allowed:
            continue
        url = reverse(area.url_name)
        current = path.startswith(area.prefixes) or (area.url_name == "travelers:station_home" and path == "/")
        shown.append({"label": area.label, "url": url, "current": current})
    return shown


def nav_areas(request) -> dict:
    return {"nav_areas": SimpleLazyObject(lambda: areas_for(request.user, request.path))}
