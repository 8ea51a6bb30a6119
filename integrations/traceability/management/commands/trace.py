"""manage.py trace SERIAL_OR_LOT [--part P] [--depth N] [--json]

Prints a unit's or lot's trace: the genealogy down (components) and up (where it went), every value
and signer of its as-built record, and the completeness statement. A number several parts carry is
listed: name the part with --part. An archived traveler no longer in the live database is traced
from its archive record (values from the data lake)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from integrations.traceability.selectors import genealogy
from integrations.traceability.selectors.query import clean_text


def _node_line(node: genealogy.Node) -> str:
    line = node.label
    if node.traveler_number:
        line += f" — {node.traveler_number} ({(node.traveler_status or '').replace('_', ' ')})"
    else:
        line += " — received, no traveler"
    if node.site_code:
        line += f" at {node.site_code}"
    if node.consumed_quantity is not None:
        line += f"; {node.consumed_quantity.normalize():f} at step {node.step_sequence} by {node.consumed_by}"
        if node.consumed_at:
            line += f" {node.consumed_at:%Y-%m-%d %H:%M} UTC"
    if not node.active:
        line += " [REMOVED]"
    if node.archive_uri:
        line += f" [archived: {node.archive_uri}]"
    return line


class Command(BaseCommand):
    help = "Print the trace of a serial or lot number: genealogy down and up, values, signers, completeness."

    def add_arguments(self, parser):
        parser.add_argument("identifier", help="The serial or lot number (as scanned).")
        parser.add_argument("--part", default="", help="The part number, when several parts carry the number.")
        parser.add_argument("--depth", type=int, default=genealogy.DEFAULT_DEPTH, help="Levels each way.")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the trace as JSON.")

    def handle(self, *args, identifier: str, part: str, depth: int, as_json: bool, **options):
        identifier, part = clean_text(identifier)[:100], clean_text(part)[:100]
        if not identifier:
            raise CommandError("give a serial or lot number")
        live = genealogy.items_by_identifier(identifier, part or None)
        trace = None
        if len(live) == 1:
            trace = genealogy.trace_item(live[0][0], depth=depth)
        elif len(live) > 1:
            for _, part_number, tracking, number in live:
                self.stdout.write(f"  {part_number} {tracking} {identifier} — traveler {number or '(none)'}")
            raise CommandError(f"{identifier} is carried by {len(live)} parts: add --part PART")
        else:
            archived = genealogy.archived_by_identifier(identifier, part or None)
            if len(archived) > 1:
                for number, part_number in archived:
                    self.stdout.write(f"  {part_number} {identifier} — archived traveler {number}")
                raise CommandError(f"{identifier} has {len(archived)} archived travelers: add --part PART")
            if archived:
                trace = genealogy.trace_archived(archived[0][0])
        if trace is None:
            raise CommandError(f"no unit or lot {identifier} is known, live or archived")
        if as_json:
            self.stdout.write(_json_dump(trace.as_dict()))
            return
        self._print(trace)

    def _print(self, trace: genealogy.Trace) -> None:
        out = self.stdout.write
        root = trace.root
        out(_node_line(root))
        if root.archive_uri:
            out(f"  archived package: {root.archive_uri}")
        for message in trace.messages:
            out(f"  note: {message}")
        out("")
        out("Built from (components, recursively):")
        self._tree(trace.down, "  ")
        if not trace.down:
            out("  (none)" if not trace.archived_only else "  (in the archived package)")
        out("Went into (assemblies, recursively):")
        self._tree(trace.up, "  ")
        if not trace.up:
            out("  (nothing: a finished unit, or still in stock)")
        out("")
        out("Values:")
        for v in trace.values:
            limits = f"[{'' if v.lower is None else v.lower} … {'' if v.upper is None else v.upper}]"
            op = v.operation + (f" ({v.operation_alias})" if v.operation_alias else "")
            when = f"{v.recorded_at:%Y-%m-%d %H:%M:%S} UTC" if hasattr(v.recorded_at, "strftime") else ""
            corrected = " (corrected)" if v.superseded else ""
            out(
                f"  {v.traveler} {v.step or '':>4} {op:<20} {v.code} = {v.value} {v.unit}{corrected} "
                f"{limits} {v.judgment} — {v.recorded_by} {when}"
            )
        if not trace.values:
            out("  (none)")
        out("Signatures:")
        for s in trace.signatures:
            badge = f", badge {s.badge}" if s.badge else ""
            out(f"  {s.traveler} {s.step or '':>4} {s.what}: {s.manifestation} ({s.username}{badge})")
        if not trace.signatures:
            out("  (none)" if not trace.archived_only else "  (in the archived package)")
        out("")
        out(trace.completeness.statement)

    def _tree(self, nodes, indent: str) -> None:
        for node in nodes:
            self.stdout.write(f"{indent}└─ {_node_line(node)}")
            self._tree(node.children, indent + "   ")


def _json_dump(data) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
