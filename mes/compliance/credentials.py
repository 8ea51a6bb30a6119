"""People's signing credentials (21 CFR 11.200, 11.300): choosing a password or PIN, someone else setting
one, ageing, and the signing sessions that decide when the user id must be typed again; profiles and
failed logins. Unlocking a signer after failed attempts is a signed act: mes.compliance.unlocking.

- Only its owner ever knows a secret that signs: a password or PIN set by anyone else (an administrator,
  at account creation) obliges the owner to choose a new one before their next signature.
- Passwords age out after PASSWORD_MAX_AGE_DAYS and PINs after PIN_MAX_AGE_DAYS: an aged secret no longer
  signs until its owner chooses a new one.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from mes.events.services import outbox_emit
from mes.prepared import Prepared

from .audit import audit_record
from .errors import CredentialRefused, SignatureRefused
from .history import reason_for_change
from .models import Profile, SigningCredential, SigningSession

if TYPE_CHECKING:
    from mes.masterdata.models import Site


def next_id(model: type[Model]) -> int:
    """The next id of `model`'s table, drawn before the row is written (a signature must name its record)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [model._meta.db_table])
        return cursor.fetchone()[0]


# Every signing locks its signer's credential first: a prepared read (mes.prepared), not the ORM's.
CREDENTIAL_LOCKED: Prepared[SigningCredential] = Prepared(
    lambda user_id: SigningCredential.objects.select_for_update().filter(user_id=user_id).order_by("pk")[:1]
)


def credential_for_update(user: User) -> SigningCredential:
    """The user's signing credential, locked (made first if the user never had one)."""
    credential = CREDENTIAL_LOCKED(user.pk).first()
    if credential is None:
        SigningCredential.objects.get_or_create(user=user)
        credential = SigningCredential.objects.select_for_update().get(user=user)
    return credential


# --- Ageing -----------------------------------------------------------------------------------------------


def password_max_age() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "PASSWORD_MAX_AGE_DAYS", 180)))


def pin_max_age() -> dt.timedelta:
    return dt.timedelta(days=int(getattr(settings, "PIN_MAX_AGE_DAYS", 365)))


def password_expired(user: User, credential: SigningCredential | None = None) -> bool:
    """True when the user's password is older than PASSWORD_MAX_AGE_DAYS (counted from when its owner chose
    it, else from the account's creation)."""
    if credential is None:
        credential = SigningCredential.objects.filter(user=user).first()
    since = (credential.password_changed_at if credential else None) or user.date_joined
    return timezone.now() - since > password_max_age()


def pin_expired(credential: SigningCredential) -> bool:
    return (
        bool(credential.pin_hash)
        and credential.pin_set_at is not None
        and (timezone.now() - credential.pin_set_at > pin_max_age())
    )


# --- Sessions (11.200(a)(1)) ----------------------------------------------------------------------------------


def session_continues(session_key: str | None, user: User) -> bool:
    """True when `user` already signed with both components in this browser session."""
    if not session_key:
        return False
    idle_limit = timezone.now() - dt.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    return SigningSession.objects.filter(key=session_key, user=user, last_signed_at__gte=idle_limit).exists()


def session_touch(session_key: str | None, user: User) -> None:
    """Remember that `user` signed in this browser session (inside the signing's transaction)."""
    if not session_key:
        return
    now = timezone.now()
    updated = SigningSession.objects.filter(key=session_key, user=user).update(last_signed_at=now)
    if not updated:
        SigningSession.objects.filter(key=session_key).delete()  # the browser session changed hands
        SigningSession.objects.create(key=session_key, user=user, started_at=now, last_signed_at=now)


def session_end(session_key: str | None) -> None:
    """The browser session ended (logout, the station's idle lock): the next signing asks the user id again."""
    if session_key:
        SigningSession.objects.filter(key=session_key).delete()


# --- Choosing and resetting secrets -------------------------------------------------------------------------


@transaction.atomic
def signing_pin_set(*, user: User, current_password: str, new_pin: str) -> None:
    """The user chooses their personal signing PIN (6-12 digits), proving who they are by password."""
    if not user.check_password(current_password):
        raise SignatureRefused(_("the current password is wrong"), field="current_password")
    if not (new_pin.isdigit() and 6 <= len(new_pin) <= 12):
        raise CredentialRefused(_("a PIN is 6 to 12 digits"), field="new_pin")
    if len(set(new_pin)) < 3:
        raise CredentialRefused(_("a PIN needs at least three different digits"), field="new_pin")
    credential = credential_for_update(user)
    credential.pin_hash = make_password(new_pin, hasher="pbkdf2_sha256_pin")
    credential.pin_set_at = timezone.now()
    credential.must_set_new_secret = False
    credential.save(update_fields=["pin_hash", "pin_set_at", "must_set_new_secret"])
    audit_record(
        chain=f"user:{user.pk}", action="signing.pin_set", object_type="auth.user", object_id=user.pk, actor=user
    )


