from django.core.management.base import BaseCommand, CommandError

from mes.backup import BackupError, restore_check


class Command(BaseCommand):
    help = (
        "The restore drill: check a backup's manifest and dump, restore it into a scratch database, run the "
        "verifier there, report, and drop the scratch database. Exits non-zero when anything fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("backup", help="The backup's folder (or s3://… prefix), as `manage.py backup` printed it.")
        parser.add_argument("--keep", action="store_true", help="Keep the scratch database to look at it.")

    def handle(self, *args, **opts):
        try:
            report = restore_check(opts["backup"], keep=opts["keep"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines:
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(f"restore check FAILED for {report.backup}")
        self.stdout.write(f"restore check passed for {report.backup}")
