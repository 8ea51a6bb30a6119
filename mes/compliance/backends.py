"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query.

ModelBackend reads the user's own permissions and their groups' in two queries, once per user object;
an API request loads its user afresh from the token, so every write paid both. This backend reads the
union of the two in one query and caches it on the user object as ModelBackend does (same answers).
A query that loads a user anyway can bring its permissions along (`permission_columns`, `preload`), as
the API's token lookup does: then the request reads no permission at all."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Value
from django.db.models.functions import Concat

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


def permission_columns(user_id_field: str) -> dict:
    """Annotations for a query whose rows name a user in `user_id_field`: the names of that user's own
    permissions and of those through their groups (two arrays), for `preload`."""
    name = Concat("content_type__app_label", Value("."), "codename")
    user = OuterRef(user_id_field)
    return {
        "own_permissions": ArraySubquery(Permission.objects.filter(user=user).annotate(dotted=name).values("dotted")),
        "group_permissions": ArraySubquery(
            Permission.objects.filter(group__user=user).annotate(dotted=name).values("dotted")
        ),
    }


def preload(user_obj, own: list[str], through_groups: list[str]) -> None:
    """Give `user_obj` the permissions read with it (permission_columns), cached as ModelBackend caches
    them, so has_perm asks nothing more. A superuser has every permission: left to the backend."""
    if user_obj.is_active and not user_obj.is_superuser:
        user_obj._user_perm_cache = set(own)
        user_obj._group_perm_cache = set(through_groups)
        user_obj._perm_cache = {*own, *through_groups}
