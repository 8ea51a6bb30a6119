"""As-built genealogy: which component units and lots went into which traveler's item."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from . import guards
from .orders import Item
from .travelers import Traveler, TravelerStep


class Consumption(models.Model):
    """A component consumed at a step. Removing it (rework) is a signed event that ends `active`;
    the row itself stays, so the history of what was ever installed is kept."""

    traveler = models.ForeignKey(Traveler, on_delete=models.PROTECT, related_name="consumptions")
    step = models.ForeignKey(TravelerStep, on_delete=models.PROTECT, related_name="consumptions")
    component = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="consumed_in")
    component_is_serial = models.BooleanField()
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    consumed_at = models.DateTimeField()
    consumed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    active = models.BooleanField(default=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    removal_reason = models.TextField(blank=True)
    removal_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["consumed_at", "id"]
        constraints = [
            # A serial number is installed in one place at a time, whatever the race.
            models.UniqueConstraint(
                fields=["component"],
                condition=Q(active=True, component_is_serial=True),
                name="consumption_serial_once",
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="consumption_quantity_positive"),
        ]
        indexes = [models.Index(fields=["component"], name="consumption_component_idx")]
        triggers = [
            guards.not_deleted("consumption"),
            guards.insert_while_open("a consumption"),
            guards.update_while_open("a consumption"),
            guards.frozen_once("consumption", "OLD.active = false", "removed"),
            guards.frozen_fields(
                "consumption",
                ["traveler", "step", "component", "component_is_serial", "quantity", "consumed_at", "consumed_by"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.component} in {self.traveler}"
