"""Who a user is on the shop floor: employee number (their badge), printed name, home site."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    employee_number = models.CharField(max_length=30, unique=True, help_text="Printed on the badge.")
    printed_name = models.CharField(max_length=150, help_text="The name shown beside every signature (21 CFR 11.50).")
    site = models.ForeignKey("masterdata.Site", on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        ordering = ["employee_number"]

    def __str__(self) -> str:
        return f"{self.printed_name} ({self.employee_number})"


class SigningCredential(models.Model):
    """A user's signing secret state (21 CFR 11.200, 11.300): the optional personal PIN, failed
    attempts, the lock, and whether an administrator's reset obliges them to choose a new secret."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signing")
    pin_hash = models.CharField(max_length=128, blank=True)
    pin_set_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    must_set_new_secret = models.BooleanField(
        default=False, help_text="Set when an administrator reset the password or PIN."
    )

    class Meta:
        permissions = [("unlock_signing", "Can unlock a user's signing after failed attempts")]

    def __str__(self) -> str:
        return f"signing credential of {self.user}"


class AuditChainHead(models.Model):
    """The newest event of each audit chain: makes a removed last event detectable."""

    chain = models.CharField(max_length=80, primary_key=True)
    last_seq = models.PositiveBigIntegerField()
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.chain} @ {self.last_seq}"


class AuditEvent(models.Model):
    """One append-only, hash-chained audit event (21 CFR 11.10(e)). The database refuses UPDATE and
    DELETE (migration trigger). Each chain (e.g. one traveler) numbers its events 1, 2, 3… and each
    event carries the hash of the one before; `manage.py verify_audit` walks the chains."""

    chain = models.CharField(max_length=80)
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True, help_text="field -> [old, new]")
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="auditevent_unique_seq_per_chain")]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="auditevent_object_idx"),
            models.Index(fields=["occurred_at"], name="auditevent_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.70): who, printed name, meaning, server UTC time,
    and the SHA-256 of the canonical content it signed. Immutable (database trigger)."""

    class Meaning(models.TextChoices):
        PERFORMED = "performed", "Performed"
        INSPECTED = "inspected", "Inspected"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        CORRECTED = "corrected", "Corrected"
        DISPOSITIONED = "dispositioned", "Dispositioned"
        SKIPPED = "skipped", "Skipped"
        REPLANNED = "replanned", "Re-planned"
        REMOVED = "removed", "Removed a component"
        RELEASED = "released", "Released a hold"
        DISPOSED = "disposed", "Approved disposal"

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=150)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    signed_at = models.DateTimeField()
    record_type = models.CharField(max_length=60)
    record_id = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10, help_text="password or pin")
    qualification = models.ForeignKey(
        "masterdata.Qualification", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    qualification_text = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="signature_record_idx")]

    def __str__(self) -> str:
        return f"{self.printed_name} — {self.get_meaning_display()} — {self.signed_at:%Y-%m-%d %H:%M:%S} UTC"

    @property
    def manifestation(self) -> str:
        """The human-readable manifestation required by 21 CFR 11.50."""
        return str(self)


class ApiToken(models.Model):
    """A bearer token for integrations and scripts: only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What uses it, e.g. 'legacy MES bridge'.")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise it in lists.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
