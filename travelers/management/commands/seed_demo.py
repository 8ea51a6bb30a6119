"""`manage.py seed_demo`: load the demo factory (travelers/demo/: its data modules, loaded by
travelers.demo.seed.demo_seed).

`make run` runs it on every start, so it is idempotent: rows are found by natural key; a second run
creates nothing and changes nothing. Master data converges to the demo's data modules; what a user may
change in the demo is set only when the row is created (passwords, due dates, qualification dates). A
part revision that already has a released routing keeps it; routings are built only through the
master-data services, and demo travelers only through the traveler services.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from travelers.demo.people import DEMO_PASSWORD, DEMO_USERS
from travelers.demo.seed import demo_seed


class Command(BaseCommand):
    help = (
        "Load the demo factory (three sites, parts with released routings, users in every role, travelers in "
        "every state). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-travelers", action="store_true", help="Master data, users and work orders only.")
        parser.add_argument("--logins", action="store_true", help="Print the demo logins and load nothing.")

    def handle(self, *args, **options):
        if options["logins"]:  # `serve` prints them in its banner
            self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
            for u in DEMO_USERS:
                self.stdout.write(f"  {u['username']:<12} {u['role']:<14} badge {u['employee_number']}")
            return
        report = demo_seed(with_travelers=not options["no_travelers"])
        if options["verbosity"] >= 1:
            self.stdout.write(report.render())
