"""Posting admin pages back as a browser would (tests of the admin and of what it records)."""

from __future__ import annotations

from django.forms import CheckboxInput, MultiWidget


def post_data(response) -> dict:
    """What the browser would post back for an admin change page, unchanged (extra inline rows left out)."""
    data: dict = {}

    def add(form):
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field.widget, CheckboxInput):
                if value:
                    data[key] = "on"
            elif isinstance(field.widget, MultiWidget):  # e.g. a date and a time
                for i, part in enumerate(field.widget.decompress(value)):
                    if part is not None:
                        data[f"{key}_{i}"] = str(part)
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is not None and not hasattr(value, "url"):
                data[key] = str(value)

    form = response.context["adminform"].form
    add(form)
    if "reason_for_change" in form.fields:  # every change page asks why (mes.compliance.admin_history)
        data["reason_for_change"] = "changed by the admin test"
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        initial = len(formset.initial_forms)
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(initial)
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(initial)
        for form in formset.initial_forms:
            add(form)
    return data
