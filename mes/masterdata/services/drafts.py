"""Building draft routings (the admin, routing documents, the demo): a draft, its steps, characteristics,
bill of materials and instruction attachments; each refuses unless the routing is still editable."""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext

from ..errors import (
    InvalidLimits,
    InvalidUnit,
    RoutingNotEditable,
    RoutingTransitionRefused,
)
from ..models import (
    Characteristic,
    Operation,
    Routing,
    RoutingStep,
    RoutingStepComponent,
    StepAttachment,
)
from ..states import RoutingStatus
from ..validation import characteristic_problems
from .lifecycle import routing_ensure_editable


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
