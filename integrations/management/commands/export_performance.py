"""`manage.py export_performance WORK_ORDER [--b2mml-version V0401]`: print the B2MML performance document of
the work order's closed travelers, validated against the B2MML XSD shipped in
integrations/b2mml/xsd/. Exits non-zero, saying why, when the work order has
no closed traveler or the document does not validate."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations import b2mml
from integrations.completions import closed_travelers
from travelers.models import WorkOrder


class Command(BaseCommand):
    help = "Print the B2MML performance document of a work order's closed travelers (V0700, or --b2mml-version)."

    def add_arguments(self, parser):
        parser.add_argument("work_order", help="work order number")
        parser.add_argument("--output", "-o", help="write the document to this file instead of printing it")
        parser.add_argument(
            "--source-system",
            help="whose operation codes to give beside the canonical ones (default: where the order came from)",
        )
        parser.add_argument("--no-validate", action="store_true", help="skip the XSD validation")
        parser.add_argument(
            "--b2mml-version",
            dest="b2mml_version",
            default="V0700",
            choices=b2mml.VERSIONS,
            help="V0700 SyncOperationsPerformance (default) or V0401/V0500/V0600 SyncProductionPerformance",
        )

    def handle(self, *args, **options):
        number = options["work_order"]
        work_order = WorkOrder.objects.select_related("site").filter(number=number).first()
        if work_order is None:
            raise CommandError(f"there is no work order {number}")
        records = closed_travelers(
            work_order=work_order, source_system=options["source_system"] or work_order.source_system or None
        )
        if not records:
            raise CommandError(f"work order {number} has no closed traveler yet: there is no performance to report")
        try:
            document = b2mml.performance_bytes(
                records, work_order=work_order, version=options["b2mml_version"], validate=not options["no_validate"]
            )
        except b2mml.SchemaMissing as exc:
            raise CommandError(f"{exc} (or pass --no-validate)") from None
        except b2mml.DocumentInvalid as exc:
            listed = "\n  ".join(exc.errors[:20])
            raise CommandError(f"work order {number}: {exc.message}\n  {listed}") from None
        if options["output"]:
            Path(options["output"]).write_bytes(document)
            self.stderr.write(f"wrote {options['output']}: {len(records)} closed traveler(s) of {number}")
        else:
            self.stdout.write(document.decode("utf-8"), ending="")
