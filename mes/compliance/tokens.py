"""API tokens: issue (shown once), authenticate by hash, revoke."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from .audit import audit_record
from .errors import SignatureRefused
from .models import ApiToken


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user, name: str, actor=None) -> tuple[ApiToken, str]:
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


def api_token_user(key: str):
    """The active user a token belongs to, or None."""
    if not key:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__profile")
        .filter(key_hash=_digest(key), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor, reason: str = "") -> None:
    """Withdraw a token at once (21 CFR 11.300(c)): its owner may, for a lost or leaked one; otherwise only
    whoever holds compliance.revoke_apitoken (administrators)."""
    if actor is None or (actor.pk != token.user_id and not actor.has_perm("compliance.revoke_apitoken")):
        raise SignatureRefused(f"{getattr(actor, 'username', 'anonymous')} may not revoke this token", field="actor")
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
