"""Change control for routings (21 CFR 11.10(k); AS9100 8.5.6): a routing revision is released — or a
released one made obsolete — only through a change that says why (a reason, a change-order reference),
shows what differs from the revision in use (changed limits first), and carries two electronic
signatures by different people: engineering "approved for release" and quality "approved". Both
signatures cover the routing's document as it stood and the difference; they and the change are part of
the record (RoutingChange, signatures of record type masterdata.routingchange).

    change = routing_change_request(routing=draft, action="release", reason="…", reference="ECO-…", actor=…)
    routing_change_approve(change=change, role="engineering", actor=engineer, secret=…, username=…)
    routing_change_approve(change=change, role="quality", actor=inspector, secret=…, username=…)
    # the second signature releases the routing (the previous revision is superseded)

While a change of a draft is open the draft cannot be edited (what is signed is what is released).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from mes.compliance.audit import audit_record
from mes.compliance.canonical import canonical_hash
from mes.compliance.errors import SignatureRefused
from mes.compliance.history import reason_for_change
from mes.compliance.signing import signature_record, signing_authenticate

from .documents.export import routing_document_export
from .errors import RoutingNotEditable, RoutingTransitionRefused
from .models import Routing, RoutingChange
from .services.lifecycle import routing_obsolete, routing_release, routing_validate_for_release
from .states import RoutingStatus

ROLES = {
    "engineering": ("masterdata.approve_routing_engineering", "release_approved", "engineering_signature"),
    "quality": ("masterdata.approve_routing_quality", "approved", "quality_signature"),
}
CHAR_FIELDS = ("name", "kind", "unit", "nominal", "lower_limit", "upper_limit", "decimals", "choices", "required",
               "on_out_of_spec")  # fmt: skip
LIMIT_FIELDS = {"nominal", "lower_limit", "upper_limit", "unit"}
STEP_FIELDS = ("operation", "title", "instructions", "signoff", "may_run_out_of_order", "work_center")


def routing_document(routing: Routing) -> dict:
    """What the signatures cover of a routing: its document, without its (changing) status."""
    document = routing_document_export(routing=routing)
    document["routing"] = {k: v for k, v in document["routing"].items() if k != "status"}
    return document


def routing_diff(before: dict | None, after: dict) -> list[dict]:
    """What differs between two routing documents, step by step and characteristic by characteristic:
    [{"where", "field", "old", "new", "limit"}]; `limit` marks a changed limit, nominal or unit."""
    changes = []
    old_steps = {s["sequence"]: s for s in (before or {}).get("steps", [])}
    new_steps = {s["sequence"]: s for s in after.get("steps", [])}
    for seq in sorted(old_steps.keys() | new_steps.keys()):
        old, new = old_steps.get(seq), new_steps.get(seq)
        where = f"step {seq}"
        if old is None or new is None:
            changes.append({"where": where, "field": "step", "old": old and old["title"], "new": new and new["title"],
                            "limit": False})  # fmt: skip
            continue
        for field in STEP_FIELDS:
            if old.get(field) != new.get(field):
                changes.append({"where": where, "field": field, "old": old.get(field), "new": new.get(field),
                                "limit": False})  # fmt: skip
        old_chars = {c["code"]: c for c in old["characteristics"]}
        new_chars = {c["code"]: c for c in new["characteristics"]}
        for code in sorted(old_chars.keys() | new_chars.keys()):
            a, b = old_chars.get(code), new_chars.get(code)
            if a is None or b is None:
                changes.append({"where": f"{where} · {code}", "field": "characteristic", "old": a and a["name"],
                                "new": b and b["name"], "limit": True})  # fmt: skip
                continue
            for field in CHAR_FIELDS:
                if a.get(field) != b.get(field):
                    changes.append({"where": f"{where} · {code}", "field": field, "old": a.get(field),
                                    "new": b.get(field), "limit": field in LIMIT_FIELDS})  # fmt: skip
    return changes


def change_content(change: RoutingChange) -> dict:
    """What each signature of a change covers: the change and the routing's document as it stands."""
    return {
        "change": change.pk,
        "action": change.action,
        "reason": change.reason,
        "reference": change.reference,
        "routing": {"part": change.routing.part_revision.part.number,
                    "part_revision": change.routing.part_revision.revision, "revision": change.routing.revision},
        "document_sha256": change.document_sha256,
        "diff": change.diff,
    }  # fmt: skip


