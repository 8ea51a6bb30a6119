"""Work orders, most of which arrive from the ERP or a legacy MES through the adapters."""

from __future__ import annotations

from django.contrib import admin

from mes.masterdata.models import PartRevision

from .models import WorkOrder


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "part_revision", "quantity", "site", "due_date", "status", "source_system", "external_id")
    list_filter = ("status", "site")
    search_fields = ("number", "external_id")
    list_select_related = ("part_revision__part", "site")
    readonly_fields = ("created_at",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "part_revision":
            kwargs["queryset"] = PartRevision.objects.select_related("part")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
