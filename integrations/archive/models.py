"""The data-lake archive's index in PostgreSQL: one record per archived traveler package, the
retention rules that say how long it must be kept, and signed disposals."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models

from mes.compliance import guards
from mes.compliance.history import tracked

# What re-verifying a package may update on its record; everything else is written once.
VERIFICATION_FIELDS = ["last_verified_at", "last_verify_ok", "last_verify_problem"]


@tracked()
class RetentionClass(models.Model):
    """How long records must be kept, e.g. 10 years, 30 years, life of product (no end)."""

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=120)
    years = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: life of product (no end).")
    customer = models.CharField(max_length=120, blank=True, help_text="Applies to this customer's parts.")
    part = models.ForeignKey(
        "masterdata.Part",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Applies to this part (wins over the customer rule).",
    )
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "retention classes"

    def __str__(self) -> str:
        return self.name


class ArchiveRecord(models.Model):
    """One archived traveler: where its BagIt package is, its fixity, and enough metadata to find it
    without opening it (also after the traveler's rows have left the live database)."""

    traveler_number = models.CharField(max_length=30, unique=True)
    traveler = models.OneToOneField(
        "travelers.Traveler", on_delete=models.SET_NULL, null=True, blank=True, related_name="archive_record"
    )
    part_number = models.CharField(max_length=40)
    part_revision = models.CharField(max_length=10)
    identifier = models.CharField(max_length=60, help_text="Serial or lot number.")
    tracking = models.CharField(max_length=6)
    work_order = models.CharField(max_length=40)
    site_code = models.CharField(max_length=20)
    released_at = models.DateTimeField()
    closed_at = models.DateTimeField()
    uri = models.CharField(max_length=500, help_text="Where the package is (file path or s3:// URI).")
    package_sha256 = models.CharField(max_length=64, help_text="SHA-256 of the packed bag (tar).")
    size = models.PositiveBigIntegerField()
    schema_version = models.CharField(max_length=10)
    archived_at = models.DateTimeField()
    retention = models.ForeignKey(RetentionClass, on_delete=models.PROTECT, related_name="records")
    retain_until = models.DateField(null=True, blank=True, help_text="Empty: life of product.")
    last_verified_at = models.DateTimeField(null=True, blank=True)
    last_verify_ok = models.BooleanField(null=True, blank=True)
    last_verify_problem = models.TextField(blank=True)
    disposed_at = models.DateTimeField(null=True, blank=True)
    index_uri = models.CharField(max_length=500, blank=True, help_text="The traveler's row of the Parquet index.")
    facts_uri = models.CharField(max_length=500, blank=True, help_text="Its measurement facts (Parquet).")
    facts_rows = models.PositiveIntegerField(default=0, help_text="Values in the facts file, superseded ones too.")
    object_lock = models.CharField(
        max_length=20, blank=True, help_text="S3 Object Lock set on the package: COMPLIANCE, LEGAL_HOLD or empty."
    )

    class Meta:
        ordering = ["-closed_at"]
        permissions = [("dispose_package", "Can approve the disposal of an archived package")]
        indexes = [
            models.Index(fields=["identifier"], name="archive_identifier_idx"),
            models.Index(fields=["part_number", "part_revision"], name="archive_part_idx"),
            models.Index(fields=["work_order"], name="archive_work_order_idx"),
            models.Index(fields=["site_code", "closed_at"], name="archive_site_closed_idx"),
        ]
        triggers = [
            guards.refuse("not_deleted", pgtrigger.Delete, "archive record % is never deleted", "OLD.id"),
            guards.refuse(
                "written_once",
                pgtrigger.Update,
                "archive record %: only its verification and (once) its disposal are ever updated",
                "OLD.id",
                # the traveler link empties when the traveler's rows leave the live database
                condition=pgtrigger.AnyChange(exclude=[*VERIFICATION_FIELDS, "disposed_at", "traveler"]),
            ),
            guards.refuse(
                "disposed_once",
                pgtrigger.Update,
                "archive record % was disposed of: that never changes",
                "OLD.id",
                condition=pgtrigger.Condition(
                    "(OLD.disposed_at IS NOT NULL AND OLD.disposed_at IS DISTINCT FROM NEW.disposed_at)"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.traveler_number} → {self.uri}"


class Disposal(models.Model):
    """The signed approval and the record of disposing of a package after its retain-until date."""

    record = models.OneToOneField(ArchiveRecord, on_delete=models.PROTECT, related_name="disposal")
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approval_signature = models.ForeignKey("compliance.Signature", on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    disposed_at = models.DateTimeField()

    class Meta:
        triggers = [guards.append_only("a disposal")]

    def __str__(self) -> str:
        return f"disposal of {self.record.traveler_number}"


class ArchiveAttempt(models.Model):
    """A traveler whose archiving failed and waits for the next try (the visible backlog says why).
    Removed when the package is written."""

    traveler = models.OneToOneField(
        "travelers.Traveler", on_delete=models.CASCADE, related_name="archive_attempt", null=True, blank=True
    )
    traveler_number = models.CharField(max_length=30, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    first_failed_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["first_failed_at"]

    def __str__(self) -> str:
        return f"{self.traveler_number}: {self.attempts} failed attempt(s)"
