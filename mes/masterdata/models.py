"""The shared data model: what an operation, part, routing and characteristic are, whatever each
site's legacy system calls them. Models hold data and invariants; workflows live in
mes.masterdata.services."""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from mes.compliance.history import tracked

from . import guards
from .errors import InvalidUnit
from .states import RoutingStatus
from .units import parse_unit
from .validation import characteristic_problems

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "Use letters, digits and . _ / - only, starting with a letter or digit."
)


EACH = "EA"  # a count of pieces


def validate_quantity_unit(value: str) -> None:
    if value == EACH:
        return
    try:
        parse_unit(value, field="quantity_unit")
    except InvalidUnit as exc:
        raise ValidationError(f"'{value}' is neither EA (pieces) nor a unit of measure (kg, g, m, L).") from exc


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not an IANA time zone (e.g. Europe/Paris).")


@tracked()
class Site(models.Model):
    code = models.CharField(max_length=20, unique=True, validators=[code_validator])
    name = models.CharField(max_length=120)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="The language of this site's screens for people who chose none; blank: each browser's.",
    )
    legacy_system = models.CharField(
        max_length=60, blank=True, help_text="Name of this site's legacy MES, used to resolve its codes."
    )
    cosign_corrections = models.BooleanField(
        default=True,
        help_text="Correcting an out-of-spec value, or any value after an NCR disposition, needs an inspector's "
        "co-signature.",
    )
    mrb_dispositions = models.BooleanField(
        default=True,
        help_text="'Use as is' and 'repair' dispositions need a material review board: quality and engineering "
        "signatures.",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


@tracked()
class WorkCenter(models.Model):
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="work_centers")
    code = models.CharField(max_length=30, validators=[code_validator])
    name = models.CharField(max_length=120)
    area = models.CharField(
        max_length=30,
        blank=True,
        validators=[code_validator],
        help_text="The ISA-95 area it belongs to (machining, finishing…): a level of the MQTT topics.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["site__code", "code"]
        constraints = [models.UniqueConstraint(fields=["site", "code"], name="workcenter_unique_code_per_site")]

    def __str__(self) -> str:
        return f"{self.site.code}/{self.code}"


@tracked()
class Operation(models.Model):
    """A canonical kind of work (Coating), the same at every site."""

    code = models.CharField(max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


@tracked()
class OperationAlias(models.Model):
    """What one site's (or one system's) legacy code means: (source system, site, code) -> operation.

    `site` empty means the code holds for every site of that source system (a company-wide ERP)."""

    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="aliases")
    source_system = models.CharField(max_length=60)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="aliases")
    code = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_system", "site__code", "code"]
        verbose_name_plural = "operation aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "site", "code"],
                name="operationalias_unique_code",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "*"
        return f"{self.source_system}@{where}:{self.code} → {self.operation.code}"


class UnmappedCode(models.Model):
    """A code seen on the way in that no alias maps: queued for an engineer, never guessed. An operation
    code is mapped to an operation (an OperationAlias), a part code to a part (a PartAlias)."""

    class Kind(models.TextChoices):
        OPERATION = "operation", _("Operation")
        PART = "part", _("Part")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.OPERATION)
    source_system = models.CharField(max_length=60)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True)
    code = models.CharField(max_length=60)
    context = models.JSONField(default=dict, blank=True, help_text="Where it was last seen (file, message, row).")
    occurrences = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_alias = models.ForeignKey(OperationAlias, on_delete=models.SET_NULL, null=True, blank=True)
    resolved_part_alias = models.ForeignKey(
        "PartAlias", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["resolved_at", "-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_system", "site", "code"],
                condition=Q(resolved_at__isnull=True),
                name="unmappedcode_one_open_entry",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.source_system}@{self.site.code if self.site_id else '*'}:{self.code}"


@tracked()
class Part(models.Model):
    class Tracking(models.TextChoices):
        SERIAL = "serial", _("Serialized (one traveler per unit)")
        LOT = "lot", _("Lot (one traveler per lot)")

    number = models.CharField(max_length=40, unique=True, validators=[code_validator])
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    tracking = models.CharField(max_length=10, choices=Tracking.choices, default=Tracking.SERIAL)
    quantity_unit = models.CharField(
        max_length=20,
        default=EACH,
        validators=[validate_quantity_unit],
        help_text="What a lot of this part is counted in: EA (pieces) or a unit of measure (kg, g, m, L). "
        "A serialized part is always counted in EA.",
    )
    customer = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


