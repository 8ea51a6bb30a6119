"""Writes to master data. Each service is keyword-only, one transaction, and raises a named error."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext

from .errors import (
    AliasConflict,
    CodeNotMapped,
    InvalidLimits,
    InvalidUnit,
    NotQualified,
    PartNotMapped,
    QualificationExpired,
    RoutingNotEditable,
    RoutingTransitionRefused,
)
from .models import (
    Characteristic,
    Operation,
    OperationAlias,
    Part,
    PartAlias,
    Qualification,
    Routing,
    RoutingStep,
    RoutingStepComponent,
    Site,
    StepAttachment,
    UnmappedCode,
)
from .states import RoutingStatus, can_transition
from .validation import characteristic_problems

# --- Codes from legacy systems ----------------------------------------------------------------------


def operation_resolve(*, source_system: str, site: Site | None, code: str, context: dict | None = None) -> Operation:
    """The canonical operation a system's code stands for. Never guesses: a code no alias maps is put
    in the unmapped-code queue (with where it came from) and CodeNotMapped is raised.

    A site-specific alias wins over a system-wide one (site empty). Call this before opening the
    transaction that writes what the code belongs to, so the queue entry survives that rollback."""
    code = (code or "").strip()
    where_site = Q(site__isnull=True) | Q(site=site) if site else Q(site__isnull=True)
    aliases = {
        alias.site_id: alias
        for alias in OperationAlias.objects.filter(where_site, source_system=source_system, code=code).select_related(
            "operation"
        )
    }
    alias = aliases.get(site.pk if site else None) or aliases.get(None)
    if alias:
        return alias.operation
    unmapped_code_record(kind="operation", source_system=source_system, site=site, code=code, context=context)
    where = f"site {site.code}" if site else "any site"
    raise CodeNotMapped(
        gettext(
            "operation code '%(code)s' from %(source_system)s (%(where)s) is not mapped to an operation; it is "
            "waiting in the unmapped-code queue"
        )
        % {"code": code, "source_system": source_system, "where": where},
        source_system=source_system,
        site_code=site.code if site else None,
        code=code,
        field="operation",
    )


def unmapped_code_record(
    *, kind: str, source_system: str, site: Site | None, code: str, context: dict | None
) -> UnmappedCode:
    """Queue an unknown code, or count one more sighting of a queued one."""
    with transaction.atomic():
        entry, created = UnmappedCode.objects.select_for_update().get_or_create(
            kind=kind,
            source_system=source_system,
            site=site,
            code=code,
            resolved_at__isnull=True,
            defaults={"context": context or {}},
        )
        if not created:
            UnmappedCode.objects.filter(pk=entry.pk).update(
                occurrences=F("occurrences") + 1, context=context or entry.context, last_seen=timezone.now()
            )
            entry.refresh_from_db()
    return entry


@transaction.atomic
def operation_alias_create(
    *, operation: Operation, source_system: str, site: Site | None, code: str, actor=None
) -> OperationAlias:
    """Map a system's code to an operation; resolves the matching unmapped-code queue entries."""
    code = code.strip()
    existing = OperationAlias.objects.filter(source_system=source_system, site=site, code=code).first()
    if existing and existing.operation_id != operation.pk:
        raise AliasConflict(
            gettext("'%(code)s' from %(source_system)s already means %(code2)s")
            % {"code": code, "source_system": source_system, "code2": existing.operation.code},
            field="code",
        )
    alias = existing
    if alias is None:
        try:
            with transaction.atomic():
                alias = OperationAlias.objects.create(
                    operation=operation, source_system=source_system, site=site, code=code
                )
        except IntegrityError as exc:  # a concurrent mapping of the same code
            raise AliasConflict(
                gettext("'%(code)s' from %(source_system)s was mapped meanwhile")
                % {"code": code, "source_system": source_system},
                field="code",
            ) from exc
    pending = UnmappedCode.objects.filter(
        kind="operation", source_system=source_system, code=code, resolved_at__isnull=True
    )
    pending = pending.filter(site=site) if site else pending
    pending.update(resolved_alias=alias, resolved_at=timezone.now())
    return alias


