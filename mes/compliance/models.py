"""Who a user is on the shop floor: employee number (their badge), printed name, home site."""

from __future__ import annotations

import datetime as dt

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from . import guards
from .history import tracked


@tracked()
class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    employee_number = models.CharField(max_length=30, unique=True, help_text="Printed on the badge.")
    printed_name = models.CharField(max_length=150, help_text="The name shown beside every signature (21 CFR 11.50).")
    site = models.ForeignKey("masterdata.Site", on_delete=models.PROTECT, null=True, blank=True)
    language = models.CharField(
        max_length=8,
        blank=True,
        choices=settings.LANGUAGES,
        help_text="The language of this person's screens, printouts and signature statements; blank: their site's.",
    )

    class Meta:
        ordering = ["employee_number"]
        triggers = [
            guards.refuse("not_deleted", pgtrigger.Delete, "profile % is never deleted: deactivate the user", "OLD.id"),
            guards.refuse(
                "badge_kept",
                pgtrigger.Update,
                "profile %: the badge number and the user are never reassigned (deactivate, and make a new one)",
                "OLD.id",
                condition=pgtrigger.AnyChange("employee_number", "user"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.printed_name} ({self.employee_number})"


class SigningCredential(models.Model):
    """A user's signing secret state (21 CFR 11.200, 11.300): the optional personal PIN, failed
    attempts, the lock, and whether an administrator's reset obliges them to choose a new secret."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signing")
    pin_hash = models.CharField(max_length=128, blank=True)
    pin_set_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner last chose their password (ageing counts from here)."
    )
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    must_set_new_secret = models.BooleanField(
        default=False, help_text="Set when someone else set the password or PIN (an administrator, at creation)."
    )

    class Meta:
        permissions = [("unlock_signing", "Can unlock a user's signing after failed attempts")]

    def __str__(self) -> str:
        return f"signing credential of {self.user}"


class SigningUnlock(models.Model):
    """A signer's signing unlocked by a supervisor after failed attempts: who, why, and their signature."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_unlocks")
    username = models.CharField(max_length=150)
    locked_at = models.DateTimeField()
    failed_attempts = models.PositiveSmallIntegerField()
    reason = models.TextField()
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unlocked_at = models.DateTimeField()
    signature = models.ForeignKey("compliance.Signature", on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-unlocked_at"]
        triggers = [guards.append_only("a signing unlock")]

    def __str__(self) -> str:
        return f"{self.username} unlocked {self.unlocked_at:%Y-%m-%d %H:%M}"


class SigningSession(models.Model):
    """A continuous period of controlled access in which someone has signed with both components (user id
    and secret): later signings in it need the secret only (21 CFR 11.200(a)(1)). Keyed by the browser
    session, which ends at logout and at the station's idle lock; API tokens have none (every signing
    through a token gives both components)."""

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    last_signed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"signing session of {self.user} since {self.started_at:%Y-%m-%d %H:%M}"


class AuditChainHead(models.Model):
    """The registry of audit chains and the newest event of each: makes a removed last event, and a
    removed chain, detectable. A chain is registered empty (0, genesis) and its head only ever moves
    one event forward, onto an event that exists (database guard); checkpoints in the data lake keep
    copies of the heads outside the database (mes.compliance.checkpoints)."""

    chain = models.CharField(max_length=80, primary_key=True)
    last_seq = models.PositiveBigIntegerField()
    last_hash = models.CharField(max_length=64)

    class Meta:
        triggers = [
            guards.refuse(
                "head_not_deleted", pgtrigger.Delete, "audit chain % is registered: it cannot be removed", "OLD.chain"
            ),
            guards.head_registered_empty(),
            guards.head_only_advances(),
        ]

    def __str__(self) -> str:
        return f"{self.chain} @ {self.last_seq}"


class AuditEvent(models.Model):
    """One append-only, hash-chained audit event (21 CFR 11.10(e)). The database refuses UPDATE and
    DELETE. Each chain (e.g. one traveler) numbers its events 1, 2, 3… and each event carries the hash
    of the one before; its own hash is keyed (HMAC-SHA256 with the integrity key `key_id`, held outside
    the database), so nobody without the key can rewrite it. `seal` is the SHA-256 of the canonical
    content of the record the event is about, as the change left it (reconciliation compares it with
    the row). `manage.py verify_audit` walks the chains."""

    chain = models.CharField(max_length=80)
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True, help_text="field -> [old, new]")
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    seal = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the record's content after the change.")
    key_id = models.CharField(max_length=32, blank=True, help_text="The integrity key of the hash.")
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="auditevent_unique_seq_per_chain")]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="auditevent_object_idx"),
            models.Index(fields=["occurred_at"], name="auditevent_time_idx"),
        ]
        triggers = [guards.append_only("the audit trail")]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action}"