def change_signed_content(record_id, as_of) -> dict:
    """Registered with mes.compliance.signing: a change's content, for the verifier."""
    return change_content(RoutingChange.objects.select_related("routing__part_revision__part").get(pk=record_id))


def _audit(change: RoutingChange, action: str, actor, changes: dict, reason: str = "") -> None:
    audit_record(
        chain=f"routing:{change.routing_id}",
        action=action,
        object_type="masterdata.routingchange",
        object_id=change.pk,
        actor=actor,
        changes=changes,
        reason=reason,
    )


@transaction.atomic
def routing_change_request(*, routing: Routing, action: str, reason: str, actor, reference: str = "") -> RoutingChange:
    """Ask for a routing's release (a draft) or obsolescence (the released one), saying why."""
    routing = Routing.objects.select_for_update().select_related("part_revision__part").get(pk=routing.pk)
    if actor is None or not actor.has_perm("masterdata.change_routing"):
        raise SignatureRefused(
            gettext("%(getattr)s may not change routings") % {"getattr": getattr(actor, "username", "anonymous")},
            field="actor",
        )
    if action not in RoutingChange.Action.values:
        raise RoutingTransitionRefused(
            gettext("'%(action)s' is not a routing change: release or obsolete") % {"action": action}, field="action"
        )
    reason = (reason or "").strip()
    if not reason:
        raise RoutingTransitionRefused(gettext("say why (a reason or the change order)"), field="reason")
    if RoutingChange.objects.filter(routing=routing, status=RoutingChange.Status.OPEN).exists():
        raise RoutingTransitionRefused(
            gettext("%(routing)s already has an open change") % {"routing": routing}, field="routing"
        )
    before = None
    if action == RoutingChange.Action.RELEASE:
        if routing.status != RoutingStatus.DRAFT:
            raise RoutingTransitionRefused(
                gettext("%(routing)s is %(status)s: only a draft is released")
                % {"routing": routing, "status": routing.status},
                field="status",
            )
        problems = routing_validate_for_release(routing)
        if problems:
            field, message = problems[0]
            raise RoutingNotEditable(message, field=field)
        current = Routing.objects.filter(part_revision=routing.part_revision, status=RoutingStatus.RELEASED).first()
        before = routing_document(current) if current else None
    elif routing.status != RoutingStatus.RELEASED:
        raise RoutingTransitionRefused(gettext(
                "%(routing)s is %(status)s: only a released routing is made obsolete"
            ) % {"routing": routing, "status": routing.status},
                                       field="status")  # fmt: skip
    document = routing_document(routing)
    change = RoutingChange.objects.create(
        routing=routing,
        action=action,
        reason=reason,
        reference=(reference or "").strip(),
        diff=routing_diff(before, document) if action == RoutingChange.Action.RELEASE else [],
        document_sha256=canonical_hash(document),
        requested_by=actor,
        requested_at=timezone.now(),
    )
    differences = {f"{d['where']} · {d['field']}": [d["old"], d["new"]] for d in change.diff}
    _audit(change, "routing_change.requested", actor,
           {"action": [None, action], "reference": [None, change.reference], **differences}, reason)  # fmt: skip
    return change


def routing_change_approve(
    *, change: RoutingChange, role: str, actor, secret: str, username: str | None = None, session_key=None
) -> RoutingChange:
    """Sign a change for engineering or quality; the second of the two executes it."""
    authority = signing_authenticate(user=actor, secret=secret, username=username, session_key=session_key)
    return _approve(change.pk, role=role, actor=actor, authority=authority)


