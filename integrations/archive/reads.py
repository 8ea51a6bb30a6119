"""The archive's reads of one closed traveler, compiled once per process (mes.prepared) and sent together
in one round trip, instead of the ORM building and compiling the same querysets for every traveler.

`loaded_traveler(pk)` gives the traveler as travelers.selectors.traveler_detail loads it — the same
select_related graph, the same lists in the same order, in the same places (`traveler.steps.all()`, each
step's `characteristics.all()`, `measurements.all()`, `attachments.all()`, `traveler.holds.all()`,
`traveler.ncrs.all()`, `traveler.consumptions.all()`) — with the signatures made on the traveler itself and
its work order's provenance, so travelers.records.build_record makes the very same record from it
(tests/integrations/test_archive_reads.py compares the two). Profiled, traveler_detail's ORM work
(compiling eight querysets, prefetching) was a third of building a package's envelope.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.models import WorkOrderProvenance
from mes.compliance.models import AuditChainHead, AuditEvent, Signature
from mes.prepared import Prepared, read_together
from travelers.models import Traveler
from travelers.selectors import detail

# The shapes of travelers.selectors.traveler_detail, each filtered by the traveler's id.
_TRAVELER = Prepared(lambda pk: detail.traveler_rows().filter(pk=pk))
_STEPS = Prepared(lambda pk: detail.step_rows().filter(traveler_id=pk))
_CHARACTERISTICS = Prepared(lambda pk: detail.characteristic_rows().filter(step__traveler_id=pk))
_MEASUREMENTS = Prepared(lambda pk: detail.measurement_rows().filter(step__traveler_id=pk))
_ATTACHMENTS = Prepared(lambda pk: detail.attachment_rows().filter(step__traveler_id=pk))
_HOLDS = Prepared(lambda pk: detail.hold_rows().filter(traveler_id=pk))
_NCRS = Prepared(lambda pk: detail.ncr_rows().filter(traveler_id=pk))
_CONSUMPTIONS = Prepared(lambda pk: detail.consumption_rows().filter(traveler_id=pk))
# travelers.reports.traveler_for_record's signatures on the traveler itself (approval, rejection, re-plan)
_ON_TRAVELER = Prepared(
    lambda record_id: Signature.objects.filter(record_type="travelers.traveler", record_id=record_id).order_by(
        "signed_at", "id"
    )
)
_PROVENANCE = Prepared(
    lambda pk: (
        WorkOrderProvenance.objects.filter(work_order__travelers__id=pk)
        .select_related("message__adapter")
        .order_by("message__received_at", "message_id")
    )
)

# The traveler's own audit chain, whole, and its head
_EVENTS = Prepared(lambda chain: AuditEvent.objects.filter(chain=chain).order_by("seq"))
_HEAD = Prepared(lambda chain: AuditChainHead.objects.filter(chain=chain))


@dataclass
class Loaded:
    traveler: Traveler  # with its lists in place, as traveler_detail loads it
    on_traveler: list[Signature]
    provenance: list[WorkOrderProvenance]
    events: list[AuditEvent]  # the traveler's chain, "traveler:<id>", in order
    head: AuditChainHead | None

    def signatures(self) -> dict[int, Signature]:
        """Every signature the loaded graph holds (the record's signatures are among them), by id."""
        t = self.traveler
        found = [t.final_signature, *self.on_traveler]
        for s in t.steps.all():
            found += [s.performed_signature, s.inspected_signature, s.skip_signature]
            for m in s.measurements.all():
                found += [m.correction_signature, m.cosignature]
        found += [sig for n in t.ncrs.all() for sig in (n.disposition_signature, n.mrb_signature)]
        found += [h.release_signature for h in t.holds.all()]
        found += [c.removal_signature for c in t.consumptions.all()]
        return {sig.pk: sig for sig in found if sig is not None}


def _place(owner, name: str, rows: list, back: str | None = None) -> None:
    """Put `rows` where Django's prefetch_related would put them: `owner.<name>.all()` gives them with no
    query; each row's foreign key back to `owner` (`back`) is filled in, as the prefetch does."""
    if back is not None:
        for row in rows:
            setattr(row, back, owner)
    queryset = getattr(owner, name).all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    if not hasattr(owner, "_prefetched_objects_cache"):
        owner._prefetched_objects_cache = {}
    owner._prefetched_objects_cache[name] = queryset


def loaded_traveler(pk: int) -> Loaded:
    """The traveler `pk` as traveler_detail loads it, with its on-traveler signatures, its work order's
    provenance and its audit chain with the chain's head: twelve prepared reads in one round trip."""
    chain = f"traveler:{pk}"
    found = read_together(
        [
            _TRAVELER(pk),
            _STEPS(pk),
            _CHARACTERISTICS(pk),
            _MEASUREMENTS(pk),
            _ATTACHMENTS(pk),
            _HOLDS(pk),
            _NCRS(pk),
            _CONSUMPTIONS(pk),
            _ON_TRAVELER(str(pk)),
            _PROVENANCE(pk),
            _EVENTS(chain),
            _HEAD(chain),
        ]
    )
    travelers, steps, characteristics, measurements, attachments, holds, ncrs, consumptions = found[:8]
    on, provenance, events, head = found[8:]
    if not travelers:
        raise Traveler.DoesNotExist(f"there is no traveler {pk}")
    traveler = travelers[0]
    by_step: dict[str, dict[int, list]] = {"c": {}, "m": {}, "a": {}}
    for kind, rows in (("c", characteristics), ("m", measurements), ("a", attachments)):
        for row in rows:
            by_step[kind].setdefault(row.step_id, []).append(row)
    for step in steps:
        _place(step, "characteristics", by_step["c"].get(step.pk, []), back="step")
        _place(step, "measurements", by_step["m"].get(step.pk, []), back="step")
        _place(step, "attachments", by_step["a"].get(step.pk, []), back="step")
    _place(traveler, "steps", steps, back="traveler")
    _place(traveler, "holds", holds, back="traveler")
    _place(traveler, "ncrs", ncrs, back="traveler")
    _place(traveler, "consumptions", consumptions, back="traveler")
    return Loaded(traveler, on, provenance, events, head[0] if head else None)
