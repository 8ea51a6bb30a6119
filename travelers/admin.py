"""Work orders, most of which arrive from the ERP or a legacy MES through the adapters."""

from __future__ import annotations

from django.contrib import admin

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin
from mes.masterdata.models import PartRevision

from .models import NumberingRule, WorkOrder


@admin.register(WorkOrder)
class WorkOrderAdmin(LeanModelAdmin):
    list_display = (
        "number",
        "part_revision",
        "quantity",
        "quantity_unit",
        "site",
        "due_date",
        "status",
        "source_system",
        "external_id",
    )
    list_filter = ("status", "site")
    search_fields = ("number", "external_id")
    list_select_related = ("part_revision__part", "site")
    readonly_fields = ("created_at",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "part_revision":
            kwargs["queryset"] = PartRevision.objects.select_related("part")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(NumberingRule)
class NumberingRuleAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    """Serial and lot numbers for travelers released without numbers (supervisor screen, or on import)."""

    list_display = ("site", "part", "pattern", "next_value")
    list_filter = ("site",)
    search_fields = ("pattern", "part__number")
    list_select_related = ("site", "part")
