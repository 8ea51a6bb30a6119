"""Users, shop-floor profiles and API tokens in the admin — administration that cannot impersonate:

- only superusers change superuser status, roles (groups) and permissions;
- a password an administrator sets (or the first one of a new account) obliges its owner to choose a new
  secret before signing (mes.compliance.credentials.signing_secret_reset_by_admin), audited;
- user ids and badge numbers are never changed nor reused (read-only here, refused by the database);
  users are deactivated, never deleted;
- a printed name (beside every signature) changes only with a reason, audited;
- API tokens are revoked here (audited), never deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext

from mes.admin_media import LeanMedia, LeanModelAdmin

from . import credentials
from .admin_history import ReasonForChangeAdmin
from .errors import CredentialRefused, SignatureRefused
from .models import ApiToken, Profile
from .tokens import api_token_revoke

User = get_user_model()
SUPERUSER_ONLY = ("is_superuser", "groups", "user_permissions")


class ProfileForm(forms.ModelForm):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when the printed name changes: it stands beside every signature.",
    )

    class Meta:
        model = Profile
        fields = ("employee_number", "printed_name", "site", "language")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if self.instance.pk and data.get("printed_name") != self.instance.printed_name:
            if not (data.get("reason") or "").strip():
                self.add_error("reason", gettext("Say why the printed name changes."))
        return data


def _save_profile(request, form) -> None:
    """New profiles are saved as made; changes go through the audited service."""
    profile = form.instance
    if not profile._state.adding and form.has_changed():
        try:
            credentials.profile_update(
                profile=profile,
                actor=request.user,
                printed_name=form.cleaned_data["printed_name"],
                site=form.cleaned_data["site"],
                reason=form.cleaned_data.get("reason", ""),
            )
            if "language" in form.changed_data:
                credentials.profile_language_set(
                    profile=profile, language=form.cleaned_data["language"], actor=request.user
                )
        except (SignatureRefused, CredentialRefused) as exc:
            messages.error(request, exc.message)
        return
    profile.save()


@admin.register(Profile)
class ProfileAdmin(ReasonForChangeAdmin, LeanModelAdmin):
    form = ProfileForm
    list_display = ("employee_number", "printed_name", "user", "site", "language")
    list_filter = ("site",)
    search_fields = ("employee_number", "printed_name", "user__username", "user__email")
    list_select_related = ("user", "site")
    fields = ("user", "employee_number", "printed_name", "site", "language", "reason")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "employee_number") if obj else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        _save_profile(request, form)


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm
    fk_name = "user"
    fields = ("employee_number", "printed_name", "site", "language", "reason")
    can_delete = False
    verbose_name = "shop-floor profile"
    verbose_name_plural = "shop-floor profile"

    def get_readonly_fields(self, request, obj=None):
        return ("employee_number",) if obj and hasattr(obj, "profile") else ()


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(ReasonForChangeAdmin, LeanMedia, DjangoUserAdmin):
    inlines = [ProfileInline]
    list_display = ("username", "printed_name", "employee_number", "site", "email", "is_staff", "is_active")
    list_select_related = ("profile__site",)
    search_fields = (*DjangoUserAdmin.search_fields, "profile__employee_number", "profile__printed_name")
    actions = ["reset_signing_secret"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields.append("username")  # a user id is never changed nor reassigned
        if not request.user.is_superuser:
            fields += [f for f in SUPERUSER_ONLY if f not in fields]
        return fields

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: a user who signed anything must stay who they were

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:  # the creator chose the first password: the new user must choose their own
            credentials.signing_secret_reset_by_admin(
                user=obj, actor=request.user, reason=f"account created by {request.user.get_username()}"
            )

    def save_formset(self, request, form, formset, change):
        if formset.model is Profile:
            formset.save(commit=False)  # what the admin's change message lists; the saving is below
            for profile_form in formset.forms:
                if profile_form.has_changed() or profile_form.instance._state.adding:
                    if profile_form.cleaned_data and not profile_form.cleaned_data.get("DELETE"):
                        profile_form.instance.user = form.instance
                        _save_profile(request, profile_form)
            return
        super().save_formset(request, form, formset, change)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        user = self.get_object(request, id)
        if request.method == "POST" and response.status_code == 302 and user is not None:
            if user.pk != request.user.pk:  # someone else now knows the password
                credentials.signing_secret_reset_by_admin(
                    user=user,
                    actor=request.user,
                    reason=f"password set in the administration by {request.user.get_username()}",
                )
                messages.warning(
                    request,
                    gettext("%(username)s must choose a new password or PIN before signing again.")
                    % {"username": user.get_username()},
                )
            else:
                credentials.signing_secret_changed_by_user(user=user)
        return response

    @admin.action(description="Reset the signing PIN (the user chooses a new secret before signing again)")
    def reset_signing_secret(self, request, queryset):
        for user in queryset:
            credentials.signing_secret_reset_by_admin(
                user=user, actor=request.user, reason=f"signing PIN reset by {request.user.get_username()}"
            )
        messages.success(
            request,
            gettext("%(count)s user(s) must choose a new password or PIN before signing.")
            % {"count": queryset.count()},
        )

    @staticmethod
    def _profile(user) -> Profile | None:
        try:
            return user.profile
        except Profile.DoesNotExist:
            return None

    @admin.display(description="printed name", ordering="profile__printed_name")
    def printed_name(self, user):
        profile = self._profile(user)
        return profile.printed_name if profile else ""

    @admin.display(description="employee number", ordering="profile__employee_number")
    def employee_number(self, user):
        profile = self._profile(user)
        return profile.employee_number if profile else ""

    @admin.display(description="site", ordering="profile__site__code")
    def site(self, user):
        profile = self._profile(user)
        return profile.site.code if profile and profile.site else ""


@admin.register(Group)
class RoleAdmin(ReasonForChangeAdmin, LeanMedia, DjangoGroupAdmin):
    """Roles and their permissions: superusers only change them (every change is in the history)."""

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser


@admin.register(ApiToken)
class ApiTokenAdmin(LeanModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request) -> bool:
        return False  # issued by `manage.py` or the API, where the key is shown once

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, actor=request.user)
        messages.success(request, gettext("Revoked."))

    def has_revoke_permission(self, request) -> bool:
        return request.user.has_perm("compliance.revoke_apitoken")
