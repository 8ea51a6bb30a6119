"""API tokens: issue (shown once), authenticate by hash, revoke."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext

from mes.prepared import Prepared

from .audit import audit_record
from .errors import SignatureRefused
from .models import ApiToken

# The token's user's permissions, their own and their groups', named as has_perm names them
# ("app_label.codename"), read with the token in the same query. Hand-written: the ORM's version (two
# ArraySubquery of Concat) costs more to compile on every request than the query it saves.
PERMISSIONS = RawSQL(
    "ARRAY(SELECT ct.app_label || '.' || p.codename FROM auth_permission p "
    "JOIN django_content_type ct ON ct.id = p.content_type_id WHERE p.id IN ("
    "SELECT up.permission_id FROM auth_user_user_permissions up WHERE up.user_id = compliance_apitoken.user_id "
    "UNION SELECT gp.permission_id FROM auth_user_groups ug JOIN auth_group_permissions gp "
    "ON gp.group_id = ug.group_id WHERE ug.user_id = compliance_apitoken.user_id))",
    [],
)


# The token looked up on every API request, compiled once (mes.prepared). key_hash is unique.
TOKEN_BY_HASH: Prepared[ApiToken] = Prepared(
    lambda key_hash: (
        ApiToken.objects.select_related("user", "user__profile")
        .annotate(perms=PERMISSIONS)
        .filter(key_hash=key_hash, revoked_at__isnull=True)
        .order_by()[:1]
    )
)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User, name: str, actor: User | None = None) -> tuple[ApiToken, str]:
    key = "trv_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name, key_hash=_digest(key), prefix=key[:8])
    audit_record(
        chain=f"user:{user.pk}",
        action="api_token.issued",
        object_type="compliance.apitoken",
        object_id=token.pk,
        actor=actor or user,
        changes={"name": [None, name]},
    )
    return token, key


def api_token_user(key: str) -> User | None:
    """The active user a token belongs to, or None. The user's permissions come in the same query (the
    token is looked up on every request, and every write checks a permission)."""
    if not key:
        return None
    token = TOKEN_BY_HASH(_digest(key)).first()
    if token is None or not token.user.is_active:
        return None
    if not token.user.is_superuser:  # what mes.compliance.backends would read, where it keeps it
        token.user._perm_cache = set(token.perms)  # type: ignore[attr-defined]
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None, reason: str = "") -> None:
    """Withdraw a token at once (21 CFR 11.300(c)): its owner may, for a lost or leaked one; otherwise only
    whoever holds compliance.revoke_apitoken (administrators)."""
    if actor is None or (actor.pk != token.user_id and not actor.has_perm("compliance.revoke_apitoken")):
        raise SignatureRefused(
            gettext("%(getattr)s may not revoke this token") % {"getattr": getattr(actor, "username", "anonymous")},
            field="actor",
        )
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(
        chain=f"user:{token.user_id}",
        action="api_token.revoked",
        object_type="compliance.apitoken",
        object_id=token.pk,
        actor=actor,
        changes={"revoked": [False, True]},
        reason=reason,
    )
