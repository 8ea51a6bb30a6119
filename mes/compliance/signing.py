"""Electronic signatures (21 CFR 11.50, 11.70, 11.200, 11.300; FAA AC 120-78B).

Signing is two calls, so that a wrong secret is counted even though the signing fails:

    authority = signing_authenticate(user=actor, secret=pin_or_password, username=typed_id)
    with transaction.atomic():
        ...the change...
        signature_record(authority=authority, meaning=..., record_type=..., record_id=..., content=...)

`signing_authenticate` runs in its own transaction (call it before opening the one of the change):
a failure is committed, logged and audited, and the threshold locks signing. `signature_record`
stores the keyed hash (HMAC-SHA256 with the integrity key, mes.compliance.keys) of the canonical
envelope signed; `signature_verify` rebuilds the record's content as it stood at the signing time,
through the content function its app registered with `register_signable`, and recomputes it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from mes.events.services import outbox_emit

from . import credentials, keys, secret_checks
from .audit import audit_record, printed_name_of
from .canonical import canonical_bytes
from .errors import SignatureRefused, SigningLocked
from .models import Signature

if TYPE_CHECKING:
    from mes.masterdata.models import Qualification

log = logging.getLogger(__name__)

_SIGNABLE: dict[str, Callable[[str, object], dict]] = {}


def register_signable(record_type: str, content: Callable[[str, object], dict]) -> None:
    """Tell the verifier how to rebuild a signed record's content: content(record_id, as_of) where
    `as_of` is the signing time (records are immutable or versioned, so the past is recomputable)."""
    _SIGNABLE[record_type] = content


ENVELOPE_VERSION = 2


def signed_envelope(*, signature: Signature, content: dict) -> dict:
    """What the hash covers: the record's content bound to who signed it, meaning and time (11.70), and
    to how (method), by what right (qualification) and with what comment, so the signature can be
    neither moved to another record nor re-attributed nor re-worded undetected."""
    return {
        "envelope": ENVELOPE_VERSION,
        "record_type": signature.record_type,
        "record_id": signature.record_id,
        "record": content,
        "signer_id": signature.signer_id,
        "printed_name": signature.printed_name,
        "meaning": signature.meaning,
        "signed_at": signature.signed_at,
        "method": signature.method,
        "qualification_id": signature.qualification_id,
        "qualification": signature.qualification_text,
        "comment": signature.comment,
        "key_id": signature.key_id,
    }


def failure_limit() -> int:
    return int(getattr(settings, "SIGNING_FAILURE_LIMIT", 3))


@dataclass(frozen=True)
class SigningAuthority:
    """Proof that `user` just re-authenticated with `method`; spent by signature_record."""

    user: User
    method: str
    at: dt.datetime = field(default_factory=timezone.now)


def signing_authenticate(
    *, user: User | None, secret: str, username: str | None = None, session_key: str | None = None
) -> SigningAuthority:
    """Re-authenticate `user` for signing with their password or personal PIN.

    21 CFR 11.200(a)(1): the first signing of a continuous session (`session_key`, the browser session;
    none for an API token) needs both components — the user id (`username`, which must be the signed-in
    user's: nobody signs for someone else) and the secret; later ones in the same session the secret.
    A secret someone else set, or one older than its maximum age, does not sign (see credentials)."""
    if user is None or not user.is_authenticated or not user.is_active:
        raise SignatureRefused(gettext("sign in before signing"), field="secret")
    typed = (username or "").strip()
    if typed and typed != user.get_username():
        _refuse(user, "the user id typed is not the signed-in user's")
    with transaction.atomic():
        credential = credentials.credential_for_update(user)
        if credential.locked_at:
            raise SigningLocked(
                gettext(
                    "signing is locked for %(printed_name_of)s since %(locked_at)s UTC after repeated wrong secrets; "
                    "a supervisor must unlock it"
                )
                % {
                    "printed_name_of": printed_name_of(user),
                    "locked_at": format(credential.locked_at, "%Y-%m-%d %H:%M"),
                },
                field="secret",
            )
        if credential.must_set_new_secret:
            raise SignatureRefused(
                gettext("your password or PIN was set by someone else: choose a new one before you sign"),
                field="secret",
            )
        if not typed and not credentials.session_continues(session_key, user):
            raise SignatureRefused(
                gettext(
                    "type your user id as well as your password or PIN: this is your first signing of this session"
                ),
                field="username",
            )
        method = None
        if secret and credential.pin_hash and secret_checks.secret_matches(secret, credential.pin_hash):
            method = "pin"
        elif secret and secret_checks.password_matches(user, secret):
            method = "password"
        if method == "pin" and credentials.pin_expired(credential):
            raise SignatureRefused(
                gettext("your signing PIN is older than %(days)s days: choose a new one")
                % {"days": credentials.pin_max_age().days},
                field="secret",
            )
        if method == "password" and credentials.password_expired(user, credential):
            raise SignatureRefused(
                gettext("your password is older than %(days)s days: change it before you sign")
                % {"days": credentials.password_max_age().days},
                field="secret",
            )
        if method:
            if credential.failed_attempts:
                credential.failed_attempts = 0
                credential.save(update_fields=["failed_attempts"])
            credentials.session_touch(session_key, user)
            return SigningAuthority(user=user, method=method)
    _refuse(user, "wrong password or PIN")
    raise AssertionError("unreachable")


def _refuse(user: User, message: str) -> None:
    """Count, log and audit a refused signing in its own committed transaction; then raise."""
    with transaction.atomic():
        credential = credentials.credential_for_update(user)
        credential.failed_attempts += 1
        locked_now = credential.failed_attempts >= failure_limit() and not credential.locked_at
        if locked_now:
            credential.locked_at = timezone.now()
        credential.save(update_fields=["failed_attempts", "locked_at"])
        audit_record(
            chain=f"user:{user.pk}",
            action="signature.locked" if locked_now else "signature.refused",
            object_type="auth.user",
            object_id=user.pk,
            actor=user,
            changes={"failed_attempts": [credential.failed_attempts - 1, credential.failed_attempts]},
            reason=message,
        )
        if locked_now:  # supervisors and administrators are told (screens; outbox subscribers)
            outbox_emit(
                event_type="signer.locked",
                aggregate_type="user",
                aggregate_id=user.get_username(),
                data={"user": user.get_username(), "printed_name": printed_name_of(user),
                      "failed_attempts": credential.failed_attempts, "locked_at": credential.locked_at},
            )  # fmt: skip
    level = logging.ERROR if locked_now else logging.WARNING
    log.log(
        level,
        "signing refused",
        extra={
            "user": user.get_username(),
            "reason": message,
            "failed_attempts": credential.failed_attempts,
            "locked": locked_now,
        },
    )
    remaining = failure_limit() - credential.failed_attempts
    if locked_now or remaining <= 0:
        raise SigningLocked(
            gettext(
                "%(message)s; signing is now locked after %(failed_attempts)s failed attempts — a supervisor must "
                "unlock it"
            )
            % {"message": message, "failed_attempts": credential.failed_attempts},
            field="secret",
        )
    raise SignatureRefused(
        ngettext("%(message)s (%(remaining)s attempt left)", "%(message)s (%(remaining)s attempts left)", remaining)
        % {"message": message, "remaining": remaining},
        field="secret",
    )


def signature_record(
    *,
    authority: SigningAuthority,
    meaning: str,
    record_type: str,
    record_id: object,
    content: dict,
    qualification: Qualification | None = None,
    comment: str = "",
    audit_chain: str | None = None,
    signed_at: dt.datetime | None = None,
) -> Signature:
    """Store a signature over `content` (inside the change's transaction) and audit it."""
    signature = signature_build(
        authority=authority,
        meaning=meaning,
        record_type=record_type,
        record_id=record_id,
        content=content,
        qualification=qualification,
        comment=comment,
        signed_at=signed_at,
    )
    signature.save(force_insert=True)
    audit_record(chain=audit_chain or f"{record_type}:{record_id}", actor=authority.user, **signature_audit(signature))
    return signature


def signature_build(
    *,
    authority: SigningAuthority,
    meaning: str,
    record_type: str,
    record_id: object,
    content: dict,
    qualification: Qualification | None = None,
    comment: str = "",
    signed_at: dt.datetime | None = None,
    pk: int | None = None,
) -> Signature:
    """The signature signature_record stores, built and sealed (its keyed hash over the envelope), not
    written: for a change that writes it with the rest of its writes in one round trip (its id `pk` drawn
    beforehand), auditing it with signature_audit in the same transaction, as signature_record does."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("signature_record must run inside the transaction of the signed change")
    if meaning not in Signature.Meaning.values:
        raise SignatureRefused(
            gettext("'%(meaning)s' is not a signature meaning") % {"meaning": meaning}, field="meaning"
        )
    user = authority.user
    key = keys.current()
    signature = Signature(
        pk=pk,
        signer=user,
        printed_name=printed_name_of(user),
        meaning=meaning,
        signed_at=signed_at or timezone.now(),
        record_type=record_type,
        record_id=str(record_id),
        method=authority.method,
        qualification=qualification,
        qualification_text=str(qualification) if qualification else "",
        comment=comment,
        key_id=key.id,
        language=translation.get_language() or settings.LANGUAGE_CODE,  # of the statement the signer read
    )
    signature.content_hash = key.mac(canonical_bytes(signed_envelope(signature=signature, content=content)))
    return signature


def signature_audit(signature: Signature) -> dict:
    """The audit event of a signature (as audit.audit_record's arguments, or an entry of audit_events):
    what was signed, with what meaning, and the keyed hash, which the event seals."""
    return {
        "action": "signature.signed",
        "object_type": "compliance.signature",
        "object_id": signature.pk,
        "changes": {
            "record": [None, f"{signature.record_type}:{signature.record_id}"],
            "meaning": [None, signature.meaning],
            "content_hash": [None, signature.content_hash],
        },
        "reason": signature.comment,
        "seal": signature.content_hash,
    }


def signed_content(signature: Signature) -> dict:
    """The content `signature` covers, rebuilt as it stood when signed (the verifier; the archive)."""
    content_fn = _SIGNABLE.get(signature.record_type)
    if content_fn is None:
        raise LookupError(f"no content function registered for {signature.record_type}")
    return content_fn(signature.record_id, signature.signed_at)


def signature_matches(signature: Signature, content: dict) -> bool:
    """True when `content` is what `signature` signed (its keyed hash matches). IntegrityKeyMissing when
    the signature's key is not in this installation's ring; a signature without a key id was never
    keyed and cannot be trusted."""
    if not signature.key_id:
        return False
    return keys.check(signed_envelope(signature=signature, content=content), signature.key_id, signature.content_hash)


def signature_verify(signature: Signature) -> bool:
    """True when the record, as it stood when signed, still hashes to what was signed."""
    return signature_matches(signature, signed_content(signature))
