"""A routing's life after it is built: the checks before release, release and obsolescence (only change
control calls those: mes.masterdata.change_control), a new draft revision, and whether a routing may be edited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from ..errors import (
    RoutingNotEditable,
    RoutingTransitionRefused,
)
from ..models import (
    Characteristic,
    Routing,
    RoutingStep,
    RoutingStepComponent,
    StepAttachment,
)
from ..states import RoutingStatus, can_transition
from ..validation import characteristic_problems


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
def routing_release(*, routing: Routing, actor=None) -> Routing:
    """Release a draft; the part revision's previously released routing becomes superseded. Only change
    control calls this (mes.masterdata.change_control), after the change's two signatures; it is not
    re-exported by mes.masterdata.services for that reason."""
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
def routing_obsolete(*, routing: Routing, actor=None) -> Routing:
    """Retire a released routing. Only change control calls this, after the change's two signatures."""
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
