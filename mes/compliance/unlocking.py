"""Unlocking a signer locked after failed attempts (21 CFR 11.300(d)): a supervisor gives a reason and
their own signature; the SigningUnlock record is written once, signed, and the credential's lock cleared.

It sits beside credentials and signing and imports both (signing itself reads credentials), so imports
run one way: unlocking -> signing -> credentials.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .audit import audit_record
from .credentials import credential_for_update, next_id
from .errors import CredentialRefused, SignatureRefused
from .models import Signature, SigningUnlock
from .signing import SigningAuthority, signature_record, signing_authenticate


def unlock_content(unlock: SigningUnlock) -> dict:
    return {
        "unlock": unlock.pk,
        "user": unlock.user_id,
        "username": unlock.username,
        "locked_at": unlock.locked_at,
        "failed_attempts": unlock.failed_attempts,
        "reason": unlock.reason,
    }


def unlock_signed_content(record_id: str, as_of: object) -> dict:
    return unlock_content(SigningUnlock.objects.get(pk=record_id))


def signing_unlock(
    *, user: User, actor: User, secret: str, reason: str, username: str | None = None, session_key: str | None = None
) -> SigningUnlock:
    """A supervisor unlocks a signer locked after failed attempts: a reason and their own signature."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _signing_unlock(user=user, actor=actor, authority=authority, reason=reason)


@transaction.atomic
def _signing_unlock(*, user: User, actor: User, authority: SigningAuthority, reason: str) -> SigningUnlock:
    if actor is None or not actor.has_perm("compliance.unlock_signing"):
        raise SignatureRefused(
            _("%(getattr)s may not unlock signers") % {"getattr": getattr(actor, "username", "anonymous")},
            field="actor",
        )
    if actor.pk == user.pk:
        raise SignatureRefused(_("nobody unlocks their own signing: ask a supervisor"), field="actor")
    reason = (reason or "").strip()
    if not reason:
        raise CredentialRefused(_("say why signing is unlocked"), field="reason")
    credential = credential_for_update(user)
    if not credential.locked_at:
        raise SignatureRefused(
            _("%(username)s's signing is not locked") % {"username": user.get_username()}, field="user"
        )
    now = timezone.now()
    unlock = SigningUnlock(
        pk=next_id(SigningUnlock),  # the signed content names the record, which is written once, signed
        user=user,
        username=user.get_username(),
        locked_at=credential.locked_at,
        failed_attempts=credential.failed_attempts,
        reason=reason,
        unlocked_by=actor,
        unlocked_at=now,
    )
    unlock.signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.UNLOCKED,
        record_type="compliance.signingunlock",
        record_id=unlock.pk,
        content=unlock_content(unlock),
        audit_chain=f"user:{user.pk}",
        comment=reason,
        signed_at=now,
    )
    unlock.save(force_insert=True)
    credential.locked_at, credential.failed_attempts = None, 0
    credential.save(update_fields=["locked_at", "failed_attempts"])
    audit_record(
        chain=f"user:{user.pk}",
        action="signing.unlocked",
        object_type="auth.user",
        object_id=user.pk,
        actor=actor,
        reason=reason,
        changes={"locked_at": [unlock.locked_at, None], "failed_attempts": [unlock.failed_attempts, 0]},
    )
    return unlock