@tracked()
class PartAlias(models.Model):
    """What one system's (or one site's) material number means: (source system, site, code) -> part.
    `site` empty means the code holds for every site of that source system (a company-wide ERP)."""

    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="aliases")
    source_system = models.CharField(max_length=60)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, null=True, blank=True, related_name="part_aliases")
    code = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source_system", "site__code", "code"]
        verbose_name_plural = "part aliases"
        constraints = [
            models.UniqueConstraint(
                fields=["source_system", "site", "code"], name="partalias_unique_code", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site_id else "*"
        return f"{self.source_system}@{where}:{self.code} → {self.part.number}"


@tracked()
class PartRevision(models.Model):
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="revisions")
    revision = models.CharField(max_length=10)
    description = models.CharField(max_length=200, blank=True)
    drawing_number = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["part__number", "revision"]
        constraints = [models.UniqueConstraint(fields=["part", "revision"], name="partrevision_unique")]

    def __str__(self) -> str:
        return f"{self.part.number} rev {self.revision}"


@tracked()
class Routing(models.Model):
    """One revision of the route that makes a part revision. Released revisions are immutable,
    enforced by the services and by database triggers (mes.masterdata.guards)."""

    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="routings")
    revision = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=RoutingStatus.choices, default=RoutingStatus.DRAFT)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    based_on = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["part_revision__part__number", "part_revision__revision", "-revision"]
        constraints = [
            models.UniqueConstraint(fields=["part_revision", "revision"], name="routing_unique_revision"),
            models.UniqueConstraint(
                fields=["part_revision"],
                condition=Q(status=RoutingStatus.RELEASED),
                name="routing_one_released_per_part_revision",
            ),
        ]
        triggers = [guards.routing_guard()]

    def __str__(self) -> str:
        return f"{self.part_revision} routing r{self.revision} ({self.status})"

    @property
    def is_editable(self) -> bool:
        return self.status == RoutingStatus.DRAFT


@tracked()
class RoutingStep(models.Model):
    class Signoff(models.TextChoices):
        OPERATOR = "operator", _("Operator signs")
        OPERATOR_AND_INSPECTOR = "operator+inspector", _("Operator signs, inspector buys off")

    routing = models.ForeignKey(Routing, on_delete=models.CASCADE, related_name="steps")
    sequence = models.PositiveIntegerField(help_text="Order along the route: 10, 20, 30…")
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="+")
    work_center = models.ForeignKey(WorkCenter, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    title = models.CharField(max_length=160)
    instructions = models.TextField(blank=True, help_text="Work instructions (Markdown).")
    signoff = models.CharField(max_length=20, choices=Signoff.choices, default=Signoff.OPERATOR)
    may_run_out_of_order = models.BooleanField(
        default=False, help_text="May start before the steps ahead of it are complete."
    )

    class Meta:
        ordering = ["routing", "sequence"]
        constraints = [models.UniqueConstraint(fields=["routing", "sequence"], name="routingstep_unique_sequence")]
        triggers = [guards.content_guard(via_step=False)]

    def __str__(self) -> str:
        return f"{self.sequence} {self.title}"

    @property
    def requires_inspection(self) -> bool:
        return self.signoff == self.Signoff.OPERATOR_AND_INSPECTOR


def instruction_upload_to(instance: StepAttachment, filename: str) -> str:
    return f"instructions/{instance.sha256[:2]}/{instance.sha256}/{filename}"


@tracked()
class StepAttachment(models.Model):
    """A drawing or photo that belongs to a step's work instructions."""

    step = models.ForeignKey(RoutingStep, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(max_length=160)
    file = models.FileField(upload_to=instruction_upload_to, max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["step", "id"]
        triggers = [guards.content_guard(via_step=True)]

    def __str__(self) -> str:
        return self.title


@tracked()
class Characteristic(models.Model):
    class Kind(models.TextChoices):
        NUMERIC = "numeric", _("Numeric")
        TEXT = "text", _("Text")
        PASS_FAIL = "pass_fail", _("Pass / fail")
        CHOICE = "choice", _("Choice")
        ATTACHMENT = "attachment", _("Attachment (photo, file)")

    class OnOutOfSpec(models.TextChoices):
        HOLD = "hold", _("Hold the traveler and open a nonconformance")
        WARN = "warn", _("Warn only")

    step = models.ForeignKey(RoutingStep, on_delete=models.CASCADE, related_name="characteristics")
    sequence = models.PositiveIntegerField(default=10)
    code = models.CharField(max_length=40, validators=[code_validator], help_text="Stable key, e.g. BORE_DIA.")
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NUMERIC)
    unit = models.CharField(max_length=30, blank=True, help_text="pint unit: mm, in, N*m, degC, um…")
    nominal = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    lower_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    upper_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    decimals = models.PositiveSmallIntegerField(default=3)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed answers for a choice.")
    required = models.BooleanField(default=True)
    on_out_of_spec = models.CharField(max_length=8, choices=OnOutOfSpec.choices, default=OnOutOfSpec.HOLD)
    device_endpoint = models.CharField(max_length=200, blank=True, help_text="OPC UA endpoint of the gauge.")
    device_node = models.CharField(max_length=200, blank=True, help_text="OPC UA node id, e.g. ns=2;s=Gauge1.Value")
    device_unit = models.CharField(max_length=30, blank=True, help_text="Unit the gauge reports in (pint).")
    device_scale = models.DecimalField(
        max_digits=18, decimal_places=9, default=1, help_text="Multiply the raw reading by this first."
    )

    class Meta:
        ordering = ["step", "sequence", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "code"], name="characteristic_unique_code_per_step"),
            models.CheckConstraint(
                condition=Q(lower_limit__isnull=True)
                | Q(upper_limit__isnull=True)
                | Q(lower_limit__lte=F("upper_limit")),
                name="characteristic_limits_ordered",
            ),
        ]
        triggers = [guards.content_guard(via_step=True)]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        problems = characteristic_problems(
            kind=self.kind,
            unit=self.unit,
            nominal=self.nominal,
            lower_limit=self.lower_limit,
            upper_limit=self.upper_limit,
            choices=self.choices,
        )
        if problems:
            raise ValidationError({field: message for field, message in problems})


