"""Admin of the integrations: adapters are configured here (a secret is named by its environment
variable, never stored or shown); inbox messages, deliveries and provenance are records, read-only,
with an action to reprocess dead letters."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from .inbox import inbox_reprocess
from .models import (
    Adapter,
    Checkpoint,
    InboxMessage,
    MachineState,
    OutboxDelivery,
    Reconciliation,
    ReconciliationDifference,
    WorkOrderProvenance,
)


class ReadOnlyAdmin(LeanModelAdmin):
    """Records of what happened: viewable, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CheckpointInline(admin.StackedInline):  # stacked: every field has its label, and fits a tablet
    model = Checkpoint
    extra = 0
    fields = ["key", "value", "updated_at"]
    readonly_fields = ["updated_at"]


class AdapterForm(forms.ModelForm):
    class Meta:
        model = Adapter
        fields = [
            "name",
            "kind",
            "site",
            "source_system",
            "inbound",
            "outbound",
            "enabled",
            "release_policy",
            "release_as",
            "settings",
            "secret_env",
            "schedule_seconds",
        ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("release_policy") == Adapter.ReleasePolicy.ON_IMPORT:
            user = cleaned.get("release_as")
            if user is None:
                self.add_error("release_as", _("Name the account travelers are released as on import."))
            elif not user.is_active or not user.has_perm("travelers.release_traveler"):
                self.add_error("release_as", _("%(user)s may not release travelers.") % {"user": user})
        return cleaned


@admin.register(Adapter)
class AdapterAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    list_display = ["name", "kind", "site", "inbound", "outbound", "enabled", "state", "last_success_at", "secret_set"]
    list_filter = ["kind", "enabled", "state", "inbound", "outbound"]
    search_fields = ["name", "source_system"]
    readonly_fields = ["state", "last_success_at", "last_error", "last_error_at", "secret_set"]
    inlines = [CheckpointInline]
    fieldsets = [
        (None, {"fields": ["name", "kind", "site", "source_system", "inbound", "outbound", "enabled"]}),
        (_("Work orders in"), {"fields": ["release_policy", "release_as"]}),
        (
            _("Connection"),
            {
                "fields": ["settings", "secret_env", "secret_set", "schedule_seconds"],
                "description": _(
                    "Settings hold no secret: name the environment variable that holds it in 'secret env'."
                ),
            },
        ),
        (_("Health"), {"fields": ["state", "last_success_at", "last_error", "last_error_at"]}),
    ]

    form = AdapterForm

    @admin.display(boolean=True, description=_("secret set"))
    def secret_set(self, obj):
        """Whether the named environment variable holds a value (never the value itself)."""
        return bool(obj.secret_env) and bool(obj.secret())


@admin.register(Checkpoint)
class CheckpointAdmin(LeanModelAdmin):
    list_display = ["adapter", "key", "short_value", "updated_at"]
    list_filter = ["adapter"]
    readonly_fields = ["updated_at"]

    @admin.display(description=_("value"))
    def short_value(self, obj):
        return obj.value[:80]


@admin.action(description=_("Reprocess the selected dead letters (and pending messages)"), permissions=["reprocess"])
def reprocess(modeladmin, request, queryset):
    done = dead = 0
    for message in queryset.exclude(status=InboxMessage.Status.PROCESSED).order_by("received_at"):
        result = inbox_reprocess(message.pk)
        if result.status == InboxMessage.Status.PROCESSED:
            done += 1
        else:
            dead += 1
    modeladmin.message_user(
        request, _("%(done)d processed, %(dead)d still dead letters.") % {"done": done, "dead": dead}
    )
    if dead:
        modeladmin.message_user(request, _("See each dead letter's reason."), level=messages.WARNING)


@admin.register(InboxMessage)
class InboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["external_id", "version", "adapter", "message_type", "status", "attempts", "received_at"]
    list_filter = ["status", "adapter", "message_type"]
    search_fields = ["external_id", "idempotency_key", "source", "reason"]
    date_hierarchy = "received_at"
    actions = [reprocess]
    readonly_fields = [
        "adapter",
        "idempotency_key",
        "source",
        "external_id",
        "version",
        "message_type",
        "status",
        "reason",
        "attempts",
        "received_at",
        "processed_at",
        "produced",
        "payload_sha256",
        "payload",
    ]

    def has_reprocess_permission(self, request):
        return request.user.has_perm("integrations.reprocess_message")


@admin.register(OutboxDelivery)
class OutboxDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["message", "adapter", "delivered_at", "attempts", "next_attempt_at", "short_error"]
    list_filter = ["adapter", ("delivered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["message", "adapter"]
    search_fields = ["message__message_id", "last_error"]

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:120]


@admin.register(WorkOrderProvenance)
class WorkOrderProvenanceAdmin(ReadOnlyAdmin):
    list_display = ["work_order", "action", "message", "created_at", "short_note"]
    list_filter = ["action"]
    list_select_related = ["work_order", "message__adapter"]
    search_fields = ["work_order__number", "message__external_id"]

    @admin.display(description=_("note"))
    def short_note(self, obj):
        return obj.note[:120]


@admin.register(MachineState)
class MachineStateAdmin(ReadOnlyAdmin):
    list_display = ["site_code", "machine", "state", "reported_at", "received_at", "adapter"]
    list_filter = ["site_code", "state", "adapter"]
    search_fields = ["machine"]


class ReconciliationDifferenceInline(admin.TabularInline):
    model = ReconciliationDifference
    extra = 0
    fields = ["kind", "work_order", "traveler", "legacy_value", "traveler_value", "detail"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = ["day", "site", "adapter", "ran_at", "seconds", "error"]
    list_filter = ["site", "adapter"]
    inlines = [ReconciliationDifferenceInline]
