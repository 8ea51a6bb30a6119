"""The generated history's master data, made through the master-data services as an engineer would:
sites with their operations' aliases and work centers, 80 generated people, and per part family a
raw-material lot part and four made parts with released routings (components declared per step)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from mes.compliance.models import Profile
from mes.masterdata import services as md
from mes.masterdata.change_control import routing_release_signed
from mes.masterdata.models import EACH, Operation, Part, PartRevision, RoutingStep, Site, WorkCenter

from .run import HistoryRun
from .shape import CHARACTERISTICS, OPERATIONS, SITES


def master_data(run: HistoryRun) -> None:
    """Sites, operations and work centers, generated people, and the part families with released routings."""
    User = get_user_model()  # noqa: N806
    run.sites = []
    for code, name, zone in SITES:
        site, _ = Site.objects.get_or_create(
            code=code, defaults={"name": name, "time_zone": zone, "legacy_system": f"legacy-{code.lower()}"}
        )
        run.sites.append(site)
    run.ops = {}
    for code, name, *aliases in OPERATIONS:
        op, created = Operation.objects.get_or_create(code=code, defaults={"name": name})
        run.ops[code] = op
        if created:
            for site, alias in zip(run.sites, aliases, strict=True):
                md.operation_alias_create(operation=op, source_system=site.legacy_system, site=site, code=alias)
    run.work_centers = {}
    for site in run.sites:
        for op_code in run.ops:
            wc, _ = WorkCenter.objects.get_or_create(
                site=site, code=f"{op_code[:4]}-{site.code}", defaults={"name": f"{op_code.title()} cell"}
            )
            run.work_centers[(site.pk, run.ops[op_code].pk)] = wc.pk
    existing = {u.username for u in User.objects.filter(username__startswith="gen-")}
    people = []
    for i in range(80):
        username = f"gen-{'insp' if i >= 64 else 'op'}-{i:02d}"
        if username not in existing:
            people.append(User(username=username, first_name=f"Person{i:02d}", last_name="Generated"))
    for user in people:
        user.set_unusable_password()
    User.objects.bulk_create(people)
    users = list(User.objects.filter(username__startswith="gen-").order_by("username"))
    Profile.objects.bulk_create(
        [Profile(user=u, employee_number=f"G{u.pk:06d}", printed_name=u.get_full_name()) for u in users],
        ignore_conflicts=True,
    )
    run.operators = [u.pk for u in users if "-op-" in u.username]
    run.inspectors = [u.pk for u in users if "-insp-" in u.username]
    run.names = {u.pk: u.get_full_name() for u in users}
    signers = release_signers()
    # parts, revisions and released routings (with components) through the services
    run.parts = {}
    per_step = [run.m // 5 + (1 if i < run.m % 5 else 0) for i in range(5)]
    for f in range(run.families):
        raw = part_get(f"RAW-{f:02d}", "Bar stock", "lot")
        run.parts[(f, "raw")] = (raw[0].pk, raw[1].pk, None)
        for kind, label, tracking in (
            ("lot", "BSH", "lot"),
            ("pin", "PIN", "serial"),
            ("sub", "SUB", "serial"),
            ("asm", "ASM", "serial"),
        ):
            part, rev = part_get(f"{label}-{f:02d}", f"{label.title()} {f:02d}", tracking)
            routing = rev.routings.filter(status="released").first() or routing_release(
                run, rev, kind, f, per_step, signers
            )
            run.parts[(f, kind)] = (part.pk, rev.pk, routing.pk)
            # as an order is imported: whole pieces of a serialized part, a lot in its part's unit
            run.units[(f, kind)] = EACH if part.tracking == "serial" else part.quantity_unit
    steps = RoutingStep.objects.filter(routing_id__in=[p[2] for p in run.parts.values() if p[2]])
    run.step_index = {}
    for step in steps.order_by("routing_id", "sequence"):
        run.step_index.setdefault(step.routing_id, []).append(step.pk)
    run.say("master data ready")


def part_get(number: str, name: str, tracking: str):
    """The part `number` and its revision A (made if missing)."""
    part, _ = Part.objects.get_or_create(number=number, defaults={"name": name, "tracking": tracking})
    rev, _ = PartRevision.objects.get_or_create(part=part, revision="A")
    return part, rev


def routing_release(run: HistoryRun, rev, kind: str, family: int, per_step: list[int], signers):
    """A routing of five steps for a part of `kind`, its components declared, released by `signers`."""
    routing = md.routing_create_draft(part_revision=rev)
    components = {
        "lot": {},
        "pin": {"MACHINING": [f"RAW-{family:02d}"]},
        "sub": {"ASSEMBLY": [f"PIN-{family:02d}", f"BSH-{family:02d}"]},
        "asm": {"ASSEMBLY": [f"SUB-{family:02d}", f"PIN-{family:02d}"]},
    }[kind]
    for i, (op_code, *_rest) in enumerate(OPERATIONS):
        step = md.routing_step_add(
            routing=routing,
            sequence=(i + 1) * 10,
            operation=run.ops[op_code],
            title=f"{op_code.title()} {rev.part.number}",
            signoff=RoutingStep.Signoff.OPERATOR_AND_INSPECTOR
            if op_code == "INSPECTION"
            else RoutingStep.Signoff.OPERATOR,
        )
        chars = CHARACTERISTICS[op_code]
        for j in range(per_step[i]):
            code, nominal, tol, unit = chars[j % len(chars)]
            code = code if j < len(chars) else f"{code}_{j}"
            md.characteristic_add(
                step=step,
                code=code,
                name=code.replace("_", " ").title(),
                unit=unit,
                nominal=Decimal(nominal),
                lower_limit=Decimal(nominal) - Decimal(tol),
                upper_limit=Decimal(nominal) + Decimal(tol),
                on_out_of_spec="warn",
            )
        for number in components.get(op_code, []):
            md.routing_step_component_add(step=step, part=Part.objects.get(number=number))
    (engineer, quality), secret = signers
    return routing_release_signed(
        routing=routing,
        reason="generated history",
        engineer=engineer,
        engineer_secret=secret,
        quality=quality,
        quality_secret=secret,
    )


def release_signers():
    """The engineer and the inspector who sign the generated routings' release, with a password made
    for this run only (nobody signs in as them afterwards)."""
    User = get_user_model()  # noqa: N806
    secret = secrets.token_urlsafe(24)
    signers = []
    for username, role in (("gen-engineer", "Engineer"), ("gen-quality", "Inspector")):
        user, _ = User.objects.get_or_create(username=username, defaults={"first_name": role, "last_name": "Generated"})
        user.set_password(secret)
        user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
        Profile.objects.get_or_create(
            user=user, defaults={"employee_number": f"G{user.pk:06d}", "printed_name": user.get_full_name()}
        )
        signers.append(user)
    return signers, secret