def manifestation_line(
    printed_name: str, meaning: str, signed_at: dt.datetime, *, zone: dt.tzinfo | None = None
) -> str:
    """A signature's printed line (21 CFR 11.50): printed name — meaning — date and time in UTC, the
    signature's time of record; given the site's `zone`, the time at the site follows in brackets:
    "Olga Smith — Performed — 2026-03-02 14:15:00 UTC (2026-03-02 08:15:00 CST)". The one rule for every
    notice and print that shows a signature as a line: Signature.manifestation, the station's notice
    after signing, the PDF. The caller gives the meaning in the words it shows (the signer's, or the
    signer's and the reader's) and may give the name already marked up (the PDF's bold)."""
    line = f"{printed_name} — {meaning} — {signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    if zone is None:
        return line
    site = signed_at.astimezone(zone)
    return f"{line} ({site:%Y-%m-%d %H:%M:%S} {site.tzname()})"


class Signature(models.Model):
    """An electronic signature (21 CFR 11.50, 11.70): who, printed name, meaning, server UTC time,
    and the keyed hash (HMAC-SHA256, integrity key `key_id`) of the canonical envelope it signed: the
    record's content as it stood when signed, bound to signer, meaning, time, method, qualification
    and comment. Immutable (database trigger)."""

    class Meaning(models.TextChoices):
        PERFORMED = "performed", _("Performed")
        INSPECTED = "inspected", _("Inspected")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CORRECTED = "corrected", _("Corrected")
        DISPOSITIONED = "dispositioned", _("Dispositioned")
        SKIPPED = "skipped", _("Skipped")
        REPLANNED = "replanned", _("Re-planned")
        REMOVED = "removed", _("Removed a component")
        RELEASED = "released", _("Released a hold")
        DISPOSED = "disposed", _("Approved disposal")
        COSIGNED = "cosigned", _("Co-signed")
        UNLOCKED = "unlocked", _("Unlocked signing")
        REVIEWED = "reviewed", _("Reviewed")
        RELEASE_APPROVED = "release_approved", _("Approved for release")
        ENGINEERING_APPROVED = "engineering_approved", _("Approved (engineering)")

    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    printed_name = models.CharField(max_length=150)
    meaning = models.CharField(max_length=20, choices=Meaning.choices)
    signed_at = models.DateTimeField()
    record_type = models.CharField(max_length=60)
    record_id = models.CharField(max_length=64)
    content_hash = models.CharField(max_length=64)
    method = models.CharField(max_length=10, help_text="password or pin")
    qualification = models.ForeignKey(
        "masterdata.Qualification", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    qualification_text = models.CharField(max_length=200, blank=True)
    comment = models.TextField(blank=True)
    key_id = models.CharField(max_length=32, blank=True, help_text="The integrity key of the content hash.")
    language = models.CharField(
        max_length=8,
        blank=True,
        help_text="The language the signer read the signing statement in; the meaning's code is what is signed.",
    )

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="signature_record_idx")]
        triggers = [guards.append_only("a signature")]

    def __str__(self) -> str:
        return self.manifestation

    @property
    def meaning_label(self) -> str:
        """The meaning as the signer read it when signing (their language then), whoever reads it now."""
        label = self.Meaning(self.meaning).label if self.meaning in self.Meaning.values else self.meaning
        if self.language and self.language in dict(settings.LANGUAGES):
            key = (self.meaning, self.language)
            if key not in _MEANINGS_AS_SIGNED:  # switching the language costs more than the rest of a signing's output
                with translation.override(self.language):
                    _MEANINGS_AS_SIGNED[key] = str(label)
            return _MEANINGS_AS_SIGNED[key]
        return str(label)

    @property
    def meaning_manifest(self) -> str:
        """The meaning in the signer's words, followed by the reader's when they read another language."""
        signer = self.meaning_label
        reader = str(self.Meaning(self.meaning).label) if self.meaning in self.Meaning.values else self.meaning
        return signer if reader == signer else f"{signer} ({reader})"

    @property
    def manifestation(self) -> str:
        """The human-readable manifestation required by 21 CFR 11.50: printed name — meaning as the signer
        read it — UTC date and time (manifestation_line)."""
        return manifestation_line(self.printed_name, self.meaning_label, self.signed_at)


# A signature's meaning as its signer read it, by (meaning, signer's language): translations do not change
# while the process runs.
_MEANINGS_AS_SIGNED: dict[tuple[str, str], str] = {}


