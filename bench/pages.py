"""How fast the shop-floor tablet pages render, and how much a first load weighs.

    .venv/bin/python manage.py seed_demo      # once: the demo factory in the dev database
    .venv/bin/python bench/pages.py           # [--runs 50]

Renders each station page with Django's test client against the dev database (server side: routing,
queries, templates; no network), signed in as the demo operator at the work center of a demo traveler
in work, and reports the median and 95th percentile render time and the queries per page. The first-load
weight is the page's HTML plus the CSS and JavaScript it loads (app.css, app.js, htmx), raw and gzipped.
Targets: < 100 ms per page at demo size, < 300 KB first load. Nothing is written but a session row.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
os.environ.setdefault("TRAVELER_HTTPS", "false")  # the test client speaks plain HTTP
os.environ.setdefault("STATIC_MANIFEST", "false")  # no collectstatic needed

TARGET_MS = 100
TARGET_KB = 300


def setup():
    from mes.bootstrap import setup as django_setup

    django_setup()


class QueryCounter:
    """Counts the SQL statements a request runs (connection.execute_wrapper)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def static_weight(html: str) -> list[tuple[str, int, int]]:
    """(path, raw bytes, gzipped bytes) of each stylesheet and script the page loads from /static/."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    found = []
    for url in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        name = url[len(settings.STATIC_URL) :]
        path = finders.find(name)
        if path:
            data = Path(path).read_bytes()
            found.append((url, len(data), len(gzip.compress(data))))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="renders per page (default 50)")
    parser.add_argument("--user", default="maria", help="the demo operator (default maria)")
    args = parser.parse_args()
    setup()

    from django.contrib.auth import get_user_model
    from django.core.signing import get_cookie_signer
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from travelers.models import Traveler, TravelerStep
    from travelers.states import StepStatus, TravelerStatus
    from travelers.views.station_common import STATION_COOKIE, STATION_COOKIE_SALT

    user = get_user_model().objects.filter(username=args.user).first()
    step = (
        TravelerStep.objects.filter(
            status=StepStatus.IN_PROGRESS, work_center__isnull=False, traveler__status=TravelerStatus.ACTIVE
        )
        .select_related("traveler", "work_center__site")
        .order_by("traveler__on_hold", "traveler__number")
        .first()
    )
    if user is None or step is None:
        print("No demo data: run `.venv/bin/python manage.py seed_demo` first.", file=sys.stderr)
        return 2
    traveler = step.traveler
    largest = Traveler.objects.annotate(n=Count("steps")).order_by("-n", "number").first()
    wc = step.work_center
    characteristic = step.characteristics.filter(kind="numeric").first()

    def tablet(signed_in: bool = True) -> Client:
        client = Client(HTTP_HOST="localhost")
        signer = get_cookie_signer(salt=STATION_COOKIE + STATION_COOKIE_SALT)
        client.cookies[STATION_COOKIE] = signer.sign(f"{wc.site.code}/{wc.code}")
        if signed_in:
            client.force_login(user)
        return client

    hx = {"HTTP_HX_REQUEST": "true"}
    base = f"/station/travelers/{traveler.number}/steps/{step.sequence}/"
    pages = [
        ("badge sign-in", False, "get", "/station/login/", {}, {}),
        ("work-center pick", True, "get", "/station/work-center/", {}, {}),
        ("station queue", True, "get", "/", {}, {}),
        ("queue poll (htmx)", True, "get", "/station/queue/", {}, hx),
        ("scan → traveler", True, "get", "/station/scan/", {"code": traveler.item.identifier}, {}),
        (f"traveler {traveler.item.identifier}", True, "get", base, {}, {}),
        ("traveler step (htmx)", True, "get", base, {}, hx),
        ("sign page", True, "get", base + "sign/", {}, {}),
    ]
    if characteristic is not None:
        preview = base + f"values/{characteristic.pk}/preview/"
        pages.append(("judge preview (htmx)", True, "post", preview, {"value": "1", "unit": ""}, hx))
    if largest is not None:
        pages.append(
            (
                f"traveler {largest.item.identifier} ({largest.n} steps)",
                True,
                "get",
                f"/station/travelers/{largest.number}/",
                {},
                {},
            )
        )

    print(f"Tablet pages, {args.runs} renders each, as {user.username} at {wc}; traveler {traveler.number}")
    print(f"{'page':44} {'median ms':>9} {'p95 ms':>7} {'queries':>7} {'HTML KB':>8} {'first load KB':>14}")
    worst = 0.0
    heaviest = 0.0
    for name, signed_in, method, url, data, headers in pages:
        client = tablet(signed_in)
        request = getattr(client, method)
        for _ in range(3):  # warm: templates compiled, connections open, permissions cached per request anyway
            response = request(url, data, **headers)
        status = response.status_code
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            request(url, data, **headers)
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            response = request(url, data, **headers)
            times.append((time.perf_counter() - started) * 1000)
        html = response.content.decode()
        page_kb = len(response.content) / 1024
        first_load = page_kb
        if "<html" in html:
            first_load += sum(raw for _, raw, _ in static_weight(html)) / 1024
        median, p95 = statistics.median(times), percentile(times, 95)
        worst, heaviest = max(worst, p95), max(heaviest, first_load)
        flag = "" if status in (200, 302) else f"  (HTTP {status})"
        load = f"{first_load:14.1f}" if "<html" in html else f"{'—':>14}"
        print(f"{name[:44]:44} {median:9.1f} {p95:7.1f} {queries.count:7d} {page_kb:8.1f} {load}{flag}")
    client = tablet()
    html = client.get(base).content.decode()
    print("\nFirst load of the traveler page, assets:")
    total_raw, total_gz = len(html), len(gzip.compress(html.encode()))
    print(f"  {'HTML':52} {len(html) / 1024:7.1f} KB  (gzip {total_gz / 1024:5.1f} KB)")
    for url, raw, gz in static_weight(html):
        total_raw, total_gz = total_raw + raw, total_gz + gz
        print(f"  {url:52} {raw / 1024:7.1f} KB  (gzip {gz / 1024:5.1f} KB)")
    print(f"  {'total':52} {total_raw / 1024:7.1f} KB  (gzip {total_gz / 1024:5.1f} KB)")
    ok = worst < TARGET_MS and heaviest < TARGET_KB
    print(
        f"\nslowest p95 {worst:.1f} ms (target < {TARGET_MS} ms); heaviest first load {heaviest:.1f} KB "
        f"(target < {TARGET_KB} KB): {'within targets' if ok else 'OVER TARGET'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
