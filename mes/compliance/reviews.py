"""Signed reviews of the audit trail (Annex 11 §9; 21 CFR 11.10(e)): a reviewer reads part of the trail
— a traveler, a work order, a period — and signs that they reviewed it, meaning "reviewed".

    review = audit_review_sign(events=qs, scope={...}, scope_words="traveler T-…", actor=…, secret=…)

The review names exactly what was read: how many events, the first and last, and the SHA-256 of their
keyed hashes in order; the signature covers that. Events added later are not covered by it.
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .audit import audit_record
from .credentials import next_id
from .errors import SignatureRefused
from .models import AuditEvent, AuditReview, Signature
from .signing import SigningAuthority, signature_record, signing_authenticate

PERMISSION = "compliance.review_audit_trail"
CHAIN = "reviews"


def digest_of(events: QuerySet[AuditEvent]) -> tuple[int, str, int | None, int | None]:
    """(count, SHA-256 of the hashes in id order, first id, last id) of an AuditEvent queryset."""
    sha, count, first, last = hashlib.sha256(), 0, None, None
    for pk, event_hash in events.order_by("id").values_list("id", "hash").iterator(chunk_size=5000):
        sha.update(event_hash.encode())
        sha.update(b"\n")
        count, first, last = count + 1, first or pk, pk
    return count, sha.hexdigest(), first, last


def review_content(review: AuditReview) -> dict:
    return {
        "review": review.pk,
        "scope": review.scope,
        "scope_words": review.scope_words,
        "events": review.events,
        "first_event": review.first_event_id,
        "last_event": review.last_event_id,
        "digest": review.digest,
        "comment": review.comment,
    }


def review_signed_content(record_id: str, as_of: object) -> dict:
    return review_content(AuditReview.objects.get(pk=record_id))


def audit_review_sign(
    *,
    events: QuerySet[AuditEvent],
    scope: dict,
    scope_words: str,
    actor: User | None,
    secret: str,
    comment: str = "",
    username: str | None = None,
    session_key: str | None = None,
) -> AuditReview:
    if actor is None or not actor.has_perm(PERMISSION):
        raise SignatureRefused(
            f"{getattr(actor, 'username', 'anonymous')} may not review the audit trail", field="actor"
        )
    if not any(scope.get(k) for k in ("traveler", "work_order", "date_from", "date_to")):
        raise SignatureRefused("a review covers a traveler, a work order or a period: choose one", field="scope")
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _sign(events, scope, scope_words, actor, authority, (comment or "").strip())


@transaction.atomic
def _sign(
    events: QuerySet[AuditEvent], scope: dict, scope_words: str, actor: User, authority: SigningAuthority, comment: str
) -> AuditReview:
    count, digest, first, last = digest_of(events)
    if count == 0:
        raise SignatureRefused("there is nothing to review in this selection", field="scope")
    now = timezone.now()
    review = AuditReview(
        pk=next_id(AuditReview),  # the signature names its record, which is written once, signed
        scope=scope,
        scope_words=scope_words[:500],
        events=count,
        first_event_id=first,
        last_event_id=last,
        digest=digest,
        comment=comment,
        reviewed_by=actor,
        reviewed_at=now,
    )
    review.signature = signature_record(
        authority=authority,
        meaning=Signature.Meaning.REVIEWED,
        record_type="compliance.auditreview",
        record_id=review.pk,
        content=review_content(review),
        audit_chain=CHAIN,
        comment=comment,
        signed_at=now,
    )
    review.save(force_insert=True)
    audit_record(
        chain=CHAIN,
        action="audit.reviewed",
        object_type="compliance.auditreview",
        object_id=review.pk,
        actor=actor,
        changes={"events": [None, count], "digest": [None, digest], "scope": [None, scope_words]},
        reason=comment,
    )
    return review


def reviews_of(scope: dict) -> QuerySet[AuditReview]:
    """Earlier signed reviews of exactly this selection, newest first."""
    return AuditReview.objects.filter(scope=scope).select_related("signature")
