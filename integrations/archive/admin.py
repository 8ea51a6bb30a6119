"""The archive in the admin: packages (read-only: written by the archive, never edited by hand),
retention classes, disposals, and the failed tries of the backlog."""

from __future__ import annotations

from django.contrib import admin

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from .models import ArchiveAttempt, ArchiveRecord, Disposal, RetentionClass


class ReadOnlyAdmin(LeanModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ArchiveRecord)
class ArchiveRecordAdmin(ReadOnlyAdmin):
    list_display = (
        "traveler_number",
        "part_number",
        "part_revision",
        "identifier",
        "site_code",
        "closed_at",
        "retain_until",
        "last_verified_at",
        "last_verify_ok",
        "disposed_at",
    )
    list_filter = ("site_code", "retention", "last_verify_ok")
    search_fields = ("traveler_number", "identifier", "part_number", "work_order")
    date_hierarchy = "closed_at"


@admin.register(RetentionClass)
class RetentionClassAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    list_display = ("code", "name", "years", "customer", "part", "is_default")
    search_fields = ("code", "name", "customer", "part__number")
    autocomplete_fields = ()
    raw_id_fields = ("part",)


@admin.register(Disposal)
class DisposalAdmin(ReadOnlyAdmin):
    list_display = ("record", "approved_by", "disposed_at")
    search_fields = ("record__traveler_number",)


@admin.register(ArchiveAttempt)
class ArchiveAttemptAdmin(ReadOnlyAdmin):
    """The backlog's failures: closed travelers whose archiving failed, with the reason."""

    list_display = ("traveler_number", "attempts", "first_failed_at", "last_attempt_at", "last_error")
    search_fields = ("traveler_number",)
