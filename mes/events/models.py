"""The transactional outbox: every domain event is written here in the same transaction as the change;
the relay in integrations/ delivers it (at least once; `id` lets consumers de-duplicate)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    message_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False, help_text="Stable id for consumers.")
    created_at = models.DateTimeField()
    event_type = models.CharField(max_length=60)
    schema_version = models.PositiveSmallIntegerField(default=1)
    aggregate_type = models.CharField(max_length=40)
    aggregate_id = models.CharField(max_length=64)
    site_code = models.CharField(max_length=20, blank=True)
    work_center_code = models.CharField(max_length=30, blank=True)
    payload = models.JSONField()
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When the relay gave it a delivery for each outbound adapter."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["id"], condition=Q(delivered_at__isnull=True), name="outbox_pending_idx"),
            models.Index(fields=["id"], condition=Q(dispatched_at__isnull=True), name="outbox_undispatched_idx"),
            models.Index(fields=["aggregate_type", "aggregate_id"], name="outbox_aggregate_idx"),
            models.Index(fields=["event_type"], name="outbox_event_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.aggregate_type}:{self.aggregate_id}"


class IdempotentRequest(models.Model):
    """A write sent with an Idempotency-Key, and the answer it got (mes.idempotency): a retry of the same
    request with the same key gets this answer again instead of doing the write twice. Written in the
    same transaction as the write, so it exists exactly when the write does. Kept IDEMPOTENCY_HOURS."""

    scope = models.CharField(max_length=80, help_text="Whose key: the session's user or the bearer token's hash.")
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_unique")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
