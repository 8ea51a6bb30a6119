"""The admin engineers keep master data with.

Writes that have a service go through it: new routings, steps, characteristics, instruction
attachments and aliases, releasing, new revisions, mapping a queued code. A domain error a service
raises rolls the whole save back and the form comes back with the message beside the field it names.
Released (and retired) routings, with their steps and characteristics, are view-only.
"""

from __future__ import annotations

import json
import mimetypes

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from . import services
from .errors import MasterDataError
from .models import (
    Characteristic,
    Operation,
    OperationAlias,
    Part,
    PartAlias,
    PartRevision,
    Qualification,
    Routing,
    RoutingStep,
    RoutingStepComponent,
    Site,
    StepAttachment,
    UnmappedCode,
    WorkCenter,
)
from .states import RoutingStatus

# --- Shared machinery ---------------------------------------------------------------------------------

# What a select's choice labels (the models' __str__) read, fetched with the choices in one query.
CHOICE_RELATED: dict[type, tuple[str, ...]] = {
    WorkCenter: ("site",),
    PartRevision: ("part",),
    Routing: ("part_revision__part",),
    RoutingStep: ("routing__part_revision__part",),
    OperationAlias: ("operation", "site"),
}


class ChoicesWithRelated:
    """Select widgets over models whose __str__ follows a foreign key, without a query per choice."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = CHOICE_RELATED.get(db_field.related_model)
        if related and "queryset" not in kwargs:
            kwargs["queryset"] = db_field.related_model._default_manager.select_related(*related)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceErrorsAsFormErrors:
    """Saving runs inside the admin's transaction. When a service raises a MasterDataError, that
    transaction is rolled back and the form is validated again with the error added beside the field
    it names (`service_error_fields` maps a service's field name to this form's), else above the form."""

    service_error_fields: dict[str, str] = {}

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except MasterDataError as exc:
            request._masterdata_error = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        error = getattr(request, "_masterdata_error", None)
        if error is None:
            return form_class
        field = self.service_error_fields.get(error.field, error.field)

        class WithServiceError(form_class):
            def clean(self):
                cleaned_data = super().clean()
                self.add_error(field if field in self.fields else None, error.message)
                return cleaned_data

        return WithServiceError


class ServiceBackedAdmin(ReasonForChangeAdmin, ServiceErrorsAsFormErrors, ChoicesWithRelated, LeanModelAdmin):
    """Base of the admins whose saves call services."""


def adopt(target, saved) -> None:
    """Make the admin's unsaved instance the row a service created; the admin goes on using it."""
    for field in target._meta.concrete_fields:
        setattr(target, field.attname, getattr(saved, field.attname))
    target._state.adding = False
    target._state.db = saved._state.db


def ensure_draft(routing_id: int) -> None:
    """Lock the routing until the save commits and refuse unless it is (still) a draft."""
    services.routing_ensure_editable(
        Routing.objects.select_for_update(of=("self",)).select_related("part_revision__part").get(pk=routing_id)
    )


class ServiceInlineFormSet(forms.BaseInlineFormSet):
    """New rows are created by the inline's `create` (a service); edits and deletions save as usual."""

    inline = None
    request = None

    def save_new(self, form, commit=True):
        setattr(form.instance, self.fk.name, self.instance)
        return self.inline.create(self.request, form, parent=self.instance)


class ServiceInline(ChoicesWithRelated):
    formset = ServiceInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.inline = self
        formset.request = request
        return formset

    def create(self, request, form, *, parent):
        raise NotImplementedError


class DraftContentInline(ChoicesWithRelated):
    """Rows of a routing's content: editable only while the routing is a draft."""

    def routing_of(self, parent) -> Routing:
        raise NotImplementedError

    def _editable(self, parent) -> bool:
        return parent is None or self.routing_of(parent).is_editable

    def has_add_permission(self, request, obj=None):
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(obj) and super().has_delete_permission(request, obj)


