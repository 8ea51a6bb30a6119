"""Work orders; units, lots and travelers arrive with the execution engine."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from mes.masterdata.models import PartRevision, Site


class WorkOrder(models.Model):
    class Status(models.TextChoices):
        RELEASED = "released", "Released"
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=40, unique=True)
    part_revision = models.ForeignKey(PartRevision, on_delete=models.PROTECT, related_name="work_orders")
    quantity = models.PositiveIntegerField()
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="work_orders")
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RELEASED)
    source_system = models.CharField(max_length=60, blank=True, help_text="Legacy system it came from.")
    external_id = models.CharField(max_length=80, blank=True, help_text="Its id in that system.")
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
