"""`manage.py seed_demo`: load the demo factory (travelers/demo/).

`make run` runs it on every start, so it is idempotent: rows are found by natural key; a second run
creates nothing and changes nothing. Master data converges to travelers/demo/; what a user may change in
the demo is set only when the row is created (passwords, due dates, qualification dates). A part
revision that already has a released routing keeps it; routings are built only through the
master-data services, and demo travelers only through the traveler services.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import BaseCommand
from django.db import models, transaction
from django.utils import timezone

from mes.compliance.models import Profile
from mes.compliance.roles import roles_sync
from mes.masterdata import services
from mes.masterdata.change_control import routing_release_signed
from mes.masterdata.errors import AliasConflict
from mes.masterdata.models import (
    Operation,
    OperationAlias,
    Part,
    PartRevision,
    Qualification,
    Routing,
    Site,
    WorkCenter,
)
from mes.masterdata.states import RoutingStatus
from travelers.demo.parts import PARTS
from travelers.demo.people import (
    DEMO_PASSWORD,
    DEMO_USERS,
    EXPIRED_QUALIFICATIONS,
    QUALIFIED_FOR_DAYS,
    QUALIFIED_SINCE_DAYS,
    ROUTING_AUTHOR,
    ROUTING_QUALITY,
    STAFF_ROLES,
    SUPERUSER_ROLES,
)
from travelers.demo.seed_travelers import demo_travelers_seed
from travelers.demo.sites import ALIAS_SITE_ORDER, ALIASES, OPERATIONS, SITES
from travelers.demo.work_orders import WORK_ORDERS
from travelers.models import WorkOrder

CREATED, UPDATED, PRESENT, SKIPPED = "created", "updated", "already present", "skipped"


class SeedReport:
    """What one run did, per kind of row: created, updated, already present or skipped (with why)."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = {}
        self.notes: list[str] = []

    def add(self, label: str, outcome: str) -> None:
        self.counts.setdefault(label, Counter())[outcome] += 1

    def total(self, outcome: str) -> int:
        return sum(counter[outcome] for counter in self.counts.values())

    def render(self) -> str:
        lines = ["Demo factory (seed_demo):"]
        for label, counter in self.counts.items():
            parts = [f"{counter[o]} {o}" for o in (CREATED, UPDATED, PRESENT, SKIPPED) if counter[o]]
            lines.append(f"  {label:<18} {', '.join(parts)}")
        lines.extend(f"  note: {note}" for note in self.notes)
        created, updated = self.total(CREATED), self.total(UPDATED)
        if created or updated:
            lines.append(f"Demo factory loaded: {created} created, {updated} updated.")
        else:
            lines.append("Demo factory already loaded: nothing changed.")
        return "\n".join(lines)


def _upsert(
    report: SeedReport,
    label: str,
    model: type[models.Model],
    *,
    lookup: dict,
    values: dict | None = None,
    initial: dict | None = None,
    before_create: Callable[[models.Model], None] | None = None,
):
    """The row with `lookup`: created with `values` and `initial`; when present, only the `values` that
    differ are written (so a second run writes nothing); `initial` is never touched again."""
    values = values or {}
    obj = model._default_manager.filter(**lookup).first()
    if obj is None:
        obj = model(**lookup, **values, **(initial or {}))
        if before_create:
            before_create(obj)
        obj.full_clean()
        obj.save()
        report.add(label, CREATED)
        return obj
    changed = []
    for name, wanted in values.items():
        current = getattr(obj, model._meta.get_field(name).attname)
        if current != (wanted.pk if isinstance(wanted, models.Model) else wanted):
            setattr(obj, name, wanted)
            changed.append(name)
    if changed:
        obj.full_clean()
        obj.save(update_fields=changed)
    report.add(label, UPDATED if changed else PRESENT)
    return obj


# --- Steps of the seed, in dependency order ---------------------------------------------------------


def _sites(report: SeedReport) -> tuple[dict[str, Site], dict[tuple[str, str], WorkCenter]]:
    sites, work_centers = {}, {}
    for spec in SITES:
        site = _upsert(
            report,
            "sites",
            Site,
            lookup={"code": spec.code},
            values={
                "name": spec.name,
                "time_zone": spec.time_zone,
                "language": spec.language,
                "legacy_system": spec.legacy_system,
            },
        )
        sites[spec.code] = site
        for code, name in spec.work_centers:
            work_centers[spec.code, code] = _upsert(
                report,
                "work centers",
                WorkCenter,
                lookup={"site": site, "code": code},
                values={"name": name, "active": True},
            )
    return sites, work_centers


