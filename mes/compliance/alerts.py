"""Running the verifier on a schedule and raising the alarm when it finds anything.

`integrity_check_run()` runs mes.compliance.verify, keeps the run (IntegrityRun) and, on a finding,
alerts: an ERROR log line, an `integrity.failed` event in the outbox (for whoever subscribes: MQTT,
webhooks), and a banner on the screens of QA and administrators (the context processor below) and on
the sync status page, until a later run is clean."""

from __future__ import annotations

import logging

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from mes.events.services import outbox_emit

from .models import IntegrityCheckpoint, IntegrityRun, SigningCredential
from .verify import verify_records

log = logging.getLogger(__name__)


def integrity_check_run(*, first_only: bool = False, workers: int = 1) -> IntegrityRun:
    """Verify everything, keep the run, alert on a finding (see the module docstring)."""
    run = IntegrityRun.objects.create(started_at=timezone.now(), scope="all")
    report = verify_records(first_only=first_only, workers=workers)
    with transaction.atomic():
        run.finished_at = timezone.now()
        run.ok = report.ok
        run.counts = report.counts
        run.problem_count = report.total
        run.problems = [{"check": f.check, "where": f.where, "message": f.message} for f in report.findings]
        run.save(update_fields=["finished_at", "ok", "counts", "problem_count", "problems"])
        if not report.ok:
            outbox_emit(
                event_type="integrity.failed",
                aggregate_type="integrity",
                aggregate_id=run.pk,
                data={
                    "run": run.pk,
                    "started_at": run.started_at,
                    "finished_at": run.finished_at,
                    "problems": report.total,
                    "first": [str(f) for f in report.findings[:20]],
                    "counts": report.counts,
                },
            )
    if report.ok:
        log.info("integrity check passed", extra={"run": run.pk, "counts": report.counts})
    else:
        log.error(
            "integrity check FAILED: %s problem(s); first: %s",
            report.total,
            report.findings[0] if report.findings else "",
            extra={"run": run.pk, "problems": report.total},
        )
    return run


def integrity_alert() -> IntegrityRun | None:
    """The newest finished run when it failed (the alert stands until a later run is clean), else None."""
    run = IntegrityRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    return run if run is not None and not run.ok else None


def locked_signers() -> list:
    """Who cannot sign (locked after wrong secrets) or log in (locked after failed logins) right now."""
    signing = list(
        SigningCredential.objects.filter(locked_at__isnull=False).select_related("user__profile").order_by("locked_at")
    )
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    logins = list(
        AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT, attempt_time__gte=since)
        .order_by("-attempt_time")
        .values_list("username", flat=True)
    )
    return [("signing", c.user) for c in signing] + [("login", name) for name in logins]


def alert_context(request: HttpRequest) -> dict:
    """Template context: `integrity_alert` for QA and administrators, `locked_signers` for whoever may unlock
    them (a query each, only for them)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context: dict[str, object] = {}
    if user.has_perm("compliance.view_integrity"):
        context["integrity_alert"] = integrity_alert()
    if user.has_perm("compliance.unlock_signing"):
        context["locked_signers"] = locked_signers()
    return context


def integrity_summary() -> dict:
    """The newest verifier run and checkpoint, for the sync status page (two queries)."""
    return {
        "run": IntegrityRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first(),
        "checkpoint": IntegrityCheckpoint.objects.order_by("-number").first(),
    }