# What a characteristic specifies, in the order an engineer edits it (the admin) and a traveler copies it at
# release (its own snapshot of the spec); the gauge's fields apart, for the admin shows them in their own box.
SPEC_FIELDS = (
    "sequence",
    "code",
    "name",
    "kind",
    "unit",
    "nominal",
    "lower_limit",
    "upper_limit",
    "decimals",
    "choices",
    "required",
    "on_out_of_spec",
)
GAUGE_FIELDS = ("device_endpoint", "device_node", "device_unit", "device_scale")


@tracked()
class Qualification(models.Model):
    """Who may perform or inspect which operation, until when."""

    class Kind(models.TextChoices):
        PERFORM = "perform", _("Perform")
        INSPECT = "inspect", _("Inspect")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qualifications")
    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="qualifications")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    certificate = models.CharField(max_length=80, blank=True, help_text="Certificate or training record id.")
    valid_from = models.DateField()
    expires_on = models.DateField()

    class Meta:
        ordering = ["user__username", "operation__code", "kind"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_on__gte=F("valid_from")), name="qualification_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.user} may {self.kind} {self.operation.code} until {self.expires_on}"


@tracked()
class RoutingStepComponent(models.Model):
    """A component a step consumes (the step's bill of materials): which part, how many."""

    step = models.ForeignKey(RoutingStep, on_delete=models.CASCADE, related_name="components")
    part = models.ForeignKey(Part, on_delete=models.PROTECT, related_name="+")
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1)

    class Meta:
        ordering = ["step", "part__number"]
        constraints = [
            models.UniqueConstraint(fields=["step", "part"], name="routingstepcomponent_unique_part"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="routingstepcomponent_quantity_positive"),
        ]
        triggers = [guards.content_guard(via_step=True)]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.part.number}"


class RoutingChange(models.Model):
    """A routing's release or obsolescence under change control (mes.masterdata.change_control): why, what
    differs, and two signatures by different people — engineering and quality. Never deleted; once
    approved or withdrawn, never changed (database guard)."""

    class Action(models.TextChoices):
        RELEASE = "release", _("Release")
        OBSOLETE = "obsolete", _("Make obsolete")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for signatures")
        APPROVED = "approved", _("Approved and done")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    routing = models.ForeignKey(Routing, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    reference = models.CharField(max_length=60, blank=True, help_text="Change order (ECO/ECN) reference.")
    reason = models.TextField()
    diff = models.JSONField(default=list, blank=True, help_text="What differs from the revision in use.")
    document_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the routing's document when asked.")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    engineering_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    quality_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [
            ("approve_routing_engineering", "Can sign a routing change for engineering"),
            ("approve_routing_quality", "Can sign a routing change for quality"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["routing"], condition=Q(status="open"), name="routingchange_one_open_per_routing"
            )
        ]
        triggers = [guards.change_guard()]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.routing} ({self.get_status_display().lower()})"
