"""Nonconformance reports: raised by an out-of-spec value or by hand; the traveler is held until quality
signs a disposition."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from travelers.states import NcrStatus

from . import guards
from .travelers import Traveler, TravelerStep


class Nonconformance(models.Model):
    class Disposition(models.TextChoices):
        USE_AS_IS = "use_as_is", _("Use as is")
        REWORK = "rework", _("Rework")
        REPAIR = "repair", _("Repair")
        SCRAP = "scrap", _("Scrap")
        RETURN_TO_VENDOR = "rtv", _("Return to vendor")

    number = models.CharField(max_length=20, unique=True)
    traveler = models.ForeignKey(Traveler, on_delete=models.PROTECT, related_name="ncrs")
    step = models.ForeignKey(TravelerStep, on_delete=models.PROTECT, null=True, blank=True, related_name="ncrs")
    measurement = models.ForeignKey(
        "travelers.Measurement", on_delete=models.PROTECT, null=True, blank=True, related_name="ncrs"
    )
    description = models.TextField()
    status = models.CharField(max_length=8, choices=NcrStatus.choices, default=NcrStatus.OPEN)
    raised_at = models.DateTimeField()
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    automatic = models.BooleanField(default=False, help_text="Raised by an out-of-spec value.")
    disposition = models.CharField(max_length=10, choices=Disposition.choices, blank=True)
    disposition_notes = models.TextField(blank=True)
    dispositioned_at = models.DateTimeField(null=True, blank=True)
    disposition_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mrb_signature = models.ForeignKey(
        "compliance.Signature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Engineering's signature of a material review board disposition (use as is, repair).",
    )

    class Meta:
        ordering = ["-raised_at"]
        indexes = [models.Index(fields=["status"], name="ncr_status_idx")]
        triggers = [
            guards.not_deleted("nonconformance"),
            guards.insert_while_open("a nonconformance"),
            guards.update_while_open("a nonconformance"),
            guards.frozen_once("nonconformance", "OLD.status = 'closed'", "dispositioned"),
            guards.frozen_fields(
                "nonconformance",
                ["number", "traveler", "step", "measurement", "description", "raised_at", "raised_by", "automatic"],
            ),
        ]

    def __str__(self) -> str:
        return self.number
