"""Qualifications: who may perform or inspect which operation, and until when."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from ..models import (
    Qualification,
)


def qualification_status(qualification: Qualification, today) -> str:
    if qualification.valid_from > today:
        return "Not yet valid"
    if qualification.expires_on < today:
        return "Expired"
    return "Valid"


class QualificationValidity(admin.SimpleListFilter):
    title = "validity"
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [("valid", "Valid"), ("expired", "Expired"), ("not_yet", "Not yet valid")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "valid":
            return queryset.filter(valid_from__lte=today, expires_on__gte=today)
        if self.value() == "expired":
            return queryset.filter(expires_on__lt=today)
        if self.value() == "not_yet":
            return queryset.filter(valid_from__gt=today)
        return queryset


@admin.register(Qualification)
class QualificationAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    list_display = ("user", "operation", "kind", "certificate", "valid_from", "expires_on", "status")
    list_filter = (QualificationValidity, "kind", "operation")
    search_fields = ("user__username", "user__first_name", "user__last_name", "operation__code", "certificate")
    list_select_related = ("user", "operation")
    date_hierarchy = "expires_on"

    @admin.display(description="status")
    def status(self, obj):
        return qualification_status(obj, timezone.localdate())
