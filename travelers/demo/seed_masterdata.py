"""Loading the demo's master data, step by step in dependency order: sites and work centers, operations
and their legacy aliases, users with their profiles and roles, parts and revisions, released routings
(built only through the master-data services, released with both signatures), qualifications and work
orders. Each step converges to the data modules beside it (see seed_report.upsert)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password

from mes.compliance.models import Profile
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
from travelers.models import WorkOrder

from .parts import PARTS
from .people import (
    DEMO_PASSWORD,
    DEMO_USERS,
    EXPIRED_QUALIFICATIONS,
    QUALIFIED_FOR_DAYS,
    QUALIFIED_SINCE_DAYS,
    STAFF_ROLES,
    SUPERUSER_ROLES,
)
from .seed_report import CREATED, PRESENT, SKIPPED, SeedReport, upsert
from .sites import ALIAS_SITE_ORDER, ALIASES, OPERATIONS, SITES
from .work_orders import WORK_ORDERS


def sites_seed(report: SeedReport) -> tuple[dict[str, Site], dict[tuple[str, str], WorkCenter]]:
    sites, work_centers = {}, {}
    for spec in SITES:
        site = upsert(
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
            work_centers[spec.code, code] = upsert(
                report,
                "work centers",
                WorkCenter,
                lookup={"site": site, "code": code},
                values={"name": name, "active": True},
            )
    return sites, work_centers


def operations_seed(report: SeedReport, sites: dict[str, Site]) -> dict[str, Operation]:
    operations = {
        code: upsert(
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


def users_seed(report: SeedReport, sites: dict[str, Site]):
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in={u["role"] for u in DEMO_USERS})}
    users = {}
    for spec in DEMO_USERS:
        first_name, _, last_name = spec["printed_name"].partition(" ")
        user = upsert(
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
        upsert(
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


def parts_seed(report: SeedReport) -> dict[str, PartRevision]:
    revisions = {}
    for spec in PARTS:
        part = upsert(
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
        revisions[spec.number] = upsert(
            report,
            "part revisions",
            PartRevision,
            lookup={"part": part, "revision": spec.revision},
            values={"description": spec.revision_note, "drawing_number": spec.drawing_number},
        )
    return revisions


def routings_seed(report, revisions, operations, work_centers, author, quality) -> None:
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


def qualifications_seed(report, users, operations, today: dt.date) -> None:
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
            upsert(
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
        upsert(
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


def work_orders_seed(report, sites, revisions, today: dt.date) -> None:
    for spec in WORK_ORDERS:
        site = sites[spec.site]
        upsert(
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
