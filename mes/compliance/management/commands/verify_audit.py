from django.core.management.base import BaseCommand, CommandError

from mes.compliance.models import AuditEvent
from mes.compliance.verify import audit_problems


class Command(BaseCommand):
    help = "Walk every audit chain; exit non-zero naming the first bad event when anything was altered."

    def add_arguments(self, parser):
        parser.add_argument("--chain", action="append", help="Only this chain (repeatable), e.g. traveler:42")
        parser.add_argument("--all", action="store_true", help="List every problem, not only the first.")

    def handle(self, *args, **opts):
        problems = []
        for problem in audit_problems(opts["chain"]):
            problems.append(problem)
            if not opts["all"]:
                break
        if problems:
            for problem in problems:
                self.stderr.write(f"BROKEN {problem}")
            raise CommandError(f"audit trail is broken: first bad: {problems[0]}")
        count = (
            AuditEvent.objects.filter(chain__in=opts["chain"]).count() if opts["chain"] else AuditEvent.objects.count()
        )
        self.stdout.write(f"audit trail intact: {count} events verified")
