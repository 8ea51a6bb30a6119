"""Parts, their aliases (material numbers other systems use) and revisions; a revision lists its routings."""

from __future__ import annotations

from django.contrib import admin

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from ..models import (
    Part,
    PartAlias,
    PartRevision,
    Routing,
)
from ..services.codes import part_alias_create
from .base import (
    ChoicesWithRelated,
    ServiceBackedAdmin,
    ServiceInline,
    adopt,
)


class PartRevisionInline(admin.TabularInline):
    model = PartRevision
    fields = ("revision", "description", "drawing_number")
    extra = 0
    show_change_link = True


class PartAliasInline(ServiceInline, admin.TabularInline):
    """Material numbers other systems use for this part. New ones are made by part_alias_create (which
    also resolves the queued codes they map); an existing one is shown read-only."""

    model = PartAlias
    fields = ("source_system", "site", "code", "created_at")
    readonly_fields = ("created_at",)
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False

    def create(self, request, form, *, parent):
        return part_alias_create(
            part=parent,
            source_system=form.cleaned_data["source_system"],
            site=form.cleaned_data["site"],
            code=form.cleaned_data["code"],
            actor=request.user,
        )


@admin.register(Part)
class PartAdmin(ServiceBackedAdmin):
    list_display = ("number", "name", "tracking", "quantity_unit", "customer")
    list_filter = ("tracking",)
    search_fields = ("number", "name", "customer", "aliases__code")
    inlines = [PartRevisionInline, PartAliasInline]


@admin.register(PartAlias)
class PartAliasAdmin(ServiceBackedAdmin):
    """What a material number means is fixed once mapped; only the part it points at may be corrected."""

    list_display = ("code", "source_system", "site", "part", "created_at")
    list_filter = ("source_system", "site")
    search_fields = ("code", "part__number", "part__name")
    list_select_related = ("site", "part")
    fields = ("source_system", "site", "code", "part", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("created_at",) if obj is None else ("source_system", "site", "code", "created_at")

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        alias = part_alias_create(
            part=obj.part, source_system=obj.source_system, site=obj.site, code=obj.code, actor=request.user
        )
        adopt(obj, alias)


class RoutingListInline(admin.TabularInline):
    """The routings of a part revision, for finding one; they are changed on their own page."""

    model = Routing
    fields = ("revision", "status", "released_at", "description")
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PartRevision)
class PartRevisionAdmin(ReasonForChangeAdmin, ChoicesWithRelated, LeanModelAdmin):
    list_display = ("part", "revision", "description", "drawing_number")
    search_fields = ("part__number", "part__name", "drawing_number")
    list_select_related = ("part",)
    inlines = [RoutingListInline]