@tracked(exclude=("key_hash", "last_used_at"))
class ApiToken(models.Model):
    """A bearer token for integrations and scripts: only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80, help_text="What uses it, e.g. 'legacy MES bridge'.")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters, to recognise it in lists.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "name"]
        permissions = [("revoke_apitoken", "Can revoke API tokens")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class IntegrityCheckpoint(models.Model):
    """A signed copy of the audit chains' heads, written once to the data lake (mes.compliance.checkpoints).
    This row only says where it is; the verifier reads and checks the document in the lake."""

    class Kind(models.TextChoices):
        FULL = "full", _("Every chain")
        DELTA = "delta", _("Chains moved since the previous checkpoint")

    number = models.PositiveBigIntegerField(unique=True)
    kind = models.CharField(max_length=5, choices=Kind.choices)
    created_at = models.DateTimeField()
    chains = models.PositiveBigIntegerField(help_text="Chains listed in this checkpoint.")
    chains_total = models.PositiveBigIntegerField(help_text="Chains registered when it was made.")
    digest = models.CharField(max_length=64, help_text="SHA-256 of every head, in chain order.")
    key_id = models.CharField(max_length=32)
    seal = models.CharField(max_length=64, help_text="HMAC of the checkpoint document.")
    uri = models.CharField(max_length=500)
    object_lock = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-number"]
        triggers = [guards.append_only("an integrity checkpoint")]

    def __str__(self) -> str:
        return f"checkpoint {self.number} ({self.kind}, {self.chains} chains)"


class CheckpointedHead(models.Model):
    """The head of each chain as the last checkpoint listed it, so the next one lists only what moved.
    Bookkeeping only: the verifier trusts the lake, never this table."""

    chain = models.CharField(max_length=80, primary_key=True)
    seq = models.PositiveBigIntegerField()
    checkpoint = models.PositiveBigIntegerField(default=0, help_text="Number of the checkpoint that listed it.")

    def __str__(self) -> str:
        return f"{self.chain} @ {self.seq}"


class IntegrityRun(models.Model):
    """One run of the verifier (manage.py verify_audit, the daily task): what it checked and found. The
    newest failed run raises the integrity alert on QA's and administrators' screens."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    scope = models.CharField(max_length=200, default="all", help_text="What was checked (all, or named chains).")
    ok = models.BooleanField(null=True)
    counts = models.JSONField(default=dict, blank=True, help_text="What was checked, by kind.")
    problems = models.JSONField(default=list, blank=True, help_text="Plain findings (the first 500).")
    problem_count = models.PositiveIntegerField(default=0)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledgement = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        permissions = [("view_integrity", "Can see integrity alerts and verifier runs")]

    def __str__(self) -> str:
        state = "running" if self.ok is None else ("ok" if self.ok else f"{self.problem_count} problems")
        return f"integrity run {self.started_at:%Y-%m-%d %H:%M} ({state})"


class AuditReview(models.Model):
    """A signed review of part of the audit trail (Annex 11 §9): what was reviewed (the filters, and in
    words), how many events, the SHA-256 of their hashes in order (so the review names exactly those),
    and the reviewer's signature, meaning "reviewed" (mes.compliance.reviews). Written once."""

    scope = models.JSONField(help_text="The filters of the review, as on /audit/.")
    scope_words = models.CharField(max_length=500)
    events = models.PositiveIntegerField()
    first_event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, null=True, related_name="+")
    last_event = models.ForeignKey(AuditEvent, on_delete=models.PROTECT, null=True, related_name="+")
    digest = models.CharField(max_length=64, help_text="SHA-256 of the reviewed events' hashes, in order.")
    comment = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField()
    signature = models.OneToOneField(Signature, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-reviewed_at"]
        permissions = [("review_audit_trail", "Can read, export and sign reviews of the audit trail")]
        triggers = [guards.append_only("auditreview")]

    def __str__(self) -> str:
        return f"review of {self.scope_words} ({self.events} events) by {self.signature.printed_name}"


# --- Configuration history of Django's own tables (mes.compliance.history) ------------------------------------
# Django's user and group tables are tracked through proxies, so that their triggers and event tables
# belong to this app's migrations. A password hash is never copied (credential changes are audited by
# mes.compliance.credentials); last_login changes at every sign-in and is left out.


@tracked(exclude=("password", "last_login"), model_name="UserEvent")
class TrackedUser(User):
    class Meta:
        proxy = True


@tracked(model_name="GroupEvent")
class TrackedRole(Group):
    class Meta:
        proxy = True


@tracked(link=True, model_name="UserGroupEvent")
class TrackedUserGroup(User.groups.through):  # type: ignore[name-defined]  # through models exist at run time only
    class Meta:
        proxy = True


@tracked(link=True, model_name="UserPermissionEvent")
class TrackedUserPermission(User.user_permissions.through):  # type: ignore[name-defined]  # as above
    class Meta:
        proxy = True


@tracked(link=True, model_name="GroupPermissionEvent")
class TrackedRolePermission(Group.permissions.through):  # type: ignore[name-defined]  # as above
    class Meta:
        proxy = True


class ConfigEventSeal(models.Model):
    """Which captured configuration event is sealed in the audit chain "config", by which audit event
    (mes.compliance.config_seal). Written once."""

    event_model = models.CharField(max_length=100)
    event_id = models.BigIntegerField()
    audit_event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_model", "event_id"], name="configeventseal_once"),
        ]
        triggers = [guards.append_only("configeventseal")]

    def __str__(self) -> str:
        return f"{self.event_model} {self.event_id} → audit event {self.audit_event_id}"