def unmapped_code_map(
    *,
    entry: UnmappedCode,
    operation: Operation | None = None,
    part: Part | None = None,
    site_specific: bool = True,
    actor=None,
):
    """Map a queued code from the admin: creates the alias (site-specific unless told otherwise) — an
    operation alias for an operation code, a part alias for a part code."""
    site = entry.site if site_specific else None
    if entry.kind == UnmappedCode.Kind.PART:
        if part is None:
            raise AliasConflict(
                gettext("'%(code)s' is a part number: map it to a part") % {"code": entry.code}, field="part"
            )
        return part_alias_create(part=part, source_system=entry.source_system, site=site, code=entry.code, actor=actor)
    if operation is None:
        raise AliasConflict(
            gettext("'%(code)s' is an operation code: map it to an operation") % {"code": entry.code}, field="operation"
        )
    return operation_alias_create(
        operation=operation, source_system=entry.source_system, site=site, code=entry.code, actor=actor
    )


# --- Parts from legacy systems ----------------------------------------------------------------------


def part_resolve(*, source_system: str, site: Site | None, code: str, context: dict | None = None) -> Part:
    """The part a system's material number stands for: its part alias (a site's own wins over a
    system-wide one), else the part of that very number. Never guesses: an unknown number is put in the
    unmapped-code queue (kind "part") and PartNotMapped is raised. Call it outside the transaction that
    writes the order, so the queue entry survives that rollback."""
    code = (code or "").strip()
    where_site = Q(site__isnull=True) | Q(site=site) if site else Q(site__isnull=True)
    aliases = {
        alias.site_id: alias
        for alias in PartAlias.objects.filter(where_site, source_system=source_system, code=code).select_related("part")
    }
    alias = aliases.get(site.pk if site else None) or aliases.get(None)
    if alias:
        return alias.part
    part = Part.objects.filter(number=code).first()
    if part is not None:
        return part
    unmapped_code_record(
        kind=UnmappedCode.Kind.PART, source_system=source_system, site=site, code=code, context=context
    )
    where = f"site {site.code}" if site else "any site"
    raise PartNotMapped(
        gettext(
            "part '%(code)s' from %(source_system)s (%(where)s) is not a known part nor mapped to one; it is waiting "
            "in the unmapped-code queue"
        )
        % {"code": code, "source_system": source_system, "where": where},
        source_system=source_system,
        site_code=site.code if site else None,
        code=code,
        field="part",
    )


@transaction.atomic
def part_alias_create(*, part: Part, source_system: str, site: Site | None, code: str, actor=None) -> PartAlias:
    """Map a system's material number to a part; resolves the matching unmapped-code queue entries."""
    code = code.strip()
    existing = PartAlias.objects.filter(source_system=source_system, site=site, code=code).first()
    if existing and existing.part_id != part.pk:
        raise AliasConflict(
            gettext("'%(code)s' from %(source_system)s already means part %(number)s")
            % {"code": code, "source_system": source_system, "number": existing.part.number},
            field="code",
        )
    alias = existing
    if alias is None:
        try:
            with transaction.atomic():
                alias = PartAlias.objects.create(part=part, source_system=source_system, site=site, code=code)
        except IntegrityError as exc:
            raise AliasConflict(
                gettext("'%(code)s' from %(source_system)s was mapped meanwhile")
                % {"code": code, "source_system": source_system},
                field="code",
            ) from exc
    pending = UnmappedCode.objects.filter(
        kind=UnmappedCode.Kind.PART, source_system=source_system, code=code, resolved_at__isnull=True
    )
    pending = pending.filter(site=site) if site else pending
    pending.update(resolved_part_alias=alias, resolved_at=timezone.now())
    return alias


# --- Routings ---------------------------------------------------------------------------------------


