"""Work orders and what they make: serialized units and lots (Item)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from mes.compliance.history import tracked
from mes.masterdata.models import EACH, PartRevision, Site


class WorkOrder(models.Model):
    class Status(models.TextChoices):
        RELEASED = "released", _("Released")
        IN_PROGRESS = "in_progress", _("In progress")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    number = models.CharField(max_length=40, unique=True)
    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="work_orders")
    quantity = models.DecimalField(max_digits=12, decimal_places=3, help_text="How much to make, in quantity_unit.")
    quantity_unit = models.CharField(
        max_length=20, default=EACH, help_text="EA (pieces) or the part's unit of measure for a lot (kg, m…)."
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="work_orders")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RELEASED)
    source_system = models.CharField(max_length=60, blank=True, help_text="Legacy system it came from.")
    external_id = models.CharField(max_length=80, blank=True, help_text="Its id in that system.")
    ordered_operations = models.JSONField(
        default=list,
        blank=True,
        help_text="The route as the sender listed it (canonical operation codes), to compare with the routing.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "number"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="workorder_quantity_positive"),
            models.UniqueConstraint(
                fields=["source_system", "external_id"],
                condition=~Q(external_id=""),
                name="workorder_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.number


class Item(models.Model):
    """What a traveler follows, or what a step consumes: one serialized unit or one lot of a part.

    Produced items come from a work order; received items (purchased components, vendor lots) have
    none. A lot's `quantity_available` falls as assemblies consume it."""

    class Tracking(models.TextChoices):
        SERIAL = "serial", _("Serial")
        LOT = "lot", _("Lot")

    class Status(models.TextChoices):
        IN_PRODUCTION = "in_production", _("In production")
        AVAILABLE = "available", _("Available")
        CONSUMED = "consumed", _("Consumed")
        SCRAPPED = "scrapped", _("Scrapped")
        CANCELLED = "cancelled", _("Cancelled")  # its traveler was cancelled before work began

    part = models.ForeignKey("masterdata.Part", on_delete=models.PROTECT, related_name="items")
    part_revision = models.ForeignKey("masterdata.PartRevision", on_delete=models.PROTECT, related_name="items")
    tracking = models.CharField(max_length=6, choices=Tracking.choices)
    identifier = models.CharField(max_length=60, help_text="Serial number or lot number.")
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=1)
    quantity_available = models.DecimalField(max_digits=12, decimal_places=3, default=1)
    work_order = models.ForeignKey(WorkOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="items")
    status = models.CharField(max_length=14, choices=Status.choices, default=Status.IN_PRODUCTION)
    on_hold = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["part__number", "identifier"]
        constraints = [
            models.UniqueConstraint(fields=["part", "identifier"], name="item_unique_identifier_per_part"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_available__gte=0) & Q(quantity_available__lte=F("quantity")),
                name="item_available_within_quantity",
            ),
            models.CheckConstraint(condition=~Q(tracking="serial") | Q(quantity=1), name="item_serial_quantity_one"),
        ]
        indexes = [models.Index(fields=["identifier"], name="item_identifier_idx")]

    def __str__(self) -> str:
        return f"{self.part.number} {'S/N' if self.tracking == 'serial' else 'lot'} {self.identifier}"


def validate_numbering_pattern(value: str) -> None:
    if "{seq" not in value:
        raise ValidationError("The pattern needs {seq} (or {seq:05d}): the running number.")
    try:
        value.format(site="WIC", part="7420-101", year=2026, yy="26", seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            f"'{value}' is not a pattern Traveler can fill ({exc}); it may use {{site}}, {{part}}, {{year}}, "
            "{yy} and {seq}."
        ) from None


@tracked(exclude=("next_value",))  # the running number moves with every release; the rule is configuration
class NumberingRule(models.Model):
    """How serial or lot numbers are made at a site, for one part or for every part without a rule of
    its own: a pattern such as "{site}-{yy}-{seq:05d}" and the next running number. Used when a work
    order's travelers are released without numbers (by a supervisor, or on import)."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="numbering_rules")
    part = models.ForeignKey(
        "masterdata.Part",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="numbering_rules",
        help_text="Empty: every part of the site that has no rule of its own.",
    )
    pattern = models.CharField(
        max_length=60,
        validators=[validate_numbering_pattern],
        help_text="{site}, {part}, {year}, {yy} and {seq} (e.g. {seq:05d} for 00001), e.g. {site}-{yy}-{seq:05d}.",
    )
    next_value = models.PositiveIntegerField(default=1, help_text="The running number the next one gets.")

    class Meta:
        ordering = ["site__code", "part__number"]
        constraints = [
            models.UniqueConstraint(fields=["site", "part"], name="numberingrule_one_per_part", nulls_distinct=False)
        ]

    def __str__(self) -> str:
        return f"{self.site.code} {self.part.number if self.part_id else 'any part'}: {self.pattern}"