def upload_content_type(upload) -> str:
    """The upload's media type: what the browser said when it is one we accept, else from its name."""
    if upload.content_type in services.ALLOWED_INSTRUCTION_TYPES:
        return upload.content_type
    return mimetypes.guess_type(upload.name)[0] or upload.content_type or "application/octet-stream"


# --- Sites and work centers ---------------------------------------------------------------------------


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


# --- Operations, aliases and the unmapped-code queue ------------------------------------------------


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
        return services.operation_alias_create(
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
        alias = services.operation_alias_create(
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
        alias = services.unmapped_code_map(
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


# --- Parts ---------------------------------------------------------------------------------------------


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
        return services.part_alias_create(
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
        alias = services.part_alias_create(
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


# --- Routings, steps, characteristics ------------------------------------------------------------------


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
        return services.routing_step_add(
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
        draft = services.routing_create_draft(
            part_revision=obj.part_revision, description=obj.description, actor=request.user
        )
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
                draft = services.routing_new_revision(routing=routing, actor=request.user)
            except MasterDataError as exc:
                self.message_user(request, f"{routing}: no new revision: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"Made {draft} from r{routing.revision}.", messages.SUCCESS)


# The spec, shown in the step's inline and on the page; the page adds the gauge that "read from gauge" uses.
CHARACTERISTIC_FIELDS = (
    "sequence",
    "code",
    "name",
    "kind",
    "unit",
    "nominal",
    "lower_limit",
    "upper_limit",
    "decimals",
    "choices",
    "required",
    "on_out_of_spec",
)
GAUGE_FIELDS = ("device_endpoint", "device_node", "device_unit", "device_scale")


class CharacteristicInline(DraftContentInline, ServiceInline, admin.TabularInline):
    model = Characteristic
    fields = CHARACTERISTIC_FIELDS
    extra = 0

    def routing_of(self, parent):
        return parent.routing

    def create(self, request, form, *, parent):
        data = form.cleaned_data
        return services.characteristic_add(
            step=parent,
            sequence=data["sequence"],
            code=data["code"],
            name=data["name"],
            kind=data["kind"],
            unit=data["unit"],
            nominal=data["nominal"],
            lower_limit=data["lower_limit"],
            upper_limit=data["upper_limit"],
            decimals=data["decimals"],
            choices=data["choices"],
            required=data["required"],
            on_out_of_spec=data["on_out_of_spec"],
        )


class StepAttachmentForm(forms.ModelForm):
    """An upload is checked here and stored by step_attachment_add (which computes size, SHA-256 and
    media type); the file of a saved attachment cannot be swapped, only its title edited."""

    class Meta:
        model = StepAttachment
        fields = ("title", "file")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["file"].disabled = True

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if self.instance.pk or not hasattr(upload, "content_type"):
            return upload
        content_type = upload_content_type(upload)
        if content_type not in services.ALLOWED_INSTRUCTION_TYPES:
            raise forms.ValidationError(
                gettext("%(content_type)s is not accepted; use PNG, JPEG, SVG or PDF") % {"content_type": content_type}
            )
        if upload.size > services.MAX_INSTRUCTION_BYTES:
            raise forms.ValidationError(
                gettext("the file is larger than %(value)s MiB") % {"value": services.MAX_INSTRUCTION_BYTES // 2**20},
                code="too_large",
            )
        if not upload.size:
            raise forms.ValidationError(gettext("the file is empty"))
        return upload


class StepAttachmentInline(DraftContentInline, ServiceInline, admin.TabularInline):
    model = StepAttachment
    form = StepAttachmentForm
    fields = ("title", "file", "content_type", "size", "sha256")
    readonly_fields = ("content_type", "size", "sha256")
    extra = 0

    def routing_of(self, parent):
        return parent.routing

    def create(self, request, form, *, parent):
        upload = form.cleaned_data["file"]
        upload.seek(0)
        return services.step_attachment_add(
            step=parent,
            title=form.cleaned_data["title"],
            filename=upload.name,
            content=upload.read(),
            content_type=upload_content_type(upload),
        )


class RoutingStepComponentInline(DraftContentInline, admin.TabularInline):
    """The step's bill of materials. No service writes components yet, so rows save as plain models
    (the routing-content trigger still refuses any change once the routing is released)."""

    model = RoutingStepComponent
    fields = ("part", "quantity")
    extra = 0

    def routing_of(self, parent):
        return parent.routing

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("part")


class DraftRoutingContentAdmin(ServiceBackedAdmin):
    """Steps and characteristics: editable while their routing is a draft, view-only after."""

    def routing_of(self, obj) -> Routing:
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self.routing_of(obj).is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not self.routing_of(obj).is_editable:
            return False
        return super().has_delete_permission(request, obj)


class DraftStepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.routing} · step {obj}"


@admin.register(RoutingStep)
class RoutingStepAdmin(DraftRoutingContentAdmin):
    list_display = ("title", "sequence", "routing", "operation", "work_center", "signoff")
    list_filter = ("routing__status", "signoff", "operation")
    search_fields = ("title", "operation__code", "routing__part_revision__part__number")
    list_select_related = ("routing__part_revision__part", "operation", "work_center__site")
    fields = (
        "routing",
        "sequence",
        "operation",
        "work_center",
        "title",
        "instructions",
        "signoff",
        "may_run_out_of_order",
    )
    inlines = [CharacteristicInline, RoutingStepComponentInline, StepAttachmentInline]

    def routing_of(self, obj):
        return obj.routing

    def get_readonly_fields(self, request, obj=None):
        return ("routing",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "routing":
            kwargs["queryset"] = Routing.objects.filter(status=RoutingStatus.DRAFT).select_related(
                "part_revision__part"
            )
            kwargs["help_text"] = "Only draft routings take new steps."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            ensure_draft(obj.routing_id)
            obj.save()
            return
        step = services.routing_step_add(
            routing=obj.routing,
            sequence=obj.sequence,
            operation=obj.operation,
            title=obj.title,
            work_center=obj.work_center,
            instructions=obj.instructions,
            signoff=obj.signoff,
            may_run_out_of_order=obj.may_run_out_of_order,
        )
        adopt(obj, step)


@admin.register(Characteristic)
class CharacteristicAdmin(DraftRoutingContentAdmin):
    list_display = ("code", "name", "kind", "unit", "nominal", "lower_limit", "upper_limit", "step", "routing")
    list_filter = ("kind", "required", "on_out_of_spec")
    search_fields = ("code", "name")
    list_select_related = ("step__routing__part_revision__part",)
    fields = ("step", *CHARACTERISTIC_FIELDS, *GAUGE_FIELDS)

    def routing_of(self, obj):
        return obj.step.routing

    def get_readonly_fields(self, request, obj=None):
        return ("step",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "step":
            kwargs["form_class"] = DraftStepChoiceField
            kwargs["queryset"] = RoutingStep.objects.filter(routing__status=RoutingStatus.DRAFT).select_related(
                "routing__part_revision__part"
            )
            kwargs["help_text"] = "Only steps of draft routings take new characteristics."
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="routing", ordering="step__routing")
    def routing(self, obj):
        return obj.step.routing

    def save_model(self, request, obj, form, change):
        if change:
            ensure_draft(obj.step.routing_id)
            obj.save()
            return
        characteristic = services.characteristic_add(
            step=obj.step,
            sequence=obj.sequence,
            code=obj.code,
            name=obj.name,
            kind=obj.kind,
            unit=obj.unit,
            nominal=obj.nominal,
            lower_limit=obj.lower_limit,
            upper_limit=obj.upper_limit,
            decimals=obj.decimals,
            choices=obj.choices,
            required=obj.required,
            on_out_of_spec=obj.on_out_of_spec,
        )
        adopt(obj, characteristic)


# --- Qualifications ------------------------------------------------------------------------------------


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
