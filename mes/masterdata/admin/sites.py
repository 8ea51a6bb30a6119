"""Sites and their work centers."""

from __future__ import annotations

from django.contrib import admin

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from ..models import (
    Site,
    WorkCenter,
)


class WorkCenterInline(admin.TabularInline):
    model = WorkCenter
    fields = ("code", "name", "area", "active")
    extra = 0
    show_change_link = True


@admin.register(Site)
class SiteAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    list_display = (
        "code",
        "name",
        "time_zone",
        "language",
        "legacy_system",
        "cosign_corrections",
        "mrb_dispositions",
    )
    search_fields = ("code", "name", "legacy_system")
    inlines = [WorkCenterInline]


@admin.register(WorkCenter)
class WorkCenterAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    list_display = ("code", "name", "site", "area", "active")
    list_filter = ("active", "site", "area")
    search_fields = ("code", "name", "site__code")
    list_select_related = ("site",)