def _transition(routing: Routing, target: str) -> None:
    if not can_transition(routing.status, target):
        raise RoutingTransitionRefused(
            gettext("routing r%(revision)s of %(part_revision)s is %(status)s; it cannot become %(target)s")
            % {
                "revision": routing.revision,
                "part_revision": routing.part_revision,
                "status": routing.status,
                "target": target,
            },
            field="status",
        )
    routing.status = target


def routing_validate_for_release(routing: Routing) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    steps = list(routing.steps.prefetch_related("characteristics"))
    if not steps:
        problems.append(("steps", "a routing needs at least one step before it can be released"))
    for step in steps:
        for char in step.characteristics.all():
            for field, message in characteristic_problems(
                kind=char.kind,
                unit=char.unit,
                nominal=char.nominal,
                lower_limit=char.lower_limit,
                upper_limit=char.upper_limit,
                choices=char.choices,
            ):
                problems.append((f"step {step.sequence}.{char.code}.{field}", message))
    return problems


@transaction.atomic
def _routing_release(*, routing: Routing, actor=None) -> Routing:
    """Release a draft; the part revision's previously released routing becomes superseded. Only change
    control calls this (mes.masterdata.change_control): a release needs two signatures."""
    routing = Routing.objects.select_for_update().select_related("part_revision__part").get(pk=routing.pk)
    _transition(routing, RoutingStatus.RELEASED)
    problems = routing_validate_for_release(routing)
    if problems:
        field, message = problems[0]
        raise RoutingNotEditable(message, field=field)
    now = timezone.now()
    for current in Routing.objects.select_for_update().filter(
        part_revision_id=routing.part_revision_id, status=RoutingStatus.RELEASED
    ):
        _transition(current, RoutingStatus.SUPERSEDED)
        current.retired_at = now
        current.save(update_fields=["status", "retired_at"])
    routing.released_at = now
    routing.released_by = actor
    routing.save(update_fields=["status", "released_at", "released_by"])
    return routing


@transaction.atomic
def _routing_obsolete(*, routing: Routing, actor=None) -> Routing:
    """Retire a released routing (change control calls this, after its two signatures)."""
    routing = Routing.objects.select_for_update().get(pk=routing.pk)
    _transition(routing, RoutingStatus.OBSOLETE)
    routing.retired_at = timezone.now()
    routing.save(update_fields=["status", "retired_at"])
    return routing


@transaction.atomic
def routing_new_revision(*, routing: Routing, actor=None) -> Routing:
    """Copy a routing (steps, characteristics, instruction attachments) into the next draft revision."""
    source = Routing.objects.select_for_update().get(pk=routing.pk)
    if Routing.objects.filter(part_revision_id=source.part_revision_id, status=RoutingStatus.DRAFT).exists():
        raise RoutingTransitionRefused(
            gettext("%(part_revision)s already has a draft routing; edit that one")
            % {"part_revision": source.part_revision},
            field="status",
        )
    latest = Routing.objects.filter(part_revision_id=source.part_revision_id).order_by("-revision").first()
    draft = Routing.objects.create(
        part_revision_id=source.part_revision_id,
        revision=latest.revision + 1,
        status=RoutingStatus.DRAFT,
        description=source.description,
        created_by=actor,
        based_on=source,
    )
    for step in source.steps.prefetch_related("characteristics", "attachments", "components"):
        new_step = RoutingStep.objects.create(
            routing=draft,
            sequence=step.sequence,
            operation_id=step.operation_id,
            work_center_id=step.work_center_id,
            title=step.title,
            instructions=step.instructions,
            signoff=step.signoff,
            may_run_out_of_order=step.may_run_out_of_order,
        )
        Characteristic.objects.bulk_create(
            Characteristic(
                step=new_step,
                **{
                    f.attname: getattr(c, f.attname)
                    for f in Characteristic._meta.concrete_fields
                    if f.attname not in {"id", "step_id"}
                },
            )
            for c in step.characteristics.all()
        )
        RoutingStepComponent.objects.bulk_create(
            RoutingStepComponent(step=new_step, part_id=c.part_id, quantity=c.quantity) for c in step.components.all()
        )
        StepAttachment.objects.bulk_create(
            StepAttachment(
                step=new_step,
                title=a.title,
                file=a.file.name,
                content_type=a.content_type,
                size=a.size,
                sha256=a.sha256,
            )
            for a in step.attachments.all()
        )
    return draft


