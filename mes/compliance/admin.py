"""Shop-floor profiles, and the user admin with the profile inline (badge number, printed name, site)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Profile

User = get_user_model()


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("employee_number", "printed_name", "user", "site")
    list_filter = ("site",)
    search_fields = ("employee_number", "printed_name", "user__username", "user__email")
    list_select_related = ("user", "site")
    fields = ("user", "employee_number", "printed_name", "site")


class ProfileInline(admin.StackedInline):
    model = Profile
    fk_name = "user"
    fields = ("employee_number", "printed_name", "site")
    can_delete = False
    verbose_name = "shop-floor profile"
    verbose_name_plural = "shop-floor profile"


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [ProfileInline]
    list_display = ("username", "printed_name", "employee_number", "site", "email", "is_staff", "is_active")
    list_select_related = ("profile__site",)
    search_fields = (*DjangoUserAdmin.search_fields, "profile__employee_number", "profile__printed_name")

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
        return profile.site.code if profile and profile.site_id else ""