@transaction.atomic
def _approve(change_id: int, *, role: str, actor, authority) -> RoutingChange:
    change = RoutingChange.objects.select_for_update().select_related("routing__part_revision__part").get(pk=change_id)
    if role not in ROLES:
        raise SignatureRefused(
            gettext("'%(role)s' is not a signing role: engineering or quality") % {"role": role}, field="role"
        )
    perm, meaning, slot = ROLES[role]
    if not actor.has_perm(perm):
        raise SignatureRefused(
            gettext("%(username)s may not sign routing changes for %(role)s")
            % {"username": actor.get_username(), "role": role},
            field="role",
        )
    if change.status != RoutingChange.Status.OPEN:
        raise RoutingTransitionRefused(
            gettext("this change is %(status)s") % {"status": change.get_status_display().lower()}, field="change"
        )
    if getattr(change, f"{slot}_id"):
        raise RoutingTransitionRefused(
            gettext("%(role)s has signed this change already") % {"role": role}, field="role"
        )
    other = change.quality_signature if role == "engineering" else change.engineering_signature
    if other is not None and other.signer_id == actor.pk:
        raise SignatureRefused(gettext("the two signatures of a change are by two different people"), field="actor")
    if canonical_hash(routing_document(change.routing)) != change.document_sha256:
        raise RoutingTransitionRefused(gettext(
                "the routing changed since the change was asked for: withdraw it and ask again"
            ),
                                       field="routing")  # fmt: skip
    now = timezone.now()
    signature = signature_record(
        authority=authority,
        meaning=meaning,
        record_type="masterdata.routingchange",
        record_id=change.pk,
        content=change_content(change),
        audit_chain=f"routing:{change.routing_id}",
        comment=change.reason,
        signed_at=now,
    )
    setattr(change, slot, signature)
    if change.engineering_signature_id and change.quality_signature_id:
        routing, engineer = change.routing, change.engineering_signature.signer  # released by: engineering
        with reason_for_change(change.reason, change=change.pk, reference=change.reference):
            if change.action == RoutingChange.Action.RELEASE:
                routing_release(routing=routing, actor=engineer)
            else:
                routing_obsolete(routing=routing, actor=engineer)
        change.status, change.completed_at = RoutingChange.Status.APPROVED, now
    change.save(update_fields=[slot, "status", "completed_at"])
    _audit(change, f"routing_change.signed_{role}", actor, {"status": [None, change.status]})
    return change


@transaction.atomic
def routing_change_withdraw(*, change: RoutingChange, actor, reason: str) -> RoutingChange:
    change = RoutingChange.objects.select_for_update().get(pk=change.pk)
    if change.status != RoutingChange.Status.OPEN:
        raise RoutingTransitionRefused(
            gettext("this change is %(status)s") % {"status": change.get_status_display().lower()}, field="change"
        )
    if not (reason or "").strip():
        raise RoutingTransitionRefused(gettext("say why the change is withdrawn"), field="reason")
    change.status, change.completed_at = RoutingChange.Status.WITHDRAWN, timezone.now()
    change.save(update_fields=["status", "completed_at"])
    _audit(change, "routing_change.withdrawn", actor, {"status": ["open", "withdrawn"]}, reason.strip())
    return change


def open_change_of(routing_id: int) -> RoutingChange | None:
    return RoutingChange.objects.filter(routing_id=routing_id, status=RoutingChange.Status.OPEN).first()


def routing_release_signed(
    *, routing: Routing, reason: str, engineer, engineer_secret: str, quality, quality_secret: str, reference: str = ""
) -> Routing:
    """The whole change at once, for code that stands for people who are there (the demo factory, a data
    generator): the engineer asks and signs, quality signs; every check of the screens applies."""
    change = routing_change_request(
        routing=routing, action="release", reason=reason, reference=reference, actor=engineer
    )
    routing_change_approve(
        change=change, role="engineering", actor=engineer, secret=engineer_secret, username=engineer.get_username()
    )
    routing_change_approve(
        change=change, role="quality", actor=quality, secret=quality_secret, username=quality.get_username()
    )
    return Routing.objects.get(pk=routing.pk)