def routing_ensure_editable(routing: Routing) -> None:
    if not routing.is_editable:
        raise RoutingNotEditable(
            gettext("routing r%(revision)s of %(part_revision)s is %(status)s; make a new revision to change it")
            % {"revision": routing.revision, "part_revision": routing.part_revision, "status": routing.status},
            field="status",
        )
    if routing.changes.filter(status="open").exists():
        raise RoutingNotEditable(
            gettext(
                "routing r%(revision)s of %(part_revision)s waits for its release signatures: withdraw the change to "
                "edit it (what is signed is what is released)"
            )
            % {"revision": routing.revision, "part_revision": routing.part_revision},
            field="status",
        )


# --- Qualifications ---------------------------------------------------------------------------------


def qualification_check(*, user, operation: Operation, kind: str, on: dt.date | None = None) -> Qualification:
    """The user's qualification to `kind` (perform/inspect) `operation` on a date, or a named error:
    QualificationExpired when they held one that has lapsed, NotQualified when they never did."""
    on = on or timezone.localdate()
    quals = list(Qualification.objects.filter(user=user, operation=operation, kind=kind).order_by("-expires_on"))
    for qual in quals:
        if qual.valid_from <= on <= qual.expires_on:
            qual.user, qual.operation = user, operation  # the rows it names, known here (its text names them)
            return qual
    name = user.get_full_name() or user.get_username()
    if quals and quals[0].expires_on < on:
        raise QualificationExpired(
            gettext("%(name)s's qualification to %(kind)s %(name2)s expired on %(expires_on)s")
            % {
                "name": name,
                "kind": kind,
                "name2": operation.name,
                "expires_on": format(quals[0].expires_on, "%Y-%m-%d"),
            },
            field="qualification",
        )
    raise NotQualified(
        gettext("%(name)s is not qualified to %(kind)s %(name2)s")
        % {"name": name, "kind": kind, "name2": operation.name},
        field="qualification",
    )


# --- Building draft routings (admin, documents, demo) -----------------------------------------------


@transaction.atomic
def routing_create_draft(*, part_revision, description: str = "", actor=None) -> Routing:
    """A new empty draft: the next revision number of that part revision's routing."""
    if Routing.objects.filter(part_revision=part_revision, status=RoutingStatus.DRAFT).exists():
        raise RoutingTransitionRefused(
            gettext("%(part_revision)s already has a draft routing; edit that one") % {"part_revision": part_revision},
            field="status",
        )
    latest = Routing.objects.filter(part_revision=part_revision).order_by("-revision").first()
    return Routing.objects.create(
        part_revision=part_revision,
        revision=(latest.revision + 1) if latest else 1,
        description=description,
        created_by=actor,
    )


@transaction.atomic
def routing_step_add(
    *,
    routing: Routing,
    sequence: int,
    operation: Operation,
    title: str,
    work_center=None,
    instructions: str = "",
    signoff: str = RoutingStep.Signoff.OPERATOR,
    may_run_out_of_order: bool = False,
) -> RoutingStep:
    routing_ensure_editable(routing)
    if routing.steps.filter(sequence=sequence).exists():
        raise RoutingNotEditable(
            gettext("step %(sequence)s already exists on this routing") % {"sequence": sequence}, field="sequence"
        )
    if work_center is not None and work_center.active is False:
        raise RoutingNotEditable(
            gettext("work center %(work_center)s is inactive") % {"work_center": work_center}, field="work_center"
        )
    return RoutingStep.objects.create(
        routing=routing,
        sequence=sequence,
        operation=operation,
        work_center=work_center,
        title=title,
        instructions=instructions,
        signoff=signoff,
        may_run_out_of_order=may_run_out_of_order,
    )


