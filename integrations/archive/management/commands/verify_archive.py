"""Re-read archived packages (all, or a random sample): present, same SHA-256 and size as recorded, a
valid bag whose signatures, audit chain and attachments verify. Records the outcome on each
ArchiveRecord (last_verified_at / last_verify_ok / last_verify_problem). Exit status 1 on any problem."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from integrations.archive.services import archive_verify_many


class Command(BaseCommand):
    help = "Verify archived packages (EU GMP Annex 11 §17); exit status 1 if any is missing or corrupt."

    def add_arguments(self, parser):
        parser.add_argument("--sample", type=int, default=None, help="Check this many packages, chosen at random.")
        parser.add_argument("--traveler", action="append", default=[], help="Check this traveler's package.")

    def handle(self, *args, sample, traveler, **options):
        checked = archive_verify_many(sample=sample, numbers=traveler or None)
        bad = 0
        for c in checked:
            if c.ok:
                if options["verbosity"] >= 2:
                    self.stdout.write(f"OK      {c.record.traveler_number}  {c.record.uri}")
            else:
                bad += 1
                for problem in c.problems:
                    self.stdout.write(f"PROBLEM {c.record.traveler_number}  {problem}")
        self.stdout.write(f"{len(checked)} package(s) checked, {bad} problem(s)")
        if bad:
            raise SystemExit(1)
