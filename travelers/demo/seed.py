"""`demo_seed`: the whole demo factory, loaded in dependency order in one transaction, so never half a
demo; `manage.py seed_demo` runs it and prints its report."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from mes.compliance.roles import roles_sync

from .people import ROUTING_AUTHOR, ROUTING_QUALITY
from .seed_masterdata import (
    operations_seed,
    parts_seed,
    qualifications_seed,
    routings_seed,
    sites_seed,
    users_seed,
    work_orders_seed,
)
from .seed_report import SeedReport
from .seed_travelers import demo_travelers_seed


@transaction.atomic
def demo_seed(*, today: dt.date | None = None, with_travelers: bool = True) -> SeedReport:
    """Load the demo factory, or bring it back in line; one transaction, so never half a demo."""
    today = today or timezone.localdate()
    report = SeedReport()
    roles_sync()
    sites, work_centers = sites_seed(report)
    operations = operations_seed(report, sites)
    users = users_seed(report, sites)
    revisions = parts_seed(report)
    routings_seed(
        report,
        revisions,
        operations,
        work_centers,
        author=users[ROUTING_AUTHOR],
        quality=users[ROUTING_QUALITY],
    )
    qualifications_seed(report, users, operations, today)
    work_orders_seed(report, sites, revisions, today)
    if with_travelers:
        demo_travelers_seed(report)
    return report
