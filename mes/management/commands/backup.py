from django.core.management.base import BaseCommand, CommandError

from mes.backup import BackupError, backup_create


class Command(BaseCommand):
    help = "Back up the database: a pg_dump custom-format dump and a sealed manifest, to a folder or S3."

    def add_arguments(self, parser):
        parser.add_argument("--to", help="A folder or s3://bucket/prefix (default: BACKUP_URL, else var/backups).")

    def handle(self, *args, **opts):
        try:
            made = backup_create(to=opts["to"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        dump = made.manifest["dump"]
        self.stdout.write(f"backup written to {made.where} ({dump['size']:,} bytes, sha256 {dump['sha256'][:16]}…)")
