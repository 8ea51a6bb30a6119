"""`manage.py import_orders PATH... [--adapter NAME]`: import B2MML or CSV files once (a backfill).

The files go through the same inbox as the file drop (integrations.adapters.file_drop.file_receive), so
a file imported before duplicates nothing and a refused file is a dead letter with its reason. The
files stay where they are. Prints what each file created or why it was refused; exits non-zero when
any file was refused."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min

from integrations.adapters.file_drop import SUFFIXES, FileOutcome, file_receive
from integrations.models import Adapter, WorkOrderProvenance


def adapter_named(name: str | None) -> Adapter:
    """The adapter whose source system, site and CSV layout apply; by default the only file drop."""
    adapters = Adapter.objects.select_related("site")
    if name:
        adapter = adapters.filter(name=name).first()
        if adapter is None:
            names = ", ".join(adapters.values_list("name", flat=True)) or "none configured"
            raise CommandError(f"there is no adapter {name!r} (adapters: {names})")
        return adapter
    drops = list(adapters.filter(kind=Adapter.Kind.FILE_DROP, enabled=True))
    if len(drops) == 1:
        return drops[0]
    found = ", ".join(a.name for a in drops) or "none"
    raise CommandError(f"say which adapter the files come through with --adapter NAME (file-drop adapters: {found})")


def expand(paths: list[str]) -> list[Path]:
    files = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES))
        else:
            files.append(path)
    return files


def created_by(outcome: FileOutcome) -> tuple[list[str], list[str]]:
    """(created by this file, present before) among the work orders the file names."""
    first = dict(
        WorkOrderProvenance.objects.filter(work_order__number__in=outcome.work_orders)
        .values_list("work_order__number")
        .annotate(first=Min("message_id"))
    )
    created = [n for n in outcome.work_orders if first.get(n) == outcome.message_id]
    return created, [n for n in outcome.work_orders if n not in created]


class Command(BaseCommand):
    help = "Import work orders from B2MML (.xml) or CSV (.csv) files once, through the inbox."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files, or folders whose .xml and .csv files to import")
        parser.add_argument(
            "--adapter", help="adapter the files come through: its source system, site and CSV layout apply"
        )

    def handle(self, *args, **options):
        adapter = adapter_named(options["adapter"])
        files = expand(options["paths"])
        if not files:
            raise CommandError("no .xml or .csv file found in the paths given")
        made = duplicates = 0
        refused = []
        for path in files:
            if not path.is_file():
                outcome = FileOutcome(path, "unreadable", reason=f"{path} does not exist or is not a file")
            else:
                outcome = file_receive(adapter=adapter, path=path)
            ref = f" (inbox message #{outcome.message_id})" if outcome.message_id else ""
            if outcome.status == "imported":
                created, present = created_by(outcome)
                made += len(created)
                parts = [f"created {', '.join(created)}"] if created else []
                parts += [f"already present {', '.join(present)}"] if present else []
                self.stdout.write(f"{path.name}: imported: {'; '.join(parts)}{ref}")
            elif outcome.status == "duplicate":
                duplicates += 1
                orders = ", ".join(outcome.work_orders)
                self.stdout.write(f"{path.name}: already imported ({orders}){ref}: nothing created")
            else:
                refused.append(path.name)
                dead = f" (dead letter #{outcome.message_id})" if outcome.message_id else ""
                self.stdout.write(f"{path.name}: REFUSED: {outcome.reason}{dead}")
        self.stdout.write(
            f"{made} work order(s) created from {len(files)} file(s) through adapter {adapter.name}; "
            f"{duplicates} already imported; {len(refused)} refused."
        )
        if refused:
            raise CommandError(f"{len(refused)} file(s) refused: {', '.join(refused)}")
