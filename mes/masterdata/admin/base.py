"""What the master-data admins share: select choices fetched with what their labels read, a service's
error shown beside the field it names, inlines whose new rows a service creates, a routing's content
editable only while it is a draft, and adopting the row a service created."""

from __future__ import annotations

from django import forms

from mes.admin_media import LeanModelAdmin
from mes.compliance.admin_history import ReasonForChangeAdmin

from ..errors import MasterDataError
from ..models import (
    OperationAlias,
    PartRevision,
    Routing,
    RoutingStep,
    WorkCenter,
)
from ..services.lifecycle import routing_ensure_editable

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
    routing_ensure_editable(
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
