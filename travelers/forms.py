"""Forms of the shop-floor pages. They check the shape of what was typed; the services decide everything
else and raise domain errors, which `add_domain_error` puts beside the field they name."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from travelers.errors import RecordConflict

CODE_ATTRS = {"autocomplete": "off", "autocapitalize": "characters", "autocorrect": "off", "spellcheck": "false"}


class StationForm(forms.Form):
    """A form whose errors may also come from a service. `field_map` turns a domain error's field into
    this form's field; an unknown field becomes an error of the whole form. `conflict` is set when
    someone else changed the step first (the page then offers to reload)."""

    field_map: dict[str, str | None] = {}
    conflict = False

    def add_domain_error(self, exc) -> None:
        field = getattr(exc, "field", None)
        if isinstance(exc, RecordConflict) and field == "version":
            self.conflict = True
            self.add_error(None, _("Someone else changed this step — reload it to see what changed."))
            return
        field = self.field_map.get(field, field)
        message = getattr(exc, "message", None) or str(exc)
        if field and field in self.fields and not isinstance(self.fields[field].widget, forms.HiddenInput):
            self.add_error(field, message)
        else:
            self.add_error(None, message)


class BadgeLoginForm(StationForm):
    badge = forms.CharField(
        label=_("Badge"),
        max_length=60,
        help_text=_("Scan your badge or type your employee number."),
        widget=forms.TextInput(attrs={**CODE_ATTRS, "autofocus": True}),
    )
    secret = forms.CharField(
        label=_("Password or signing PIN"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class WorkCenterForm(forms.Form):
    work_center = forms.ChoiceField(label=_("Work center"))

    def __init__(self, *args, work_centers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_center"].choices = [(f"{wc.site.code}/{wc.code}", str(wc)) for wc in work_centers]


class ScanForm(StationForm):
    code = forms.CharField(
        label=_("Scan or type a serial, lot, work order or traveler"),
        max_length=200,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "autofocus": True, "enterkeyhint": "go", "data-scan": True}),
    )


class StartForm(StationForm):
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class MeasurementForm(StationForm):
    value = forms.CharField(label=_("Value"), max_length=500, required=True)
    unit = forms.CharField(label=_("Unit"), max_length=30, required=False)
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    field_map = {"characteristic": "value", "attachment": "value"}


class PhotoForm(StationForm):
    file = forms.FileField(
        label=_("Photo or file"),
        widget=forms.FileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    characteristic = forms.IntegerField(required=False, widget=forms.HiddenInput)
    field_map = {"attachment": "file", "value": "file", "characteristic": "file"}


class SigningForm(StationForm):
    """The two components of an electronic signature: the user id (asked at the first signing of a
    session only) and the password or signing PIN."""

    username = forms.CharField(
        label=_("Your user id"),
        help_text=_("Asked at your first signing of this session. You may scan your badge."),
        max_length=150,
        widget=forms.TextInput(attrs=CODE_ATTRS | {"autocapitalize": "none"}),
    )
    secret = forms.CharField(
        label=_("Password or signing PIN"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, need_user_id: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not need_user_id:
            del self.fields["username"]


class SignForm(SigningForm):
    meaning = forms.ChoiceField(
        choices=[("performed", _("I performed this step")), ("inspected", _("I inspected this step"))],
        widget=forms.HiddenInput,
    )
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    field_map = {"values": None, "step": None}

    field_order = ["meaning", "username", "secret", "expected_version"]


class CorrectionForm(SigningForm):
    value = forms.CharField(label=_("Correct value"), max_length=500)
    unit = forms.CharField(label=_("Unit"), max_length=30, required=False)
    reason = forms.CharField(label=_("Why is it corrected?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    cosigner_username = forms.CharField(
        label=_("Inspector's user id (co-signature)"),
        max_length=150,
        help_text=_("This correction needs a second signature: an inspector co-signs here with their own secret."),
        widget=forms.TextInput(attrs=CODE_ATTRS | {"autocapitalize": "none", "autocomplete": "off"}),
    )
    cosigner_secret = forms.CharField(
        label=_("Inspector's password or signing PIN"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    field_map = {"characteristic": "value", "attachment": "value", "cosigner": "cosigner_username"}

    field_order = ["value", "unit", "reason", "username", "secret", "cosigner_username", "cosigner_secret"]

    def __init__(self, *args, need_cosign: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not need_cosign:  # the two-person rule does not apply to this value
            del self.fields["cosigner_username"], self.fields["cosigner_secret"]


class ComponentForm(StationForm):
    identifier = forms.CharField(
        label=_("Scan the component's serial or lot"),
        max_length=60,
        widget=forms.TextInput(attrs={**CODE_ATTRS, "enterkeyhint": "done"}),
    )
    quantity = forms.DecimalField(
        label=_("Quantity (from a lot)"), required=False, min_value=0, max_digits=12, localize=True
    )
    part_number = forms.CharField(label=_("Part number (if asked)"), max_length=40, required=False)
    expected_version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class NcrForm(StationForm):
    description = forms.CharField(label=_("What is wrong?"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class PasswordChangeForm(StationForm):
    current_password = forms.CharField(
        label=_("Current password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label=_("New password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("New password, again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("The two new passwords differ."))
        return data


class PinSetForm(StationForm):
    current_password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_pin = forms.CharField(
        label=_("New signing PIN (6 to 12 digits)"),
        strip=False,
        max_length=12,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    new_pin2 = forms.CharField(
        label=_("New signing PIN, again"),
        strip=False,
        max_length=12,
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_pin") and data.get("new_pin") != data.get("new_pin2"):
            self.add_error("new_pin2", _("The two PINs differ."))
        return data


class LanguageForm(StationForm):
    language = forms.ChoiceField(
        label=_("Language of my screens"),
        required=False,
        help_text=_("Printouts and signature statements follow it too."),
    )

    def __init__(self, *args, site_language: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        names = dict(settings.LANGUAGES)
        default = _("My site's: %(name)s") % {"name": names[site_language]} if site_language else _("My browser's")
        self.fields["language"].choices = [("", default), *settings.LANGUAGES]


class UnlockForm(SigningForm):
    user = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why is signing unlocked?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    field_order = ["user", "reason", "username", "secret"]


class WorkCenterOverrideForm(StationForm):
    """A supervisor at the tablet allows a step of another work center to be worked here."""

    supervisor_username = forms.CharField(
        label=_("Supervisor's user id or badge"),
        max_length=150,
        widget=forms.TextInput(attrs=CODE_ATTRS | {"autocapitalize": "none"}),
    )
    supervisor_secret = forms.CharField(
        label=_("Supervisor's password or signing PIN"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
    )
    reason = forms.CharField(
        label=_("Why is the step worked here?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    field_map = {
        "supervisor": "supervisor_username",
        "username": "supervisor_username",
        "secret": "supervisor_secret",
        "work_center": None,
        "actor": None,
        "traveler": None,
    }


class HoldPlaceForm(StationForm):
    """Put a traveler on hold: why (the service needs no signature to stop work)."""

    reason = forms.CharField(
        label=_("Why is the traveler held?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    field_map = {"traveler": None, "actor": None}


class ReasonSigningForm(SigningForm):
    """A supervisor's signed action on a traveler: why, and the signature."""

    reason = forms.CharField(label=_("Reason"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2}))
    field_order = ["reason", "username", "secret"]
    field_map = {"traveler": None, "actor": None, "step": None, "status": None, "hold": None, "routing": None}


