"""Adapters beside the legacy MES: their configuration, checkpoints, the inbox (idempotent, with the raw
payload kept as provenance), dead letters, and per-adapter delivery of outbox events."""

from __future__ import annotations

import os

from django.conf import settings as django_settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mes.compliance.history import tracked


@tracked(exclude=("state", "last_success_at", "last_error", "last_error_at"))  # run state, not configuration
class Adapter(models.Model):
    class Kind(models.TextChoices):
        LEGACY_DB = "legacy_db", _("Legacy database")
        FILE_DROP = "file_drop", _("File drop (B2MML / CSV)")
        WEBHOOK = "webhook", _("REST webhook (outbound)")
        REST_INBOUND = "rest_inbound", _("REST push (inbound)")
        MQTT = "mqtt", _("MQTT")
        OPCUA = "opcua", _("OPC UA")
        ARCHIVE = "archive", _("Data-lake archive (outbound)")

    class State(models.TextChoices):
        IDLE = "idle", _("Idle")
        OK = "ok", _("OK")
        FAILING = "failing", _("Failing")
        DISABLED = "disabled", _("Disabled")

    class ReleasePolicy(models.TextChoices):
        SUPERVISOR = "supervisor", _("Wait for a supervisor (Supervisor → Release travelers)")
        ON_IMPORT = "on_import", _("Release travelers on import")

    name = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    site = models.ForeignKey("masterdata.Site", on_delete=models.PROTECT, null=True, blank=True)
    source_system = models.CharField(max_length=60, help_text="Name used to resolve this system's codes (aliases).")
    inbound = models.BooleanField(default=True, help_text="Brings work orders or data in.")
    outbound = models.BooleanField(default=False, help_text="Receives Traveler's events from the outbox.")
    settings = models.JSONField(default=dict, blank=True, help_text="Connection settings; never secrets.")
    secret_env = models.CharField(
        max_length=80, blank=True, help_text="Name of the environment variable that holds this adapter's secret."
    )
    schedule_seconds = models.PositiveIntegerField(default=60, help_text="How often a polling adapter runs.")
    release_policy = models.CharField(
        max_length=12,
        choices=ReleasePolicy.choices,
        default=ReleasePolicy.SUPERVISOR,
        help_text="What happens to the work orders this adapter brings in: their travelers are released at once "
        "(serial and lot numbers from the message, else the site's numbering rule), or a supervisor releases them.",
    )
    release_as = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The account travelers are released as on import (it needs the permission to release "
        "travelers); it is named in their audit trail.",
    )
    enabled = models.BooleanField(default=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.IDLE)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("push_work_orders", "Can push work orders through a REST inbound adapter"),
            ("view_sync_status", "Can see the sync status page"),
            ("reprocess_message", "Can reprocess an inbound message (dead letter)"),
            ("view_capability", "Can see cross-site capability, yields and NCR Paretos (the warehouse)"),
        ]

    def __str__(self) -> str:
        return self.name

    def secret(self) -> str:
        """The adapter's secret, read from the environment at use; empty if none is configured."""
        return os.environ.get(self.secret_env, "") if self.secret_env else ""


class Checkpoint(models.Model):
    """Where an adapter got to (last row id, last file, last timestamp): a restart resumes from here."""

    adapter = models.ForeignKey(Adapter, on_delete=models.CASCADE, related_name="checkpoints")
    key = models.CharField(max_length=60)
    value = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["adapter", "key"], name="checkpoint_unique_key")]

    def __str__(self) -> str:
        return f"{self.adapter}:{self.key}={self.value[:40]}"


class InboxMessage(models.Model):
    """One inbound message, kept with its raw payload. The idempotency key (source, external id,
    version) makes a repeat change nothing. A message that cannot be processed is a dead letter: kept
    with its payload and a plain reason, reprocessable once the cause is fixed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSED = "processed", _("Processed")
        DEAD = "dead", _("Dead letter")

    adapter = models.ForeignKey(Adapter, on_delete=models.PROTECT, related_name="inbox")
    idempotency_key = models.CharField(max_length=300, unique=True)
    source = models.CharField(max_length=200, help_text="File name, topic, table or URL it came from.")
    external_id = models.CharField(max_length=120)
    version = models.CharField(max_length=60, default="1")
    message_type = models.CharField(max_length=60, help_text="e.g. b2mml.SyncProductionSchedule, csv.work_orders")
    payload = models.TextField(help_text="Exactly as received.")
    payload_sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True, help_text="Why it is a dead letter, in plain words.")
    processed_at = models.DateTimeField(null=True, blank=True)
    produced = models.JSONField(default=dict, blank=True, help_text='What it made, e.g. {"work_orders": ["WO-1"]}')

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbox_status_idx"),
            models.Index(fields=["adapter", "status"], name="inbox_adapter_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.adapter}:{self.external_id} v{self.version} ({self.status})"


class WorkOrderProvenance(models.Model):
    """Which inbound message made or changed which work order, and what it did to it (with the rules
    applied: a revision the message did not name, a unit converted, a route that differs): for
    reconciliation, for the archive, and for anyone asking why the order is as it is."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        UNCHANGED = "unchanged", _("Sent again, unchanged")
        CANCELLED = "cancelled", _("Cancelled")
        CONFLICT = "conflict", _("Conflict (not applied)")

    work_order = models.ForeignKey("travelers.WorkOrder", on_delete=models.PROTECT, related_name="provenance")
    message = models.ForeignKey(InboxMessage, on_delete=models.PROTECT, related_name="work_orders")
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.CREATED)
    note = models.TextField(blank=True, help_text="What the import decided and why, in plain words.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["work_order", "message"], name="provenance_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order} ← {self.message}"