def _operations(report: SeedReport, sites: dict[str, Site]) -> dict[str, Operation]:
    operations = {
        code: _upsert(
            report, "operations", Operation, lookup={"code": code}, values={"name": name, "description": description}
        )
        for code, name, description in OPERATIONS
    }
    for op_code, codes in ALIASES.items():
        operation = operations[op_code]
        for site_code, code in zip(ALIAS_SITE_ORDER, codes, strict=True):
            site = sites[site_code]
            existing = OperationAlias.objects.filter(source_system=site.legacy_system, site=site, code=code).first()
            if existing and existing.operation_id == operation.pk:
                report.add("operation aliases", PRESENT)
                continue
            try:
                services.operation_alias_create(
                    operation=operation, source_system=site.legacy_system, site=site, code=code
                )
            except AliasConflict as exc:  # someone mapped it otherwise in the demo: theirs stands
                report.add("operation aliases", SKIPPED)
                report.notes.append(f"alias {site.code}:{code} left as it is ({exc.message})")
                continue
            report.add("operation aliases", CREATED)
    return operations


def _set_demo_password(user) -> None:
    validate_password(DEMO_PASSWORD, user)  # refuses, naming the validator, if settings tighten
    user.set_password(DEMO_PASSWORD)


def _users(report: SeedReport, sites: dict[str, Site]):
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in={u["role"] for u in DEMO_USERS})}
    users = {}
    for spec in DEMO_USERS:
        first_name, _, last_name = spec["printed_name"].partition(" ")
        user = _upsert(
            report,
            "users",
            user_model,
            lookup={"username": spec["username"]},
            values={
                "first_name": first_name,
                "last_name": last_name,
                "is_staff": spec["role"] in STAFF_ROLES,
                "is_superuser": spec["role"] in SUPERUSER_ROLES,
            },
            before_create=_set_demo_password,  # a password changed in the demo stays changed
        )
        _upsert(
            report,
            "profiles",
            Profile,
            lookup={"user": user},
            values={
                "employee_number": spec["employee_number"],
                "printed_name": spec["printed_name"],
                "site": sites[spec["site"]],
            },
        )
        group = groups[spec["role"]]
        if user.groups.filter(pk=group.pk).exists():
            report.add("role memberships", PRESENT)
        else:
            user.groups.add(group)
            report.add("role memberships", CREATED)
        users[spec["username"]] = user
    return users


def _parts(report: SeedReport) -> dict[str, PartRevision]:
    revisions = {}
    for spec in PARTS:
        part = _upsert(
            report,
            "parts",
            Part,
            lookup={"number": spec.number},
            values={
                "name": spec.name,
                "description": spec.description,
                "tracking": spec.tracking,
                "customer": spec.customer,
            },
        )
        revisions[spec.number] = _upsert(
            report,
            "part revisions",
            PartRevision,
            lookup={"part": part, "revision": spec.revision},
            values={"description": spec.revision_note, "drawing_number": spec.drawing_number},
        )
    return revisions


def _routings(report, revisions, operations, work_centers, author, quality) -> None:
    for spec in PARTS:
        part_revision = revisions[spec.number]
        routings = Routing.objects.filter(part_revision=part_revision)
        if routings.filter(status=RoutingStatus.RELEASED).exists():
            report.add("routings", PRESENT)
            continue
        if routings.filter(status=RoutingStatus.DRAFT).exists():
            report.add("routings", SKIPPED)
            report.notes.append(f"{part_revision} has a draft routing and none released; the draft is left alone")
            continue
        routing = services.routing_create_draft(
            part_revision=part_revision, description=spec.routing_description, actor=author
        )
        for step_spec in spec.steps:
            step = services.routing_step_add(
                routing=routing,
                sequence=step_spec.sequence,
                operation=operations[step_spec.operation],
                title=step_spec.title,
                work_center=work_centers[spec.site, step_spec.work_center],
                instructions=step_spec.instructions,
                signoff=step_spec.signoff,
                may_run_out_of_order=step_spec.may_run_out_of_order,
            )
            for char in step_spec.characteristics:
                services.characteristic_add(step=step, **char.as_kwargs())
            for part_number, quantity in step_spec.consumes:
                services.routing_step_component_add(step=step, part=revisions[part_number].part, quantity=quantity)
            for drawing in step_spec.drawings:
                services.step_attachment_add(
                    step=step,
                    title=drawing.title,
                    filename=drawing.filename,
                    content=drawing.content,
                    content_type=drawing.content_type,
                )
        routing_release_signed(
            routing=routing,
            reason=f"demo factory: first release of the {part_revision} routing",
            reference="ECO-DEMO",
            engineer=author,
            engineer_secret=DEMO_PASSWORD,
            quality=quality,
            quality_secret=DEMO_PASSWORD,
        )
        report.add("routings", CREATED)


