"""A routing's content on its own pages: steps (with their characteristics, bill of materials and
instruction attachments inline) and characteristics; editable while their routing is a draft, view-only after."""

from __future__ import annotations

import mimetypes

from django import forms
from django.contrib import admin
from django.utils.translation import gettext

from ..models import (
    GAUGE_FIELDS,
    SPEC_FIELDS,
    Characteristic,
    Routing,
    RoutingStep,
    RoutingStepComponent,
    StepAttachment,
)
from ..services.drafts import (
    ALLOWED_INSTRUCTION_TYPES,
    MAX_INSTRUCTION_BYTES,
    characteristic_add,
    routing_step_add,
    step_attachment_add,
)
from ..states import RoutingStatus
from .base import (
    DraftContentInline,
    ServiceBackedAdmin,
    ServiceInline,
    adopt,
    ensure_draft,
)


def upload_content_type(upload) -> str:
    """The upload's media type: what the browser said when it is one we accept, else from its name."""
    if upload.content_type in ALLOWED_INSTRUCTION_TYPES:
        return upload.content_type
    return mimetypes.guess_type(upload.name)[0] or upload.content_type or "application/octet-stream"


class CharacteristicInline(DraftContentInline, ServiceInline, admin.TabularInline):
    model = Characteristic
    fields = SPEC_FIELDS
    extra = 0

    def routing_of(self, parent):
        return parent.routing

    def create(self, request, form, *, parent):
        data = form.cleaned_data
        return characteristic_add(
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
        if content_type not in ALLOWED_INSTRUCTION_TYPES:
            raise forms.ValidationError(
                gettext("%(content_type)s is not accepted; use PNG, JPEG, SVG or PDF") % {"content_type": content_type}
            )
        if upload.size > MAX_INSTRUCTION_BYTES:
            raise forms.ValidationError(
                gettext("the file is larger than %(value)s MiB") % {"value": MAX_INSTRUCTION_BYTES // 2**20},
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
        return step_attachment_add(
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
        step = routing_step_add(
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
    fields = ("step", *SPEC_FIELDS, *GAUGE_FIELDS)

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
        characteristic = characteristic_add(
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
