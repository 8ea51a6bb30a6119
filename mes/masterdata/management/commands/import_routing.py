"""`manage.py import_routing FILE...`: create the routings that traveler.routing JSON documents describe.

Each document is imported whole or not at all, in its own transaction, in the order given. A refused
document is reported with every problem and its field; the command then exits non-zero."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from mes.masterdata.documents.importer import routing_document_apply
from mes.masterdata.errors import DocumentInvalid


class Command(BaseCommand):
    help = "Import routings from traveler.routing JSON documents (each one whole or not at all)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="JSON documents to import.")
        parser.add_argument(
            "--user",
            help=(
                "Engineer recorded as creator of the imported routings, who asks for the release of those "
                "released in their source."
            ),
        )

    def handle(self, *args, files, user=None, **opts):
        actor = None
        if user:
            actor = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: user}).first()
            if actor is None:
                raise CommandError(f"no user '{user}'")
        refused = 0
        for name in files:
            try:
                document = self._read(name)
                result = routing_document_apply(document=document, actor=actor)
            except DocumentInvalid as exc:
                refused += 1
                self.stderr.write(f"{name}: refused, nothing saved ({len(exc.errors)} problem(s)):")
                for field, message in exc.errors:
                    self.stderr.write(f"  {field}: {message}")
                continue
            routing = result.routing
            verb = "created" if result.created else "unchanged (already imported)"
            self.stdout.write(f"{name}: {verb} {routing.part_revision} routing r{routing.revision} ({routing.status})")
            if result.change is not None:
                self.stdout.write(
                    f"{name}: its release waits for two signatures (engineering, quality) at "
                    f"/changes/{result.change.pk}/"
                )
            elif result.created and document.get("routing", {}).get("status") == "released":
                self.stdout.write(
                    f"{name}: released in its source, a draft here: ask for its release at "
                    f"/changes/routing/{routing.pk}/new/ (or import with --user to ask at once)"
                )
            for alias in result.aliases_created:
                where = alias.site.code if alias.site_id else "*"
                self.stdout.write(
                    f"{name}: created alias {alias.source_system}@{where}:{alias.code} -> {alias.operation.code}"
                )
        if refused:
            raise CommandError(f"{refused} of {len(files)} document(s) refused")

    @staticmethod
    def _read(name: str):
        try:
            text = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DocumentInvalid([("document", f"cannot read the file: {exc}")]) from exc
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentInvalid(
                [("document", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
            ) from exc
