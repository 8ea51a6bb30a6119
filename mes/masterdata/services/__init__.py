"""Writes to master data. Each service is keyword-only, one transaction, and raises a named error.

    codes            what a legacy system's operation code or material number stands for; aliases, the queue
    drafts           building a draft routing: steps, characteristics, components, instruction attachments
    lifecycle        a routing's release checks, new revisions, whether it may be edited
    qualifications   whether a user may perform or inspect an operation

The names callers use are re-exported here (`from mes.masterdata import services as md`). Releasing and
making obsolete (lifecycle.routing_release, routing_obsolete) are not: only change control calls them,
after a change's two signatures (mes.masterdata.change_control).
"""

from .codes import (
    operation_alias_create,
    operation_resolve,
    part_alias_create,
    part_resolve,
    unmapped_code_map,
    unmapped_code_record,
)
from .drafts import (
    ALLOWED_INSTRUCTION_TYPES,
    MAX_INSTRUCTION_BYTES,
    characteristic_add,
    routing_create_draft,
    routing_step_add,
    routing_step_component_add,
    step_attachment_add,
)
from .lifecycle import routing_ensure_editable, routing_new_revision, routing_validate_for_release
from .qualifications import qualification_check

__all__ = [
    "ALLOWED_INSTRUCTION_TYPES",
    "MAX_INSTRUCTION_BYTES",
    "characteristic_add",
    "operation_alias_create",
    "operation_resolve",
    "part_alias_create",
    "part_resolve",
    "qualification_check",
    "routing_create_draft",
    "routing_ensure_editable",
    "routing_new_revision",
    "routing_step_add",
    "routing_step_component_add",
    "routing_validate_for_release",
    "step_attachment_add",
    "unmapped_code_map",
    "unmapped_code_record",
]
