"""A traveler: the execution record of one unit or lot along a snapshot of its routing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mes.compliance import guards as compliance_guards
from travelers.states import StepStatus, TravelerStatus

from . import guards
from .orders import Item, WorkOrder


class Traveler(models.Model):
    number = models.CharField(max_length=30, unique=True)
    item = models.OneToOneField(Item, on_delete=models.PROTECT, related_name="traveler")
    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, related_name="travelers")
    routing = models.ForeignKey(
        "masterdata.Routing",
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The routing revision bound at release (its snapshot is in the steps).",
    )
    site = models.ForeignKey("masterdata.Site", on_delete=models.PROTECT, related_name="travelers")
    status = models.CharField(max_length=20, choices=TravelerStatus.choices, default=TravelerStatus.ACTIVE)
    on_hold = models.BooleanField(default=False)
    released_at = models.DateTimeField()
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    final_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    changed_at = models.DateTimeField(
        null=True, blank=True, help_text="Time of the last change: every later change is stamped after it."
    )

    class Meta:
        ordering = ["-released_at", "number"]
        permissions = [
            ("release_traveler", "Can release travelers for a work order"),
            ("perform_step", "Can start and perform steps, record values, consume components"),
            ("inspect_step", "Can sign an inspection buy-off"),
            ("skip_step", "Can skip a step (supervisor)"),
            ("correct_measurement", "Can correct a recorded value"),
            ("hold_traveler", "Can put a traveler on hold"),
            ("release_hold", "Can release a manual hold"),
            ("raise_ncr", "Can raise a nonconformance"),
            ("disposition_ncr", "Can disposition a nonconformance"),
            ("signoff_traveler", "Can sign the final quality approval"),
            ("replan_traveler", "Can re-plan an open traveler onto another routing revision"),
            ("mrb_engineering", "Can sign a material review board disposition for engineering"),
        ]
        indexes = [
            models.Index(fields=["status", "on_hold"], name="traveler_status_idx"),
            models.Index(fields=["site", "status"], name="traveler_site_status_idx"),
        ]
        triggers = [
            guards.not_deleted("traveler"),
            guards.frozen_once("traveler", "OLD.status IN ('closed', 'scrapped')", "closed"),
            guards.frozen_fields("traveler", ["number", "item", "work_order", "site", "released_at", "released_by"]),
        ]

    def __str__(self) -> str:
        return self.number


# What a step copies at release (or when rework or a re-plan adds it): it never changes afterwards. Its
# work center may change while the step is pending (work dispatched to another cell), never after.
STEP_SNAPSHOT = [
    "traveler",
    "sequence",
    "origin",
    "source_step",
    "operation",
    "operation_alias",
    "title",
    "instructions",
    "signoff",
    "may_run_out_of_order",
    "components",
    "ncr",
    "created_at",
]


class TravelerStep(models.Model):
    """A step of the traveler: a copy of the routing step at release (or added by rework/re-plan)."""

    class Origin(models.TextChoices):
        ROUTING = "routing", _("Routing")
        REWORK = "rework", _("Rework")
        REPLAN = "replan", _("Re-plan")

    traveler = models.ForeignKey(Traveler, on_delete=models.PROTECT, related_name="steps")
    sequence = models.PositiveIntegerField()
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.ROUTING)
    source_step = models.ForeignKey(
        "masterdata.RoutingStep", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    operation = models.ForeignKey("masterdata.Operation", on_delete=models.PROTECT, related_name="+")
    operation_alias = models.CharField(max_length=60, blank=True, help_text="The site's own code, at release.")
    work_center = models.ForeignKey(
        "masterdata.WorkCenter", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=160)
    instructions = models.TextField(blank=True)
    signoff = models.CharField(max_length=20)
    may_run_out_of_order = models.BooleanField(default=False)
    components = models.JSONField(default=list, blank=True, help_text="[{part_id, part_number, quantity}]")
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    performed_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inspected_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skip_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    skip_reason = models.TextField(blank=True)
    ncr = models.ForeignKey(
        "travelers.Nonconformance",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rework_steps",
        help_text="The NCR whose rework added this step.",
    )
    created_at = models.DateTimeField(help_text="When the step joined the traveler (release, rework or re-plan).")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["traveler", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["traveler", "sequence"], name="travelerstep_unique_sequence"),
        ]
        indexes = [models.Index(fields=["work_center", "status"], name="travelerstep_wc_status_idx")]
        triggers = [
            guards.not_deleted("step"),
            guards.insert_while_open("a step"),
            guards.update_while_open("a step"),
            guards.frozen_once("step", "OLD.status IN ('completed', 'skipped')", "done", allow=("version",)),
            guards.frozen_fields("step", STEP_SNAPSHOT),
            guards.refuse_when(
                "work_center_while_pending",
                "OLD.status <> 'pending' AND OLD.work_center_id IS DISTINCT FROM NEW.work_center_id",
                "step % has started: its work center never changes",
            ),
            guards.set_once("step", ["performed_signature_id", "inspected_signature_id", "skip_signature_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} {self.title}"

    @property
    def requires_inspection(self) -> bool:
        return self.signoff == "operator+inspector"


class TravelerCharacteristic(models.Model):
    """The spec a value is judged against: copied from the routing at release, never changed after."""

    step = models.ForeignKey(TravelerStep, on_delete=models.PROTECT, related_name="characteristics")
    source = models.ForeignKey(
        "masterdata.Characteristic", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    spec_revision = models.CharField(max_length=40, help_text="Part rev / routing rev the limits came from.")
    sequence = models.PositiveIntegerField()
    code = models.CharField(max_length=40)
    name = models.CharField(max_length=160)
    kind = models.CharField(max_length=12)
    unit = models.CharField(max_length=30, blank=True)
    nominal = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    lower_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    upper_limit = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    decimals = models.PositiveSmallIntegerField(default=3)
    choices = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=True)
    on_out_of_spec = models.CharField(max_length=8)
    device_endpoint = models.CharField(max_length=200, blank=True, help_text="OPC UA endpoint of the gauge.")
    device_node = models.CharField(max_length=200, blank=True, help_text="OPC UA node id of the value.")
    device_unit = models.CharField(max_length=30, blank=True)
    device_scale = models.DecimalField(max_digits=18, decimal_places=9, default=1)

    class Meta:
        ordering = ["step", "sequence", "id"]
        constraints = [models.UniqueConstraint(fields=["step", "code"], name="travelerchar_unique_code")]
        triggers = [
            compliance_guards.append_only("a traveler characteristic (frozen at release; a re-plan adds new ones)"),
            guards.insert_on_pending_step(),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Hold(models.Model):
    """Why a traveler is held; it stays held while any hold is open."""

    class Kind(models.TextChoices):
        MANUAL = "manual", _("Manual")
        NONCONFORMANCE = "ncr", _("Nonconformance")

    traveler = models.ForeignKey(Traveler, on_delete=models.PROTECT, related_name="holds")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.TextField()
    ncr = models.ForeignKey(
        "travelers.Nonconformance", on_delete=models.PROTECT, null=True, blank=True, related_name="holds"
    )
    placed_at = models.DateTimeField()
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    release_reason = models.TextField(blank=True)
    release_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["traveler", "placed_at"]
        indexes = [models.Index(fields=["traveler"], condition=Q(released_at__isnull=True), name="hold_open_idx")]
        triggers = [
            guards.not_deleted("hold"),
            guards.insert_while_open("a hold"),
            guards.update_while_open("a hold"),
            guards.frozen_once("hold", "OLD.released_at IS NOT NULL", "released"),
            guards.frozen_fields("hold", ["traveler", "kind", "reason", "ncr", "placed_at", "placed_by"]),
        ]

    def __str__(self) -> str:
        return f"hold on {self.traveler}: {self.reason[:40]}"


class TravelerReplan(models.Model):
    """A signed re-plan of an open traveler onto another released routing revision of its part revision.
    The routing a traveler followed at any moment is known from these (signatures are rebuilt with it)."""

    traveler = models.ForeignKey(Traveler, on_delete=models.PROTECT, related_name="replans")
    from_routing = models.ForeignKey("masterdata.Routing", on_delete=models.PROTECT, related_name="+")
    to_routing = models.ForeignKey("masterdata.Routing", on_delete=models.PROTECT, related_name="+")
    replanned_at = models.DateTimeField()
    replanned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    signature = models.ForeignKey("compliance.Signature", on_delete=models.PROTECT, related_name="+")
    skipped_steps = models.JSONField(default=list, help_text="Sequences of the pending steps it skipped.")
    added_steps = models.JSONField(default=list, help_text="Sequences of the steps it added.")

    class Meta:
        ordering = ["traveler", "replanned_at", "id"]
        triggers = [
            compliance_guards.append_only("a re-plan"),
            guards.insert_while_open("a re-plan"),
        ]

    def __str__(self) -> str:
        return f"re-plan of {self.traveler} at {self.replanned_at:%Y-%m-%d %H:%M}"


class WorkCenterOverride(models.Model):
    """A supervisor's signed leave for a step to be worked at a station (work center) other than the one its
    routing names: without it, a tablet standing at another work center may not start the step or record
    its values (travelers.services.stations)."""

    traveler = models.ForeignKey(Traveler, on_delete=models.PROTECT, related_name="work_center_overrides")
    step = models.ForeignKey(TravelerStep, on_delete=models.PROTECT, related_name="work_center_overrides")
    work_center = models.ForeignKey(
        "masterdata.WorkCenter", on_delete=models.PROTECT, related_name="+", help_text="Where the step may be worked."
    )
    reason = models.TextField()
    granted_at = models.DateTimeField()
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", help_text="Who was at the tablet."
    )
    signature = models.ForeignKey("compliance.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["traveler", "granted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["step", "work_center"], name="work_center_override_once"),
        ]
        triggers = [
            compliance_guards.append_only("a work center override"),
            guards.insert_while_open("a work center override"),
        ]

    def __str__(self) -> str:
        return f"step {self.step_id} allowed at work center {self.work_center_id}"
