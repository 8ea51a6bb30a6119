"""How fast the main pages render on the server, and how much a first load weighs.

    .venv/bin/python bench/pages.py            # [--runs 20] [--keep | --reuse] [--dev]

1. creates a scratch database `traveler_pages_bench` on the server Traveler uses (the private one, or the
   server of DATABASE_URL), migrates it and seeds the demo factory into it (`manage.py seed_demo`);
   --dev measures the dev database as it is instead (after `manage.py seed_demo`);
2. renders each main page with Django's test client (server side: middleware, routing, queries,
   templates; no network), signed in as the demo person whose role uses it: the tablet pages as an
   operator at a work center, quality as an inspector, supervision, traceability and sync status as the
   supervisor, the audit trail and an admin list as the administrator (quality managers and administrators
   review the trail);
3. prints the median and 95th percentile render time and the queries per page, and the first load of each
   page: its HTML plus every stylesheet, script and image it references from /static/ (CSS url()s too),
   raw and gzipped;
4. drops the scratch database (unless --keep; --reuse measures a kept one again without seeding).
Targets: < 100 ms server time per page, < 300 KB first load (raw). Exit status 1 when over a target.
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

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mes.settings")
os.environ.setdefault("TRAVELER_HTTPS", "false")  # the test client speaks plain HTTP
os.environ.setdefault("STATIC_MANIFEST", "false")  # no collectstatic needed

import scratch  # noqa: E402 - bench/ beside this file

DB_NAME = "traveler_pages_bench"
TARGET_MS = 100
TARGET_KB = 300
_REFERENCED = re.compile(r'(?:href|src)="(/static/[^"?#]+)"')
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")


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


def static_file(url: str) -> bytes | None:
    from django.conf import settings
    from django.contrib.staticfiles import finders

    path = finders.find(url[len(settings.STATIC_URL) :])
    return Path(path).read_bytes() if path else None


def assets(html: str) -> list[tuple[str, int, int]]:
    """(url, raw bytes, gzipped bytes) of every stylesheet, script, icon and image the page references from
    /static/, and of what its stylesheets reference in turn (url(...)), each once."""
    from django.conf import settings

    seen: dict[str, tuple[int, int]] = {}
    todo = _REFERENCED.findall(html)
    while todo:
        url = todo.pop(0)
        if url in seen or not url.startswith(settings.STATIC_URL):
            continue
        data = static_file(url)
        if data is None:
            continue
        seen[url] = (len(data), len(gzip.compress(data)))
        if url.endswith(".css"):
            base = url.rsplit("/", 1)[0] + "/"
            for ref in _CSS_URL.findall(data.decode("utf-8", "replace")):
                if not ref.startswith(("data:", "http:", "https:", "#")):
                    todo.append(ref if ref.startswith("/") else base + ref)
    return [(url, raw, gz) for url, (raw, gz) in seen.items()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="renders per page (default 20)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept scratch database again")
    parser.add_argument("--dev", action="store_true", help="measure the dev database (after seed_demo)")
    args = parser.parse_args()
    if args.dev:
        return measure(args.runs)
    _, url = scratch.server_urls(DB_NAME)
    env = {**os.environ, "DATABASE_URL": url, "DB_POOL_MAX": "2"}
    env.update(scratch.key_environment())
    if not args.reuse:
        scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        scratch.admin(DB_NAME, f'CREATE DATABASE "{DB_NAME}"')
        started = time.perf_counter()
        scratch.manage(env, "migrate", "--verbosity", "0")
        scratch.manage(env, "seed_demo", capture=True)
        print(f"scratch database {DB_NAME} seeded in {time.perf_counter() - started:.0f} s (migrate + seed_demo)\n")
    os.environ.update(env)
    try:
        return measure(args.runs)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            scratch.admin(DB_NAME, f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def measure(runs: int) -> int:
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.signing import get_cookie_signer
    from django.db import connection
    from django.test import Client

    from travelers.models import Measurement, Traveler, TravelerStep
    from travelers.states import StepStatus, TravelerStatus
    from travelers.views.station_common import STATION_COOKIE, STATION_COOKIE_SALT

    wanted = ["maria", "dwight", "sandra", "alex"]  # the demo's operator, inspector, supervisor, administrator
    people = {u.username: u for u in get_user_model().objects.filter(username__in=wanted)}
    step = (
        TravelerStep.objects.filter(
            status=StepStatus.IN_PROGRESS,
            work_center__isnull=False,
            traveler__status=TravelerStatus.ACTIVE,
            characteristics__kind="numeric",  # so the judge preview and a control chart are measured too
        )
        .distinct()
        .select_related("traveler__item", "work_center__site")
        .order_by("traveler__on_hold", "traveler__number")
        .first()
    )
    if len(people) < 4 or step is None:
        print("No demo data: run `.venv/bin/python manage.py seed_demo` first (or drop --dev).", file=sys.stderr)
        return 2
    traveler, wc = step.traveler, step.work_center
    review = Traveler.objects.filter(status=TravelerStatus.AWAITING_SIGNOFF).first() or traveler
    characteristic = step.characteristics.filter(kind="numeric").first()

    def client_for(username: str | None, *, at_station: bool = False) -> Client:
        client = Client(HTTP_HOST="localhost")
        if at_station:
            signer = get_cookie_signer(salt=STATION_COOKIE + STATION_COOKIE_SALT)
            client.cookies[STATION_COOKIE] = signer.sign(f"{wc.site.code}/{wc.code}")
        if username:
            client.force_login(people[username])
        return client

    hx = {"HTTP_HX_REQUEST": "true"}
    base = f"/station/travelers/{traveler.number}/steps/{step.sequence}/"
    chart = ""
    charted = (  # a characteristic with values recorded: its control chart has points to draw
        Measurement.objects.filter(value_numeric__isnull=False)
        .select_related("characteristic", "step__traveler__item__part_revision__part")
        .order_by("-recorded_at")
        .first()
    )
    if charted is not None:
        part = charted.step.traveler.item.part_revision.part.number
        chart = f"/supervisor/spc/{part}/{charted.characteristic.code}/"
    recall_code = getattr(characteristic, "code", "")
    # (name, who, at a station, method, url, data, headers)
    pages = [
        ("badge sign-in", None, True, "get", "/station/login/", {}, {}),
        ("station queue", "maria", True, "get", "/", {}, {}),
        ("queue poll (htmx)", "maria", True, "get", "/station/queue/", {}, hx),
        ("scan → traveler", "maria", True, "get", "/station/scan/", {"code": traveler.item.identifier}, {}),
        (f"traveler {traveler.item.identifier}", "maria", True, "get", base, {}, {}),
        ("sign page", "maria", True, "get", base + "sign/", {}, {}),
        ("quality queue", "dwight", False, "get", "/quality/", {}, {}),
        (f"quality review {review.number}", "dwight", False, "get", f"/quality/travelers/{review.number}/", {}, {}),
        ("audit trail", "alex", False, "get", "/audit/", {}, {}),  # quality managers and administrators
        ("supervisor overview", "sandra", False, "get", "/supervisor/", {}, {}),
        ("release travelers", "sandra", False, "get", "/supervisor/release/", {}, {}),
        ("control charts", "sandra", False, "get", "/supervisor/spc/", {}, {}),
        ("trace search", "sandra", False, "get", "/trace/", {"q": traveler.item.identifier}, {}),
        ("trace / genealogy", "sandra", False, "get", f"/trace/items/{traveler.item_id}/", {}, {}),
        ("recall", "sandra", False, "get", "/trace/recall/", {"characteristic": recall_code}, {}),
        ("sync status", "sandra", False, "get", "/integrations/status", {}, {}),
        ("admin: work orders", "alex", False, "get", "/admin/travelers/workorder/", {}, {}),
    ]
    if chart:
        pages.insert(12, ("control chart", "sandra", False, "get", chart, {}, {}))
    if characteristic is not None:
        preview = base + f"values/{characteristic.pk}/preview/"
        pages.insert(6, ("judge preview (htmx)", "maria", True, "post", preview, {"value": "1", "unit": ""}, hx))

    print(f"Main pages, {runs} renders each; tablet at {wc}, traveler {traveler.number}")
    print(
        f"{'page':34} {'median ms':>9} {'p95 ms':>7} {'queries':>7} {'HTML KB':>8} {'first load KB':>13} {'gzip KB':>8}"
    )
    worst = heaviest = 0.0
    failed = []
    for name, who, at_station, method, url, data, headers in pages:
        client = client_for(who, at_station=at_station)
        request = getattr(client, method)
        for _ in range(2):  # warm: templates compiled, connections open
            response = request(url, data, **headers)
        if response.status_code == 302 and not name.startswith("scan"):  # a page that fills in its defaults
            url, data = response["Location"], {}
            response = request(url, data, **headers)
        status = response.status_code
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            request(url, data, **headers)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = request(url, data, **headers)
            times.append((time.perf_counter() - started) * 1000)
        body = response.content
        html = body.decode("utf-8", "replace")
        median, p95 = statistics.median(times), percentile(times, 95)
        worst = max(worst, p95)
        raw, gz = len(body), len(gzip.compress(body))
        full_page = "<html" in html
        if full_page:
            for _, a_raw, a_gz in assets(html):
                raw, gz = raw + a_raw, gz + a_gz
            heaviest = max(heaviest, raw / 1024)
        load = f"{raw / 1024:13.1f} {gz / 1024:8.1f}" if full_page else f"{'—':>13} {'—':>8}"
        flag = ""
        if status == 302 and not name.startswith("scan"):  # only the scan answers by sending on
            flag = f"  (redirected to {response.get('Location')}: not the page)"
            failed.append(name)
        elif status not in (200, 302):
            flag = f"  (HTTP {status})"
            failed.append(name)
        print(f"{name[:34]:34} {median:9.1f} {p95:7.1f} {queries.count:7d} {len(body) / 1024:8.1f} {load}{flag}")

    html = client_for("maria", at_station=True).get(base).content.decode()
    print("\nFirst load of the traveler page:")
    total_raw, total_gz = len(html.encode()), len(gzip.compress(html.encode()))
    print(f"  {'HTML':52} {total_raw / 1024:7.1f} KB  (gzip {total_gz / 1024:5.1f} KB)")
    for url, raw, gz in assets(html):
        total_raw, total_gz = total_raw + raw, total_gz + gz
        print(f"  {url:52} {raw / 1024:7.1f} KB  (gzip {gz / 1024:5.1f} KB)")
    print(f"  {'total':52} {total_raw / 1024:7.1f} KB  (gzip {total_gz / 1024:5.1f} KB)")
    ok = worst < TARGET_MS and heaviest < TARGET_KB and not failed
    print(
        f"\nslowest p95 {worst:.1f} ms (target < {TARGET_MS} ms); heaviest first load {heaviest:.1f} KB "
        f"(target < {TARGET_KB} KB){'; pages that failed: ' + ', '.join(failed) if failed else ''}: "
        f"{'within targets' if ok else 'OVER TARGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
