"""`manage.py export_routing P-100 A [--routing-revision N]`: a routing as a JSON document on stdout."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from mes.masterdata.documents.export import routing_document_export
from mes.masterdata.models import PartRevision, Routing
from mes.masterdata.states import RoutingStatus


class Command(BaseCommand):
    help = (
        "Print a routing of a part revision as a traveler.routing JSON document "
        "(the released routing unless --routing-revision is given)."
    )

    def add_arguments(self, parser):
        parser.add_argument("part_number", help="Part number, e.g. P-100.")
        parser.add_argument("revision", help="Part revision, e.g. A.")
        parser.add_argument("--routing-revision", type=int, help="Export this routing revision, whatever its status.")

    def handle(self, *args, part_number, revision, routing_revision=None, **opts):
        part_revision = (
            PartRevision.objects.select_related("part").filter(part__number=part_number, revision=revision).first()
        )
        if part_revision is None:
            raise CommandError(f"no part {part_number} revision {revision}")
        routings = Routing.objects.filter(part_revision=part_revision)
        if routing_revision is not None:
            routing = routings.filter(revision=routing_revision).first()
            if routing is None:
                raise CommandError(f"{part_revision} has no routing r{routing_revision}{self._existing(routings)}")
        else:
            routing = routings.filter(status=RoutingStatus.RELEASED).first()
            if routing is None:
                raise CommandError(
                    f"{part_revision} has no released routing{self._existing(routings)}; "
                    "pass --routing-revision to export another one"
                )
        document = routing_document_export(routing=routing)
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))

    @staticmethod
    def _existing(routings) -> str:
        found = [f"r{r.revision} {r.status}" for r in routings.order_by("revision")]
        return f" (it has {', '.join(found)})" if found else " (it has none)"
