"""The admin asks why: every add and change page of tracked configuration has a "Reason for change"
field (required when changing), recorded with the change in the audit trail (mes.compliance.history)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms

from mes.admin_media import LeanModelAdmin

from .history import reason_for_change

# A mixin of ModelAdmin: the type checker reads it as one (its hooks call the admin's), Python as a plain class.
if TYPE_CHECKING:
    _AdminBase = LeanModelAdmin
else:
    _AdminBase = object

FIELD = "reason_for_change"
ADDED = "added in the admin"


class ReasonForChangeAdmin(_AdminBase):
    """ModelAdmin mixin (put it first): adds the reason field to editable pages and saves under it.

    `reason_required` can be turned off where the page's own action already says why (mapping a code
    from the unmapped-code queue); the field is still offered and recorded when filled in."""

    reason_required = True
    default_reason = ADDED

    def _may_edit(self, request, obj) -> bool:
        return self.has_change_permission(request, obj) if obj is not None else self.has_add_permission(request)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._may_edit(request, obj):
            base = kwargs.get("form") or (getattr(self, "add_form", None) if obj is None else None) or self.form
            field = forms.CharField(
                label="Reason for change",
                max_length=500,
                required=obj is not None and self.reason_required,
                help_text="Recorded in the audit trail beside what you changed, who and when (21 CFR 11.10(e)).",
            )
            kwargs["form"] = type(f"{base.__name__}WithReason", (base,), {FIELD: field})
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != FIELD]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        return fieldsets + self.reason_fieldsets(request, obj)

    def reason_fieldsets(self, request, obj=None) -> list:
        """The fieldset holding the reason, for admins that build their own fieldsets."""
        return [("Reason for change", {"fields": [FIELD]})] if self._may_edit(request, obj) else []

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The whole save runs under the reason typed (services called by the admin included); the form
        refuses a change without one, and then nothing is saved."""
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with reason_for_change(request.POST.get(FIELD, "").strip() or self.default_reason):
            return super().changeform_view(request, object_id, form_url, extra_context)
