"""Archive closed travelers now (backfill): the backlog, or the travelers named, through the same
service as the Celery task; prints what it wrote and where. Exit status 1 if any failed."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from integrations.archive import selectors, services
from integrations.archive.errors import ArchiveError
from integrations.archive.lake import Lake
from integrations.models import Adapter
from travelers.models import Traveler


class Command(BaseCommand):
    help = "Archive closed travelers to the data lake (the backlog, or --traveler NUMBER ...)."

    def add_arguments(self, parser):
        parser.add_argument("--traveler", action="append", default=[], help="Archive this traveler (repeatable).")
        parser.add_argument("--limit", type=int, default=None, help="At most this many travelers.")
        parser.add_argument(
            "--install-adapter",
            action="store_true",
            help='Create (or enable) the outbound "archive" adapter, so traveler.closed events archive at once.',
        )

    def handle(self, *args, traveler, limit, install_adapter, **options):
        if install_adapter:
            self._install_adapter()
        if traveler:
            found = dict(Traveler.objects.filter(number__in=traveler).values_list("number", "pk"))
            missing = sorted(set(traveler) - set(found))
            if missing:
                raise CommandError(f"no traveler {', '.join(missing)}")
            ids = [found[n] for n in traveler]
        else:
            ids = list(selectors.archive_backlog().values_list("pk", flat=True)[:limit])
        lake = Lake()
        if not ids:
            self.stdout.write(f"nothing to archive (data lake: {lake.url})")
            return
        self.stdout.write(f"archiving {len(ids)} traveler(s) to {lake.url}")
        done = failed = 0
        started = time.monotonic()
        for traveler_id in ids:
            try:
                record = services.traveler_archive(traveler_id=traveler_id, lake=lake)
            except (ArchiveError, OSError) as exc:
                failed += 1
                number = Traveler.objects.filter(pk=traveler_id).values_list("number", flat=True).first()
                self.stderr.write(f"{number}: NOT archived: {exc}")
                continue
            done += 1
            self.stdout.write(
                f"{record.traveler_number}: {record.uri} ({record.size} bytes, sha256 {record.package_sha256[:12]}…, "
                f"{record.facts_rows} values, kept until {record.retain_until or 'end of product life'})"
            )
        elapsed = time.monotonic() - started
        self.stdout.write(f"{done} archived, {failed} failed in {elapsed:.1f} s")
        if failed:
            raise SystemExit(1)

    def _install_adapter(self) -> None:
        adapter, created = Adapter.objects.update_or_create(
            name="data-lake-archive",
            defaults={
                "kind": Adapter.Kind.ARCHIVE,
                "source_system": "traveler",
                "inbound": False,
                "outbound": True,
                "enabled": True,
            },
        )
        self.stdout.write(f"{'created' if created else 'enabled'} the outbound adapter {adapter.name} (kind archive)")