@transaction.atomic
def characteristic_add(
    *,
    step: RoutingStep,
    code: str,
    name: str,
    kind: str = Characteristic.Kind.NUMERIC,
    unit: str = "",
    nominal=None,
    lower_limit=None,
    upper_limit=None,
    decimals: int = 3,
    choices: list | None = None,
    required: bool = True,
    on_out_of_spec: str = Characteristic.OnOutOfSpec.HOLD,
    sequence: int | None = None,
) -> Characteristic:
    """Add a characteristic to a draft step; refuses a bad unit or disordered limits naming the field."""
    routing_ensure_editable(step.routing)
    problems = characteristic_problems(
        kind=kind, unit=unit, nominal=nominal, lower_limit=lower_limit, upper_limit=upper_limit, choices=choices
    )
    if problems:
        field, message = problems[0]
        error = InvalidUnit if field == "unit" else InvalidLimits
        raise error(message, field=field)
    if sequence is None:
        sequence = (step.characteristics.count() + 1) * 10
    return Characteristic.objects.create(
        step=step,
        sequence=sequence,
        code=code,
        name=name,
        kind=kind,
        unit=unit.strip(),
        nominal=nominal,
        lower_limit=lower_limit,
        upper_limit=upper_limit,
        decimals=decimals,
        choices=choices or [],
        required=required,
        on_out_of_spec=on_out_of_spec,
    )


@transaction.atomic
def routing_step_component_add(*, step: RoutingStep, part, quantity=1) -> RoutingStepComponent:
    """Declare that a draft step installs `quantity` of `part` (its bill of materials)."""
    from decimal import Decimal, InvalidOperation

    routing_ensure_editable(step.routing)
    try:
        quantity = Decimal(str(quantity))
    except InvalidOperation:
        raise RoutingNotEditable(
            gettext("'%(quantity)s' is not a quantity") % {"quantity": quantity}, field="quantity"
        ) from None
    if not quantity.is_finite() or quantity <= 0:
        raise RoutingNotEditable(gettext("the quantity must be positive"), field="quantity")
    if part.pk == step.routing.part_revision.part_id:
        raise RoutingNotEditable(gettext("a part cannot consume itself"), field="part")
    if step.components.filter(part=part).exists():
        raise RoutingNotEditable(
            gettext("step %(sequence)s already consumes %(number)s")
            % {"sequence": step.sequence, "number": part.number},
            field="part",
        )
    return RoutingStepComponent.objects.create(step=step, part=part, quantity=quantity)


ALLOWED_INSTRUCTION_TYPES = {"image/png", "image/jpeg", "image/svg+xml", "application/pdf"}
MAX_INSTRUCTION_BYTES = 20 * 1024 * 1024


@transaction.atomic
def step_attachment_add(*, step: RoutingStep, title: str, filename: str, content: bytes, content_type: str):
    """Attach a drawing or photo to a draft step's instructions, stored under its SHA-256."""
    import hashlib

    from django.core.files.base import ContentFile

    routing_ensure_editable(step.routing)
    if content_type not in ALLOWED_INSTRUCTION_TYPES:
        raise RoutingNotEditable(
            gettext("%(content_type)s is not accepted; use PNG, JPEG, SVG or PDF") % {"content_type": content_type},
            field="file",
        )
    if len(content) > MAX_INSTRUCTION_BYTES:
        raise RoutingNotEditable(
            gettext("the file is larger than %(value)s MiB") % {"value": MAX_INSTRUCTION_BYTES // 2**20}, field="file"
        )
    if not content:
        raise RoutingNotEditable(gettext("the file is empty"), field="file")
    attachment = StepAttachment(
        step=step,
        title=title,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    attachment.file.save(filename, ContentFile(content), save=False)
    attachment.save()
    return attachment
