"""manage.py warehouse_refresh: bring the warehouse (WAREHOUSE_DIR) up to date from Traveler and from the
legacy histories (docs/analytics.md). Incremental and idempotent: run it as often as you like."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.warehouse.refresh import warehouse_refresh


class Command(BaseCommand):
    help = "Refresh the warehouse from Traveler and the legacy systems' history."

    def add_arguments(self, parser):
        parser.add_argument("--no-legacy", action="store_true", help="Traveler only, not the legacy histories")
        parser.add_argument("--dir", help="warehouse folder (default WAREHOUSE_DIR, else var/warehouse)")

    def handle(self, *args, **options):
        result = warehouse_refresh(base=options["dir"], legacy=not options["no_legacy"])
        self.stdout.write(f"warehouse refreshed: {result}")