class OutboxDelivery(models.Model):
    """Delivery of one outbox message to one outbound adapter (at least once)."""

    message = models.ForeignKey("events.OutboxMessage", on_delete=models.CASCADE, related_name="deliveries")
    adapter = models.ForeignKey(Adapter, on_delete=models.CASCADE, related_name="deliveries")
    delivered_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    first_failed_at = models.DateTimeField(null=True, blank=True, help_text="Its first failed attempt.")
    dead_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Dead-lettered for this adapter: it kept failing while the adapter took other messages.",
    )

    class Meta:
        verbose_name_plural = "outbox deliveries"
        constraints = [models.UniqueConstraint(fields=["message", "adapter"], name="delivery_unique")]
        indexes = [
            # Each adapter's own queue, oldest first.
            models.Index(
                fields=["adapter", "message"],
                condition=Q(delivered_at__isnull=True, dead_at__isnull=True),
                name="delivery_queue_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.adapter}"


class MachineState(models.Model):
    """The latest state a machine reported (MQTT `legacy/v1/<site>/machines/<machine>/state`): one row
    per machine, overwritten by newer reports; an older report arriving late changes nothing."""

    adapter = models.ForeignKey(Adapter, on_delete=models.CASCADE, related_name="machine_states")
    site_code = models.CharField(max_length=20)
    machine = models.CharField(max_length=60)
    state = models.CharField(max_length=40, help_text="As the machine reported it, e.g. running, idle, down.")
    detail = models.JSONField(default=dict, blank=True, help_text="The whole report, as received.")
    reported_at = models.DateTimeField(help_text="When the machine said it was so (or when it arrived).")
    received_at = models.DateTimeField()

    class Meta:
        ordering = ["site_code", "machine"]
        constraints = [
            models.UniqueConstraint(fields=["site_code", "machine"], name="machinestate_unique_machine"),
        ]

    def __str__(self) -> str:
        return f"{self.site_code}/{self.machine}: {self.state}"


class Reconciliation(models.Model):
    """One parallel-run check: for one site and one day, what the legacy MES (through one adapter: its
    database or its files) and Traveler each hold of orders, operations, completions and quantities. Run
    again for the same adapter, site and day, it replaces its differences."""

    adapter = models.ForeignKey(Adapter, on_delete=models.CASCADE, related_name="reconciliations")
    site = models.ForeignKey("masterdata.Site", on_delete=models.PROTECT, related_name="+")
    day = models.DateField(help_text="The site's calendar day compared.")
    ran_at = models.DateTimeField()
    seconds = models.FloatField(default=0, help_text="How long the comparison took.")
    summary = models.JSONField(default=dict, blank=True, help_text="What each side held: counts.")
    error = models.TextField(blank=True, help_text="Why the legacy side could not be read, when it could not.")

    class Meta:
        ordering = ["-day", "site__code", "adapter__name"]
        constraints = [
            models.UniqueConstraint(fields=["adapter", "site", "day"], name="reconciliation_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.adapter} {self.site_id} {self.day}"


class ReconciliationDifference(models.Model):
    class Kind(models.TextChoices):
        ORDER_MISSING_IN_TRAVELER = "order_missing_in_traveler", _("Order missing in Traveler")
        ORDER_MISSING_IN_LEGACY = "order_missing_in_legacy", _("Order missing in the legacy MES")
        QUANTITY_MISMATCH = "quantity_mismatch", _("Order quantity differs")
        OPERATIONS_MISMATCH = "operations_mismatch", _("Operations differ")
        STATUS_MISMATCH = "status_mismatch", _("Status differs")
        COMPLETION_MISSING_IN_LEGACY = "completion_missing_in_legacy", _("Completion missing in the legacy MES")
        COMPLETION_MISSING_IN_TRAVELER = "completion_missing_in_traveler", _("Completion missing in Traveler")
        COMPLETION_QUANTITY_MISMATCH = "completion_quantity_mismatch", _("Completed quantity differs")

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(max_length=40, choices=Kind.choices)
    work_order = models.CharField(max_length=80)
    traveler = models.CharField(max_length=30, blank=True)
    legacy_value = models.CharField(max_length=500, blank=True, help_text="What the legacy MES holds.")
    traveler_value = models.CharField(max_length=500, blank=True, help_text="What Traveler holds.")
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["work_order", "traveler", "kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.work_order} {self.traveler}".strip()
