"""`manage.py reconcile --site S --date D [--adapter NAME]`: the parallel run's check for one site and day —
the legacy MES (each legacy database or file-drop adapter of the site) against Traveler — stored and
printed. Exits 0 whether or not there are differences (they are the result); non-zero when the site or
the date is wrong or the legacy side could not be read."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from integrations.errors import IntegrationError
from integrations.reconcile import reconcile_site
from mes.masterdata.models import Site


class Command(BaseCommand):
    help = "Compare the legacy MES with Traveler for one site and day (orders, operations, completions, quantities)."

    def add_arguments(self, parser):
        parser.add_argument("--site", required=True, help="site code, e.g. TLS")
        parser.add_argument("--date", required=True, help="the site's calendar day, YYYY-MM-DD")
        parser.add_argument("--adapter", help="only this adapter (default: every legacy adapter of the site)")

    def handle(self, *args, **options):
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"'{options['date']}' is not a date (YYYY-MM-DD)") from None
        site = Site.objects.filter(code=options["site"]).first()
        if site is None:
            raise CommandError(f"there is no site {options['site']}")
        try:
            runs = reconcile_site(site=site, day=day, adapter_name=options["adapter"])
        except IntegrationError as exc:
            raise CommandError(exc.message) from None
        if not runs:
            raise CommandError(f"site {site.code} has no enabled legacy database or file-drop adapter to reconcile")
        failed = False
        for run in runs:
            if run.error:
                failed = True
                self.stdout.write(f"{run.adapter.name} {site.code} {day}: {run.error}")
                continue
            found = list(run.differences.all())
            counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in run.summary.items())
            self.stdout.write(
                f"{run.adapter.name} {site.code} {day}: {len(found)} difference{'s' if len(found) != 1 else ''} "
                f"({counts}; {run.seconds:.2f} s)"
            )
            for d in found:
                values = f" — legacy {d.legacy_value}, Traveler {d.traveler_value}"
                self.stdout.write(f"  {d.get_kind_display()}: {d.work_order} {d.traveler}".rstrip() + values)
        if failed:
            raise CommandError("the legacy side of at least one adapter could not be read")
