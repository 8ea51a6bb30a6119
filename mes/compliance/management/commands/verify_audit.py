import datetime as dt
import os

from django.core.management.base import BaseCommand, CommandError

from mes.compliance.alerts import integrity_check_run
from mes.compliance.verify import verify_records


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"--checkpoints-until {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise CommandError("--checkpoints-until needs a time zone (e.g. 2026-12-06T10:00:00Z)")
    return moment


class Command(BaseCommand):
    help = (
        "Verify the records: database guards, keys, every audit chain (keyed hashes, links, heads), the "
        "data lake's checkpoints, every signature rebuilt as of its signing, and reconciliation of records "
        "with their audit events. Exits non-zero naming what is wrong; the run is kept and alerts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--chain", action="append", help="Only the chain checks of this chain (repeatable).")
        parser.add_argument("--all", action="store_true", help="List every problem (default: the first 20).")
        parser.add_argument("--first", action="store_true", help="Stop at the first problem.")
        parser.add_argument(
            "--no-record", action="store_true", help="Do not keep the run nor alert (e.g. a restored backup)."
        )
        parser.add_argument(
            "--checkpoints-until", help="Compare with the checkpoints made by this time only (a restored backup)."
        )
        parser.add_argument(
            "--workers", type=int, default=os.cpu_count() or 1, help="Processes for the records (default: the CPUs)."
        )

    def handle(self, *args, **opts):
        until = _moment(opts["checkpoints_until"]) if opts["checkpoints_until"] else None
        if opts["chain"] or opts["no_record"] or until:
            report = verify_records(
                chains=opts["chain"], first_only=opts["first"], checkpoints_until=until, workers=opts["workers"]
            )
            findings, total, counts = [str(f) for f in report.findings], report.total, report.counts
        else:
            run = integrity_check_run(first_only=opts["first"], workers=opts["workers"])
            findings = [f"{p['where']}: {p['message']}" for p in run.problems]
            total, counts = run.problem_count, run.counts
        shown = findings if opts["all"] else findings[:20]
        for finding in shown:
            self.stderr.write(f"BROKEN {finding}")
        summary = ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))
        if total:
            more = f" ({total - len(shown)} more: --all)" if total > len(shown) else ""
            raise CommandError(f"records fail verification: {total} problem(s){more}; checked {summary}")
        self.stdout.write(f"records intact: checked {summary}")
