"""The live board pages: /board/ (every site) and /board/<site>/ (one site, for the wall screen). The
page polls itself every second (htmx); each request first applies the new events to the store, then
renders from the store alone. Any signed-in user may read it."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from mes.htmx import htmx_partial
from mes.masterdata.models import Site

from .projection import board_sync
from .store import board_store

STATES = ("running", "inspection", "held", "waiting")
# How often a screen asks again: the wait for the next poll is most of the latency from an event to the
# screen, so under a second with the rendering (bench/board_latency.py measures it).
POLL_MS = 800


def _today(site: Site) -> dt.date:
    try:
        return timezone.now().astimezone(zoneinfo.ZoneInfo(site.time_zone)).date()
    except zoneinfo.ZoneInfoNotFoundError:
        return timezone.now().date()


def site_board(store, site: Site) -> dict:
    """Per work center the travelers in each state and how many are overdue; the legacy MES's next."""
    today = _today(site).isoformat()
    centers: dict[str, dict] = defaultdict(lambda: {state: [] for state in STATES} | {"overdue": 0})
    for row in sorted(store.site_rows(site.code), key=lambda r: (r["due"] or "9999", r["number"])):
        row["overdue"] = bool(row["due"] and row["due"] < today)
        center = centers[row["work_center"] or "—"]
        center[row["state"]].append(row)
        center["overdue"] += row["overdue"]
    totals = {state: sum(len(c[state]) for c in centers.values()) for state in STATES}
    totals["overdue"] = sum(c["overdue"] for c in centers.values())
    return {
        "site": site,
        "centers": sorted(centers.items()),
        "totals": totals,
        "next": store.get_next(site.code),
    }


@login_required
@require_GET
@vary_on_headers("HX-Request")
def board(request, site: str | None = None):
    store = board_store()
    board_sync(store)
    sites = list(Site.objects.order_by("code"))
    if site is not None:
        chosen = [s for s in sites if s.code == site]
        if not chosen:
            raise Http404(_("There is no site %(code)s.") % {"code": site})
        shown = chosen
    else:
        shown = sites
    context = {
        "boards": [site_board(store, s) for s in shown],
        "sites": sites,
        "site": site,
        "store_kind": store.kind,
        "poll_ms": POLL_MS,
        "updated": timezone.now(),
    }
    template = "board/_board.html" if htmx_partial(request) else "board/board.html"
    return render(request, template, context)