@transaction.atomic
def password_change(*, user: User, current_password: str, new_password: str) -> None:
    """The user chooses a new password, proving who they are by the current one (Django's validators)."""
    if not user.check_password(current_password):
        raise SignatureRefused(_("the current password is wrong"), field="current_password")
    if new_password == current_password:
        raise CredentialRefused(_("choose a password different from the current one"), field="new_password")
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise CredentialRefused(" ".join(exc.messages), field="new_password") from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    signing_secret_changed_by_user(user=user)


@transaction.atomic
def signing_secret_changed_by_user(*, user: User) -> None:
    """The user set their own password: ageing starts again and a pending reset is satisfied."""
    credential = credential_for_update(user)
    credential.password_changed_at = timezone.now()
    credential.must_set_new_secret = False
    credential.save(update_fields=["password_changed_at", "must_set_new_secret"])
    audit_record(
        chain=f"user:{user.pk}",
        action="signing.password_changed",
        object_type="auth.user",
        object_id=user.pk,
        actor=user,
    )


@transaction.atomic
def signing_secret_reset_by_admin(*, user: User, actor: User, reason: str = "") -> None:
    """Someone other than the user set the user's password or PIN (an administrator; the creation of the
    account): they know it, so the user must choose a new secret before signing again, and the PIN goes."""
    credential = credential_for_update(user)
    credential.must_set_new_secret = True
    credential.pin_hash, credential.pin_set_at = "", None
    credential.save(update_fields=["must_set_new_secret", "pin_hash", "pin_set_at"])
    audit_record(
        chain=f"user:{user.pk}",
        action="signing.reset_by_admin",
        object_type="auth.user",
        object_id=user.pk,
        actor=actor,
        changes={"must_set_new_secret": [False, True]},
        reason=reason,
    )


# --- Who someone is: profiles, and failed logins ------------------------------------------------------------


@transaction.atomic
def profile_update(
    *, profile: Profile, actor: User, printed_name: str, site: Site | None = None, reason: str = ""
) -> Profile:
    """Change a profile's printed name (shown beside every signature) or site: a printed-name change needs a
    reason and is audited; the badge number and the user never change (database guard)."""
    printed_name = (printed_name or "").strip()
    if not printed_name:
        raise CredentialRefused(_("the printed name cannot be empty"), field="printed_name")
    before = Profile.objects.select_for_update().get(pk=profile.pk)
    changes: dict[str, list[str | None]] = {}
    if printed_name != before.printed_name:
        if not (reason or "").strip():
            raise CredentialRefused(
                _("say why the printed name changes (it stands beside every signature)"), field="reason"
            )
        changes["printed_name"] = [before.printed_name, printed_name]
    if site is not None and site.pk != before.site_id:
        changes["site"] = [before.site.code if before.site else None, site.code]
    if not changes:
        return before
    before.printed_name = printed_name
    if site is not None:
        before.site = site
    with reason_for_change(reason):
        before.save(update_fields=["printed_name", "site"])
    audit_record(
        chain=f"user:{before.user_id}",
        action="profile.changed",
        object_type="compliance.profile",
        object_id=before.pk,
        actor=actor,
        changes=changes,
        reason=(reason or "").strip(),
    )
    return before


@transaction.atomic
def profile_language_set(*, profile: Profile, language: str, actor: User) -> Profile:
    """Choose the language of a person's screens, printouts and signature statements ("": their site's)."""
    if language and language not in dict(settings.LANGUAGES):
        raise CredentialRefused(_("'%(code)s' is not a language of Traveler") % {"code": language}, field="language")
    before = Profile.objects.select_for_update().get(pk=profile.pk)
    if before.language == language:
        return before
    old, before.language = before.language, language
    with reason_for_change("language chosen by its owner" if actor.pk == before.user_id else "language set"):
        before.save(update_fields=["language"])
    audit_record(
        chain=f"user:{before.user_id}",
        action="profile.changed",
        object_type="compliance.profile",
        object_id=before.pk,
        actor=actor,
        changes={"language": [old or None, language or None]},
        reason="",
    )
    return before


def login_failure_record(*, username: str, where: str, locked: bool = False) -> None:
    """A failed or locked-out login (the station's badge page, the admin): audited in the user's chain (or
    the `logins` chain for an unknown name); a lockout also alerts (outbox; supervisors' screens)."""
    user = get_user_model().objects.filter(username=username).first() if username else None
    with transaction.atomic():
        audit_record(
            chain=f"user:{user.pk}" if user else "logins",
            action="login.locked_out" if locked else "login.failed",
            object_type="auth.user",
            object_id=user.pk if user else (username or "")[:64],
            actor=user,
            changes={"username": [None, (username or "")[:150]], "where": [None, where]},
        )
        if locked:
            outbox_emit(
                event_type="login.locked_out",
                aggregate_type="user",
                aggregate_id=(username or "")[:64],
                data={"user": (username or "")[:150], "where": where, "known_user": user is not None},
            )
