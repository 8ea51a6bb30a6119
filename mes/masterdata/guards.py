"""Database guards of routings (see mes.compliance.guards): a released or retired routing never changes,
not even through SQL. A non-draft routing may only be retired (released -> superseded or obsolete) with
nothing else changed; it is never deleted; its steps, characteristics, step components and instruction
attachments are neither added, changed nor removed."""

# ruff: noqa: S608 - trigger bodies are assembled from constant SQL fragments, never from input.

from __future__ import annotations

import pgtrigger

from mes.compliance import guards

# The columns of a routing that retiring it leaves as they are.
ROUTING_KEPT_ON_RETIRE = (
    "part_revision_id",
    "revision",
    "description",
    "created_at",
    "created_by_id",
    "released_at",
    "released_by_id",
    "based_on_id",
)

_routing_guard = f"""
IF TG_OP = 'DELETE' THEN
    IF OLD.status <> 'draft' THEN
        {guards.raise_sql("routing % is %: it cannot be deleted", "OLD.id", "OLD.status")}
    END IF;
    RETURN OLD;
END IF;
IF OLD.status = 'draft' THEN
    RETURN NEW;
END IF;
IF OLD.status = 'released' AND NEW.status IN ('superseded', 'obsolete')
   AND ({", ".join("NEW." + c for c in ROUTING_KEPT_ON_RETIRE)})
       IS NOT DISTINCT FROM ({", ".join("OLD." + c for c in ROUTING_KEPT_ON_RETIRE)}) THEN
    RETURN NEW;
END IF;
{guards.raise_sql("routing % is %: it cannot be changed (make a new revision)", "OLD.id", "OLD.status")}
"""


def routing_guard() -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="released_is_immutable",
        when=pgtrigger.Before,
        operation=pgtrigger.Update | pgtrigger.Delete,
        func=_routing_guard,
    )


def _content_guard(routing_of: str) -> str:
    """Refuse the statement when the row's routing (`routing_of` gives it from OLD or NEW) is not a draft."""
    checks = []
    for row, op in (("OLD", "INSERT"), ("NEW", "DELETE")):
        routing = routing_of.format(row=row)
        checks.append(
            f"IF TG_OP <> '{op}' AND EXISTS (SELECT 1 FROM masterdata_routing r WHERE r.id = {routing} "
            f"AND r.status <> 'draft') THEN "
            + guards.raise_sql(
                "routing % is not a draft: its % cannot be changed (make a new revision)", routing, "TG_TABLE_NAME"
            )
            + " END IF;"
        )
    return "\n".join(checks) + "\nIF TG_OP = 'DELETE' THEN RETURN OLD; END IF;\nRETURN NEW;"


def content_guard(*, via_step: bool) -> pgtrigger.Trigger:
    """The guard of a routing's content: a step (`via_step=False`), or what hangs off a step."""
    routing_of = (
        "(SELECT s.routing_id FROM masterdata_routingstep s WHERE s.id = {row}.step_id)"
        if via_step
        else "{row}.routing_id"
    )
    return pgtrigger.Trigger(
        name="routing_draft_only",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        func=_content_guard(routing_of),
    )


def change_guard() -> pgtrigger.Trigger:
    """A routing change is never deleted; what was asked never changes; a signature once there stays; an
    approved or withdrawn change never changes again."""
    body = f"""
IF TG_OP = 'DELETE' THEN
    {guards.raise_sql("routing change % is part of the record: it is never deleted", "OLD.id")}
END IF;
IF OLD.status <> 'open' THEN
    {guards.raise_sql("routing change % is %: it never changes again", "OLD.id", "OLD.status")}
END IF;
IF (NEW.routing_id, NEW.action, NEW.reference, NEW.reason, NEW.diff::text, NEW.document_sha256, NEW.requested_by_id,
    NEW.requested_at) IS DISTINCT FROM (OLD.routing_id, OLD.action, OLD.reference, OLD.reason, OLD.diff::text,
    OLD.document_sha256, OLD.requested_by_id, OLD.requested_at)
   OR (OLD.engineering_signature_id IS NOT NULL
       AND NEW.engineering_signature_id IS DISTINCT FROM OLD.engineering_signature_id)
   OR (OLD.quality_signature_id IS NOT NULL AND NEW.quality_signature_id IS DISTINCT FROM OLD.quality_signature_id)
THEN
    {guards.raise_sql("routing change %: what was asked and who signed never change", "OLD.id")}
END IF;
RETURN NEW;
"""
    return pgtrigger.Trigger(
        name="change_guard", when=pgtrigger.Before, operation=pgtrigger.Update | pgtrigger.Delete, func=body
    )
