"""A routing exported as a schema-version-1 document: plain JSON types, lists in one deterministic order."""

from __future__ import annotations

from mes.numbers import decimal_text_or_none

from ..models import Operation, Routing
from .schema import SCHEMA, SCHEMA_VERSION, normalized_unit


def _characteristic_key(char: dict) -> tuple:
    return (char["sequence"], char["code"])


def _alias_key(alias: dict) -> tuple:
    return (alias["source_system"], alias["site"] or "", alias["code"])


def sorted_document(document: dict) -> dict:
    """The same document with its lists in the one deterministic order."""
    document = dict(document)
    document["steps"] = [
        {**step, "characteristics": sorted(step["characteristics"], key=_characteristic_key)}
        for step in sorted(document["steps"], key=lambda step: step["sequence"])
    ]
    document["operations"] = [
        {**op, "aliases": sorted(op["aliases"], key=_alias_key)}
        for op in sorted(document["operations"], key=lambda op: op["code"])
    ]
    return document


def routing_document_export(*, routing: Routing) -> dict:
    """The routing as a schema-version-1 document (plain JSON types, deterministic order)."""
    routing = Routing.objects.select_related("part_revision__part").get(pk=routing.pk)
    part_revision = routing.part_revision
    part = part_revision.part
    steps = list(
        routing.steps.select_related("operation", "work_center__site")
        .prefetch_related("characteristics")
        .order_by("sequence")
    )
    operation_ids = {step.operation_id for step in steps}
    operations = Operation.objects.filter(pk__in=operation_ids).prefetch_related("aliases__site").order_by("code")
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "part": {
            "number": part.number,
            "name": part.name,
            "tracking": part.tracking,
            "customer": part.customer,
            "description": part.description,
        },
        "part_revision": {
            "revision": part_revision.revision,
            "description": part_revision.description,
            "drawing_number": part_revision.drawing_number,
        },
        "routing": {
            "revision": routing.revision,
            "status": routing.status,
            "description": routing.description,
        },
        "steps": [
            {
                "sequence": step.sequence,
                "operation": step.operation.code,
                "work_center": (
                    {"site": step.work_center.site.code, "code": step.work_center.code} if step.work_center else None
                ),
                "title": step.title,
                "instructions": step.instructions,
                "signoff": step.signoff,
                "may_run_out_of_order": step.may_run_out_of_order,
                "characteristics": [
                    {
                        "sequence": char.sequence,
                        "code": char.code,
                        "name": char.name,
                        "kind": char.kind,
                        "unit": normalized_unit(char.unit),
                        "nominal": decimal_text_or_none(char.nominal),
                        "lower_limit": decimal_text_or_none(char.lower_limit),
                        "upper_limit": decimal_text_or_none(char.upper_limit),
                        "decimals": char.decimals,
                        "choices": list(char.choices or []),
                        "required": char.required,
                        "on_out_of_spec": char.on_out_of_spec,
                    }
                    for char in step.characteristics.all()
                ],
            }
            for step in steps
        ],
        "operations": [
            {
                "code": op.code,
                "name": op.name,
                "description": op.description,
                "aliases": [
                    {
                        "source_system": alias.source_system,
                        "site": alias.site.code if alias.site_id else None,
                        "code": alias.code,
                    }
                    for alias in op.aliases.all()
                ],
            }
            for op in operations
        ],
    }
    return sorted_document(document)