def _qualifications(report, users, operations, today: dt.date) -> None:
    ops_by_site: dict[str, list[str]] = {}
    for part in PARTS:
        site_ops = ops_by_site.setdefault(part.site, [])
        site_ops.extend(s.operation for s in part.steps if s.operation not in site_ops)
    lapsed = {(q.username, q.operation, q.kind) for q in EXPIRED_QUALIFICATIONS}
    valid_from = today - dt.timedelta(days=QUALIFIED_SINCE_DAYS)
    expires_on = valid_from + dt.timedelta(days=QUALIFIED_FOR_DAYS)
    for spec in DEMO_USERS:
        if spec["role"] == "Operator":
            kind, op_codes, prefix = Qualification.Kind.PERFORM, ops_by_site.get(spec["site"], []), "TRN"
        elif spec["role"] == "Inspector":
            kind, op_codes, prefix = Qualification.Kind.INSPECT, [code for code, _, _ in OPERATIONS], "INSP"
        else:
            continue
        for op_code in op_codes:
            if (spec["username"], op_code, kind) in lapsed:
                continue
            _upsert(
                report,
                "qualifications",
                Qualification,
                lookup={
                    "user": users[spec["username"]],
                    "operation": operations[op_code],
                    "kind": kind,
                    "certificate": f"{prefix}-{spec['employee_number']}-{op_code}",
                },
                initial={"valid_from": valid_from, "expires_on": expires_on},
            )
    for q in EXPIRED_QUALIFICATIONS:
        lapsed_on = today - dt.timedelta(days=q.expired_days_ago)
        _upsert(
            report,
            "qualifications",
            Qualification,
            lookup={
                "user": users[q.username],
                "operation": operations[q.operation],
                "kind": q.kind,
                "certificate": q.certificate,
            },
            initial={"valid_from": lapsed_on - dt.timedelta(days=q.valid_for_days), "expires_on": lapsed_on},
        )


def _work_orders(report, sites, revisions, today: dt.date) -> None:
    for spec in WORK_ORDERS:
        site = sites[spec.site]
        _upsert(
            report,
            "work orders",
            WorkOrder,
            lookup={"number": spec.number},
            values={
                "part_revision": revisions[spec.part],
                "quantity": spec.quantity,
                "site": site,
                "source_system": site.legacy_system if spec.from_legacy else "",
                "external_id": spec.external_id,
            },
            initial={"due_date": today + dt.timedelta(days=spec.due_in_days)},
        )


@transaction.atomic
def demo_seed(*, today: dt.date | None = None, with_travelers: bool = True) -> SeedReport:
    """Load the demo factory, or bring it back in line; one transaction, so never half a demo."""
    today = today or timezone.localdate()
    report = SeedReport()
    roles_sync()
    sites, work_centers = _sites(report)
    operations = _operations(report, sites)
    users = _users(report, sites)
    revisions = _parts(report)
    _routings(
        report,
        revisions,
        operations,
        work_centers,
        author=users[ROUTING_AUTHOR],
        quality=users[ROUTING_QUALITY],
    )
    _qualifications(report, users, operations, today)
    _work_orders(report, sites, revisions, today)
    if with_travelers:
        demo_travelers_seed(report)
    return report


class Command(BaseCommand):
    help = (
        "Load the demo factory (three sites, parts with released routings, users in every role, travelers in "
        "every state). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--no-travelers", action="store_true", help="Master data, users and work orders only.")

    def handle(self, *args, **options):
        report = demo_seed(with_travelers=not options["no_travelers"])
        if options["verbosity"] >= 1:
            self.stdout.write(report.render())