class HoldReleaseForm(ReasonSigningForm):
    reason = forms.CharField(
        label=_("Why is the hold released?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class SkipForm(ReasonSigningForm):
    reason = forms.CharField(
        label=_("Why is the step skipped?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReplanForm(ReasonSigningForm):
    routing = forms.IntegerField(widget=forms.HiddenInput)  # the routing the page offered
    reason = forms.CharField(
        label=_("Why is the traveler re-planned?"), max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReleaseForm(StationForm):
    """Release a work order's travelers: serial numbers (one a line) for a serialized part, lots (a lot
    number and a quantity a line, or a quantity alone for the numbering rule's next) for a lot part.
    Left empty, the numbering rule numbers all that remain."""

    field_map = {"identifiers": None, "work_order": None, "actor": None, "quantity": "lots"}

    serials = forms.CharField(
        label=_("Serial numbers"),
        required=False,
        max_length=20000,
        help_text=_("One a line. Empty: numbered by the site's numbering rule."),
        widget=forms.Textarea(attrs={**CODE_ATTRS, "rows": 3}),
    )
    lots = forms.CharField(
        label=_("Lots"),
        required=False,
        max_length=20000,
        help_text=_("One a line: lot number and quantity (L-0412 120), or a quantity alone. Empty: one lot of all."),
        widget=forms.Textarea(attrs={**CODE_ATTRS, "rows": 3}),
    )

    def clean_serials(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["serials"].splitlines() if line.strip()]

    def clean_lots(self) -> list[tuple[str | None, Decimal]]:
        lots = []
        for number, line in enumerate(self.cleaned_data["lots"].splitlines(), start=1):
            words = line.split()
            if not words:
                continue
            if len(words) > 2:
                raise forms.ValidationError(_("Line %(n)s: a lot number and a quantity, nothing more.") % {"n": number})
            try:
                quantity = Decimal(words[-1].replace(",", "."))
            except InvalidOperation:
                quantity = None
            if quantity is None or not quantity.is_finite() or quantity <= 0:
                raise forms.ValidationError(
                    _("Line %(n)s: “%(q)s” is not a positive quantity.") % {"n": number, "q": words[-1]}
                )
            lots.append((words[0] if len(words) == 2 else None, quantity))
        return lots
