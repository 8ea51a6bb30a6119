from django.core.management.base import BaseCommand, CommandError

from mes.compliance import keys


class Command(BaseCommand):
    help = (
        "Integrity keys (docs/operations.md): `new ID` prints a fresh key line for the key file; `show` lists the "
        "ring this installation uses (ids, fingerprints and which one seals new records — never the secrets)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["new", "show"])
        parser.add_argument("key_id", nargs="?", help="With new: the id of the key (e.g. 2027a).")

    def handle(self, *args, **opts):
        if opts["action"] == "new":
            if not opts["key_id"]:
                raise CommandError("name the new key: manage.py integrity_key new 2027a")
            try:
                self.stdout.write(keys.new_key_line(opts["key_id"]), ending="")
            except keys.IntegrityKeyMissing as exc:
                raise CommandError(str(exc)) from None
            return
        try:
            ring = keys.ring()
        except keys.IntegrityKeyMissing as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"key ring from {ring.source}")
        for key in ring.keys.values():
            mark = "  (seals new records)" if key.id == ring.current_id else ""
            self.stdout.write(f"  {key.id}  fingerprint {keys.fingerprint(key)}{mark}")
