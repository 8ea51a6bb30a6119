"""The canonical content of traveler records: what signatures sign, and what audit events seal.

**Signed content, as it stood when signed.** A signature made at time t covers the record as it was
just before t: the routing revision the traveler then followed, the steps (with their characteristics
and limits) it then had, the values, holds, NCRs, consumptions and attachments that then existed, in
the state they then were. Every traveler record carries the time it came to be (and, if it changed
since, the time of that change), and every change to a traveler is stamped strictly after the one
before it (travelers.services.common.clock), so "before t" is exact: what the signing itself did is
stamped t and left out; what came later (rework steps after a rejection, the steps a re-plan adds) is
stamped later and left out too. The verifier rebuilds the same dictionaries from the same rows.

**Seals.** `record_state(...)` is each record's whole current content; the audit event of every change
carries its SHA-256 (mes.compliance.audit.record_seal) and reconciliation compares it with the row.

parts: one record's signed content; states: whole states for seals; history: `History`; signable: the
content functions registered with the signature verifier. The names below are the package's public API.

`History` loads everything one or many travelers' contents are built from in a fixed number of
queries, so the verifier rebuilds a million travelers' signatures in batches, without N+1.
"""

from .history import History
from .parts import (
    attachment_content,
    characteristic_content,
    consumption_content,
    correction_content,
    hold_content,
    measurement_content,
    ncr_content,
    step_snapshot,
)
from .signable import measurement_record_content, register, step_content, traveler_content
from .states import consumption_state, current_measurements, hold_state, ncr_state, steps_state

__all__ = [
    "History",
    "attachment_content",
    "characteristic_content",
    "consumption_content",
    "consumption_state",
    "correction_content",
    "current_measurements",
    "hold_content",
    "hold_state",
    "measurement_content",
    "measurement_record_content",
    "ncr_content",
    "ncr_state",
    "register",
    "step_content",
    "step_snapshot",
    "steps_state",
    "traveler_content",
]
