"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query.

ModelBackend reads the user's own permissions and their groups' in two queries, once per user object;
an API request loads its user afresh from the token, so every write paid both. This backend reads the
union of the two in one query and caches it on the user object as ModelBackend does (same answers)."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission

FIELDS = ("content_type__app_label", "codename")


class ModelBackendOneQuery(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*FIELDS)
            else:
                own = Permission.objects.filter(user=user_obj).values_list(*FIELDS)
                rows = own.union(Permission.objects.filter(group__user=user_obj).values_list(*FIELDS))
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in rows}
        return user_obj._perm_cache
