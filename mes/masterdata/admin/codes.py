"""Operations, their aliases (what other systems call them), and the queue of codes no alias maps yet,
where a code is mapped to an operation or a part."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.utils.html import format_html

from ..models import (
    Operation,
    OperationAlias,
    Part,
    PartAlias,
    UnmappedCode,
)
from ..services.codes import operation_alias_create, unmapped_code_map
from .base import (
    ServiceBackedAdmin,
    ServiceInline,
    adopt,
)


class OperationAliasInline(ServiceInline, admin.TabularInline):
    """Aliases of an operation. New ones are made by operation_alias_create (which also resolves
    the queued codes they map); an existing one is shown read-only."""

    model = OperationAlias
    fields = ("source_system", "site", "code", "created_at")
    readonly_fields = ("created_at",)
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False

    def create(self, request, form, *, parent):
        return operation_alias_create(
            operation=parent,
            source_system=form.cleaned_data["source_system"],
            site=form.cleaned_data["site"],
            code=form.cleaned_data["code"],
            actor=request.user,
        )


@admin.register(Operation)
class OperationAdmin(ServiceBackedAdmin):
    list_display = ("code", "name", "alias_count")
    search_fields = ("code", "name", "aliases__code")
    inlines = [OperationAliasInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(alias_count=Count("aliases"))

    @admin.display(description="aliases", ordering="alias_count")
    def alias_count(self, obj):
        return obj.alias_count


@admin.register(OperationAlias)
class OperationAliasAdmin(ServiceBackedAdmin):
    """What a code means is fixed once mapped; only the operation it points at may be corrected."""

    list_display = ("code", "source_system", "site", "operation", "created_at")
    list_filter = ("source_system", "site")
    search_fields = ("code", "operation__code", "operation__name")
    list_select_related = ("site", "operation")
    fields = ("source_system", "site", "code", "operation", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("created_at",) if obj is None else ("source_system", "site", "code", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        alias = operation_alias_create(
            operation=obj.operation, source_system=obj.source_system, site=obj.site, code=obj.code, actor=request.user
        )
        adopt(obj, alias)


class UnmappedState(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class OperationChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} – {obj.name}"


class PartChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.number} – {obj.name}"


class UnmappedCodeMapForm(forms.ModelForm):
    """An operation code is mapped to an operation, a part code to a part (the other field is left out)."""

    map_to_operation = OperationChoiceField(
        queryset=Operation.objects.all(),
        label="Map to operation",
        help_text="The canonical operation this code stands for. Saving creates the alias.",
    )
    map_to_part = PartChoiceField(
        queryset=Part.objects.all(),
        label="Map to part",
        help_text="The part this material number stands for. Saving creates the part alias.",
    )
    site_only = forms.BooleanField(
        required=False,
        initial=True,
        label="For this site only",
        help_text="Untick to map the code for every site of this source system.",
    )

    class Meta:
        model = UnmappedCode
        fields: list[str] = []


@admin.register(UnmappedCode)
class UnmappedCodeAdmin(ServiceBackedAdmin):
    """The queue of codes nothing maps yet. Codes arrive from the adapters, never by hand; an engineer
    maps one to an operation, which creates the alias through the service and resolves the entry."""

    form = UnmappedCodeMapForm
    list_display = (
        "code",
        "kind",
        "source_system",
        "site",
        "occurrences",
        "first_seen",
        "last_seen",
        "context_summary",
        "resolved",
    )
    list_filter = (UnmappedState, "kind", "source_system", "site")
    search_fields = ("code",)
    list_select_related = ("site",)
    readonly_fields = (
        "kind",
        "source_system",
        "site",
        "code",
        "occurrences",
        "first_seen",
        "last_seen",
        "context_pretty",
        "resolved_alias",
        "resolved_part_alias",
        "resolved_at",
    )
    service_error_fields = {"code": "map_to_operation", "operation": "map_to_operation", "part": "map_to_part"}
    # Mapping a code is the reason itself: the alias it creates is recorded as mapped from the queue.
    reason_required = False
    default_reason = "mapped from the unmapped-code queue"

    def get_fieldsets(self, request, obj=None):
        seen = ("kind", "source_system", "site", "code", "occurrences", "first_seen", "last_seen", "context_pretty")
        fieldsets = [(None, {"fields": seen})]
        is_part = obj is not None and obj.kind == UnmappedCode.Kind.PART
        if obj is not None and obj.resolved_at is not None:
            resolution = "resolved_part_alias" if is_part else "resolved_alias"
            fieldsets.append(("Resolution", {"fields": (resolution, "resolved_at")}))
        elif obj is not None and self.has_change_permission(request, obj):
            target = "map_to_part" if is_part else "map_to_operation"
            mapping = (target, "site_only") if obj.site_id else (target,)
            fieldsets.append(("Map to a part" if is_part else "Map to an operation", {"fields": mapping}))
            fieldsets += self.reason_fieldsets(request, obj)
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        unused = "map_to_operation" if obj is not None and obj.kind == UnmappedCode.Kind.PART else "map_to_part"
        form.base_fields.pop(unused, None)
        return form

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.resolved_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        alias = unmapped_code_map(
            entry=obj,
            operation=form.cleaned_data.get("map_to_operation"),
            part=form.cleaned_data.get("map_to_part"),
            site_specific=form.cleaned_data.get("site_only", True),
            actor=request.user,
        )
        obj.refresh_from_db()
        where = f"at {alias.site.code}" if alias.site_id else "at every site"
        meaning = f"part {alias.part.number}" if isinstance(alias, PartAlias) else alias.operation.code
        self.message_user(
            request,
            f"'{obj.code}' from {obj.source_system} now means {meaning} {where}. Reprocess the messages that "
            "waited for it on the sync status page.",
            messages.SUCCESS,
        )
        if obj.resolved_at is None:
            self.message_user(
                request,
                f"That alias already existed, so this queue entry was left open ({obj}).",
                messages.WARNING,
            )

    @admin.display(description="resolved", boolean=True, ordering="resolved_at")
    def resolved(self, obj):
        return obj.resolved_at is not None

    @admin.display(description="context")
    def context_summary(self, obj):
        text = json.dumps(obj.context, sort_keys=True, ensure_ascii=False) if obj.context else ""
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="context (where it was last seen)")
    def context_pretty(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.context, indent=2, sort_keys=True, ensure_ascii=False))
