"""What was recorded at a step: measurements (never updated: corrections supersede) and attachments."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mes.compliance import guards as compliance_guards

from . import guards
from .travelers import TravelerCharacteristic, TravelerStep


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    return f"records/{instance.sha256[:2]}/{instance.sha256}/{filename}"


class Attachment(models.Model):
    """A photo or file taken at a step, on a measurement or an NCR; stored under its SHA-256."""

    step = models.ForeignKey(TravelerStep, on_delete=models.PROTECT, related_name="attachments")
    ncr = models.ForeignKey(
        "travelers.Nonconformance", on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_upload_to, max_length=255)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["uploaded_at", "id"]
        triggers = [
            compliance_guards.append_only("an attachment"),
            guards.insert_while_open("an attachment", via_step=True),
        ]

    def __str__(self) -> str:
        return self.filename


class Measurement(models.Model):
    """One recorded value. Never updated nor deleted (database trigger): a correction is a new row that
    supersedes it, signed, with a reason; the original stays visible beside it."""

    class Judgment(models.TextChoices):
        IN_SPEC = "in_spec", _("In spec")
        OUT_OF_SPEC = "out_of_spec", _("Out of spec")
        RECORDED = "recorded", _("Recorded (no limits)")

    class Source(models.TextChoices):
        MANUAL = "manual", _("Manual entry")
        DEVICE = "device", _("Gauge / machine")
        IMPORTED = "imported", _("Imported")

    step = models.ForeignKey(TravelerStep, on_delete=models.PROTECT, related_name="measurements")
    characteristic = models.ForeignKey(TravelerCharacteristic, on_delete=models.PROTECT, related_name="measurements")
    entered_value = models.CharField(max_length=500, help_text="Exactly what was entered.")
    entered_unit = models.CharField(max_length=30, blank=True)
    value_numeric = models.DecimalField(
        max_digits=24, decimal_places=9, null=True, blank=True, help_text="Converted to the characteristic's unit."
    )
    value_text = models.TextField(blank=True)
    value_bool = models.BooleanField(null=True, blank=True)
    attachment = models.ForeignKey(Attachment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    judgment = models.CharField(max_length=12, choices=Judgment.choices)
    deviation = models.DecimalField(
        max_digits=24,
        decimal_places=9,
        null=True,
        blank=True,
        help_text="Distance outside the nearest limit (+ above, − below); 0 in spec.",
    )
    spec_revision = models.CharField(max_length=40)
    spec_unit = models.CharField(max_length=30, blank=True)
    spec_lower = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    spec_upper = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    spec_nominal = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    device = models.CharField(max_length=200, blank=True, help_text="Gauge id or OPC UA node id.")
    device_endpoint = models.CharField(max_length=200, blank=True, help_text="The gauge's OPC UA endpoint.")
    device_raw = models.CharField(
        max_length=80, blank=True, help_text="The reading exactly as the gauge sent it, before scaling and rounding."
    )
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    correction_reason = models.TextField(blank=True)
    correction_signature = models.ForeignKey(
        "compliance.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosignature = models.ForeignKey(
        "compliance.Signature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="An inspector's co-signature of the correction (two-person rule).",
    )

    class Meta:
        ordering = ["step", "characteristic", "recorded_at", "id"]
        indexes = [
            models.Index(fields=["characteristic", "recorded_at"], name="measurement_char_time_idx"),
            models.Index(fields=["judgment"], name="measurement_judgment_idx"),
        ]
        triggers = [
            compliance_guards.append_only("a recorded value (a correction supersedes it)"),
            guards.insert_while_open("a value", via_step=True),
        ]

    def __str__(self) -> str:
        return f"{self.characteristic.code} = {self.entered_value} {self.entered_unit}".strip()
