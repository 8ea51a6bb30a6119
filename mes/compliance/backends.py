"""Authentication backend: Django's ModelBackend, reading a user's permissions in one query.

ModelBackend reads the user's own permissions and their groups' in two queries, once per user object;
an API request loads its user afresh from the token, so every write paid both. This backend reads the
union of the two in one query and caches it on the user object as ModelBackend does (same answers).

A page's request loads its user from the session (`get_user`): the user, their profile and their
permissions then come in that one query, as the API's token brings them (mes.compliance.tokens)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Model
from django.db.models.expressions import RawSQL

FIELDS = ("content_type__app_label", "codename")

# The user's permissions, their own and their groups', named as has_perm names them ("app_label.codename"),
# read with the user in the same query (hand-written for the reason given in mes.compliance.tokens).
USER_PERMISSIONS = RawSQL(
    "ARRAY(SELECT ct.app_label || '.' || p.codename FROM auth_permission p "
    "JOIN django_content_type ct ON ct.id = p.content_type_id WHERE p.id IN ("
    "SELECT up.permission_id FROM auth_user_user_permissions up WHERE up.user_id = auth_user.id "
    "UNION SELECT gp.permission_id FROM auth_user_groups ug JOIN auth_group_permissions gp "
    "ON gp.group_id = ug.group_id WHERE ug.user_id = auth_user.id))",
    [],
)


class ModelBackendOneQuery(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The signed-in user of a session, with their profile and (not a superuser) their permissions,
        in one query; None when there is no such user or they may not sign in (as ModelBackend)."""
        users = get_user_model()._default_manager.select_related("profile").annotate(perms=USER_PERMISSIONS)
        user = users.filter(pk=user_id).first()
        if user is None or not self.user_can_authenticate(user):
            return None
        if not user.is_superuser:  # a superuser's are every permission: read when asked, as before
            user._perm_cache = set(user.perms)  # type: ignore[attr-defined]
        return user

    def get_all_permissions(self, user_obj: Any, obj: Model | None = None) -> set[str]:
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
