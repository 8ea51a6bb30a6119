"""Routings: a draft is built here (its steps inline) and its release or obsolescence asked for through
change control; a released routing is changed only by making a new draft revision of it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from ..errors import MasterDataError
from ..models import (
    Routing,
    RoutingStep,
)
from ..services.drafts import routing_create_draft, routing_step_add
from ..services.lifecycle import routing_new_revision
from .base import (
    DraftContentInline,
    ServiceBackedAdmin,
    ServiceInline,
    adopt,
    ensure_draft,
)


class RoutingStepInline(DraftContentInline, ServiceInline, admin.TabularInline):
    model = RoutingStep
    fields = ("sequence", "operation", "work_center", "title", "signoff", "may_run_out_of_order")
    extra = 0
    show_change_link = True

    def routing_of(self, parent):
        return parent

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("operation", "work_center__site")

    def create(self, request, form, *, parent):
        data = form.cleaned_data
        return routing_step_add(
            routing=parent,
            sequence=data["sequence"],
            operation=data["operation"],
            title=data["title"],
            work_center=data.get("work_center"),
            signoff=data["signoff"],
            may_run_out_of_order=data["may_run_out_of_order"],
        )


@admin.register(Routing)
class RoutingAdmin(ServiceBackedAdmin):
    """A draft is built here and released by an action; a released routing is changed only by
    making a new draft revision of it."""

    list_display = ("part_revision", "revision", "status", "description", "released_at", "released_by")
    list_filter = ("status",)
    search_fields = ("part_revision__part__number", "part_revision__part__name", "description")
    list_select_related = ("part_revision__part", "released_by")
    actions = ["release_drafts", "retire_released", "make_new_revision"]
    service_error_fields = {"status": "part_revision"}

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("part_revision", "description")
        return (
            "part_revision",
            "revision",
            "status",
            "description",
            "based_on",
            "created_at",
            "created_by",
            "released_at",
            "released_by",
            "retired_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return tuple(f for f in self.get_fields(request, obj) if f != "description")

    def get_inlines(self, request, obj):
        return [RoutingStepInline] if obj is not None else []

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            ensure_draft(obj.pk)
            obj.save()
            return
        draft = routing_create_draft(part_revision=obj.part_revision, description=obj.description, actor=request.user)
        adopt(obj, draft)

    @admin.action(description="Ask to release (change control: reason, two signatures)", permissions=["change"])
    def release_drafts(self, request, queryset):
        """A release is a change with a reason and two signatures: this opens the change page of each draft."""
        routings = list(queryset.select_related("part_revision__part"))
        if len(routings) == 1:
            return redirect(f"{reverse('masterdata:change_new', args=[routings[0].pk])}?action=release")
        for routing in routings:
            url = f"{reverse('masterdata:change_new', args=[routing.pk])}?action=release"
            self.message_user(
                request, format_html('{}: <a href="{}">ask for its release</a>', routing, url), messages.INFO
            )

    @admin.action(description="Ask to make obsolete (change control: reason, two signatures)", permissions=["change"])
    def retire_released(self, request, queryset):
        """Retiring a released routing is a change too: this opens the change page of each one."""
        routings = list(queryset.select_related("part_revision__part"))
        if len(routings) == 1:
            return redirect(f"{reverse('masterdata:change_new', args=[routings[0].pk])}?action=obsolete")
        for routing in routings:
            url = f"{reverse('masterdata:change_new', args=[routing.pk])}?action=obsolete"
            self.message_user(
                request, format_html('{}: <a href="{}">ask to make it obsolete</a>', routing, url), messages.INFO
            )

    @admin.action(description="Make a new draft revision", permissions=["add"])
    def make_new_revision(self, request, queryset):
        for routing in queryset.select_related("part_revision__part"):
            try:
                draft = routing_new_revision(routing=routing, actor=request.user)
            except MasterDataError as exc:
                self.message_user(request, f"{routing}: no new revision: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"Made {draft} from r{routing.revision}.", messages.SUCCESS)
