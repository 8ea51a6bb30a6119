"""History: everything one or many travelers' signed contents and seals are built from, loaded in ten
reads sent in two round trips, so the verifier rebuilds a million travelers' signatures in batches,
without N+1, and signing a step rebuilds its content cheaply."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from mes.compliance.models import Signature
from mes.prepared import Prepared, read_together
from travelers.models import (
    Attachment,
    Consumption,
    Hold,
    Measurement,
    Nonconformance,
    Traveler,
    TravelerCharacteristic,
    TravelerReplan,
    TravelerStep,
)

from .parts import (
    attachment_content,
    characteristic_content,
    measurement_content,
    ncr_content,
)
from .states import consumption_state, current_measurements, existed_before, hold_state, ncr_state


def _both(model, order: tuple[str, ...], related: tuple[str, ...] = ()) -> tuple[Prepared, Prepared]:
    """The rows of `model` hanging off steps, prepared two ways: of every step of a range of travelers, and
    of some steps (by id)."""
    rows = model.objects.select_related(*related).order_by(*order) if related else model.objects.order_by(*order)
    return (
        Prepared(lambda lo, hi: rows.filter(step__traveler__id__range=(lo, hi))),
        Prepared(lambda step_ids: rows.filter(step_id__in=step_ids)),
    )


# Every read of History compiled once (mes.prepared): signing a step rebuilds its content with them.
_TRAVELERS = Prepared(
    lambda lo, hi: Traveler.objects.filter(pk__range=(lo, hi)).select_related(
        "item__part", "item__part_revision", "work_order", "routing"
    )
)
_STEPS = TravelerStep.objects.select_related("operation", "work_center").order_by("traveler_id", "sequence")
_STEPS_OF = Prepared(lambda lo, hi: _STEPS.filter(traveler__id__range=(lo, hi)))
_SOME_STEPS = Prepared(lambda lo, hi, step_ids: _STEPS.filter(traveler__id__range=(lo, hi), pk__in=step_ids))
_CHARACTERISTICS = _both(TravelerCharacteristic, ("step_id", "sequence", "id"))
_ATTACHMENTS = _both(Attachment, ("uploaded_at", "id"))
_MEASUREMENTS = _both(
    Measurement, ("step_id", "characteristic__sequence", "characteristic_id", "recorded_at", "id"), ("characteristic",)
)
_CONSUMPTIONS = Prepared(
    lambda lo, hi: (
        Consumption.objects.filter(traveler__id__range=(lo, hi)).select_related("component__part").order_by("id")
    )
)
_NCRS = Prepared(
    lambda lo, hi: Nonconformance.objects.filter(traveler__id__range=(lo, hi)).select_related("step").order_by("number")
)
_HOLDS = Prepared(lambda lo, hi: Hold.objects.filter(traveler__id__range=(lo, hi)).order_by("placed_at", "id"))
_REPLANS = Prepared(
    lambda lo, hi: (
        TravelerReplan.objects.filter(traveler__id__range=(lo, hi))
        .select_related("from_routing", "to_routing")
        .order_by("replanned_at", "id")
    )
)
_BY_STEP = (_CHARACTERISTICS, _ATTACHMENTS, _MEASUREMENTS)  # the rows hanging off steps, in this order
_SIGNATURES = Prepared(lambda ids: Signature.objects.filter(pk__in=ids))
_MOST_PREPARED = 200  # signatures read by a prepared read; a verifier's batch has more, read by the ORM


class History:
    """The rows one or many travelers' signed contents and seals are built from: nine reads in one round
    trip, then the signatures they name."""

    def __init__(self, traveler_ids: Iterable[int], *, step_ids: Iterable[int] | None = None):
        """`traveler_ids`: every traveler whose id lies between the smallest and the largest given is loaded
        (a range reads faster than a long list; batches are ranges of ids)."""
        ids = sorted(traveler_ids)
        lo, hi = (ids[0], ids[-1]) if ids else (0, -1)
        wanted = None if step_ids is None else sorted({int(i) for i in step_ids})
        if wanted is None:
            by_step = [_STEPS_OF(lo, hi), *(pair[0](lo, hi) for pair in _BY_STEP)]
        elif wanted:
            by_step = [_SOME_STEPS(lo, hi, wanted), *(pair[1](wanted) for pair in _BY_STEP)]
        else:
            by_step = []
        # one round trip (mes.prepared.read_together), each read with its own snapshot as before
        travelers, *rest = read_together(
            [_TRAVELERS(lo, hi), *by_step, _CONSUMPTIONS(lo, hi), _NCRS(lo, hi), _HOLDS(lo, hi), _REPLANS(lo, hi)]
        )
        steps, characteristics, attachments, measurements = rest[:-4] if by_step else ([], [], [], [])
        self.consumptions, self.ncrs, self.holds, self.replans = rest[-4:]
        self.travelers = {t.pk: t for t in travelers}
        self.steps = {s.pk: s for s in steps}
        if wanted is not None:  # rows of the wanted steps that belong to these travelers only, as the steps
            characteristics = [c for c in characteristics if c.step_id in self.steps]
            attachments = [a for a in attachments if a.step_id in self.steps]
            measurements = [m for m in measurements if m.step_id in self.steps]
        self.characteristics: dict[int, list[TravelerCharacteristic]] = defaultdict(list)
        for c in characteristics:
            self.characteristics[c.step_id].append(c)
        self.attachments = attachments
        self._attachment_sha = {a.pk: a.sha256 for a in self.attachments}
        self.measurements = measurements
        signature_ids = sorted(
            {
                sig_id
                for s in self.steps.values()
                for sig_id in (s.performed_signature_id, s.inspected_signature_id, s.skip_signature_id)
                if sig_id
            }
            | {n.disposition_signature_id for n in self.ncrs if n.disposition_signature_id}
        )
        if not signature_ids:
            signatures = []
        elif len(signature_ids) <= _MOST_PREPARED:
            signatures = _SIGNATURES(signature_ids).all()
        else:
            signatures = list(Signature.objects.filter(pk__in=signature_ids))
        self.signatures = {s.pk: s for s in signatures}
        # indexes, so building any content costs what it holds, not the size of the batch
        self._by_traveler: dict[int, list[TravelerStep]] = defaultdict(list)
        for s in self.steps.values():
            self._by_traveler[s.traveler_id].append(s)
        self._by_step: dict[str, dict[int, list]] = {
            "m": defaultdict(list),
            "c": defaultdict(list),
            "a": defaultdict(list),
        }
        for kind, rows in (("m", self.measurements), ("c", self.consumptions), ("a", self.attachments)):
            for row in rows:
                self._by_step[kind][row.step_id].append(row)
        self._of_traveler: dict[str, dict[int, list]] = {}
        for kind, rows in (("h", self.holds), ("n", self.ncrs), ("c", self.consumptions), ("r", self.replans)):
            index = self._of_traveler[kind] = defaultdict(list)
            for row in rows:
                index[row.traveler_id].append(row)

    # -- lookups ------------------------------------------------------------------------------------------

    def row(self, record_type: str, pk: int):
        """A loaded measurement, NCR, hold or consumption by its signature's record type and id."""
        if not hasattr(self, "_rows"):
            self._rows = (
                {("travelers.measurement", m.pk): m for m in self.measurements}
                | {("travelers.ncr", n.pk): n for n in self.ncrs}
                | {("travelers.hold", h.pk): h for h in self.holds}
                | {("travelers.consumption", c.pk): c for c in self.consumptions}
            )
        return self._rows[(record_type, pk)]

    def characteristics_of(self, step: TravelerStep) -> list[TravelerCharacteristic]:
        return self.characteristics.get(step.pk, [])

    def steps_of(self, traveler_id: int) -> list[TravelerStep]:
        return self._by_traveler.get(traveler_id, [])

    def _of_steps(self, kind: str, step_ids) -> list:
        """The loaded rows of `kind` at these steps, in the order they were loaded."""
        index = self._by_step[kind]
        rows = [row for step_id in sorted(step_ids) for row in index.get(step_id, ())]
        if kind == "a":
            rows.sort(key=lambda a: (a.uploaded_at, a.pk))
        return rows

    def _values(self, step_ids: set[int], as_of) -> list[dict]:
        pool = self._of_steps("m", step_ids)
        return [
            measurement_content(m, attachment_sha256=self._attachment_sha.get(m.attachment_id))
            for m in current_measurements(pool, as_of)
        ]

    def _components(self, step_ids: set[int], as_of) -> list[dict]:
        return [
            {
                "id": c.pk,
                "step": c.step_id,
                "component": c.component_id,
                "quantity": c.quantity,
                "removed": existed_before(c.removed_at, as_of),
                "removal_reason": c.removal_reason if existed_before(c.removed_at, as_of) else "",
            }
            for c in sorted(self._of_steps("c", step_ids), key=lambda c: c.pk)
            if c.consumed_at < as_of
        ]

    def _attachments(self, step_ids: set[int], as_of) -> list[dict]:
        return [
            {"id": a.pk, "step": a.step_id, "filename": a.filename, "sha256": a.sha256}
            for a in self._of_steps("a", step_ids)
            if a.uploaded_at < as_of
        ]

    def routing_revision(self, traveler: Traveler, as_of) -> int:
        """The revision of the routing the traveler followed just before `as_of`."""
        replans = self._of_traveler["r"].get(traveler.pk, [])
        if not replans:
            return traveler.routing.revision
        earlier = [r for r in replans if r.replanned_at < as_of]
        return earlier[-1].to_routing.revision if earlier else replans[0].from_routing.revision

    def _signature_hash(self, signature_id, as_of):
        sig = self.signatures.get(signature_id) if signature_id else None
        return sig.content_hash if sig is not None and sig.signed_at < as_of else None

    # -- signed contents ----------------------------------------------------------------------------------

    def step_content(self, step: TravelerStep, as_of, *, skip_reason: str | None = None) -> dict:
        """A step as its performer, inspector or skipper signs it, just before `as_of`."""
        traveler = self.travelers[step.traveler_id]
        ids = {step.pk}
        return {
            "traveler": traveler.number,
            "step": {
                "id": step.pk,
                "sequence": step.sequence,
                "title": step.title,
                "operation": step.operation.code,
                "work_center": step.work_center.code if step.work_center_id else None,
                "origin": step.origin,
                "signoff": step.signoff,
                "skip_reason": step.skip_reason if skip_reason is None else skip_reason,
            },
            "characteristics": [characteristic_content(c) for c in self.characteristics_of(step)],
            "values": self._values(ids, as_of),
            "components": self._components(ids, as_of),
            "attachments": self._attachments(ids, as_of),
        }

    def traveler_content(self, traveler_id: int, as_of) -> dict:
        """The whole traveler as its approval, rejection or re-plan signs it, just before `as_of`."""
        traveler = self.travelers[traveler_id]
        steps = [s for s in self.steps_of(traveler_id) if s.created_at < as_of]
        ids = {s.pk for s in steps}
        return {
            "traveler": traveler.number,
            "item": {
                "part": traveler.item.part.number,
                "revision": traveler.item.part_revision.revision,
                "identifier": traveler.item.identifier,
                "quantity": traveler.item.quantity,
            },
            "work_order": traveler.work_order.number,
            "routing_revision": self.routing_revision(traveler, as_of),
            "steps": [
                {
                    "id": s.pk,
                    "sequence": s.sequence,
                    "operation": s.operation.code,
                    "origin": s.origin,
                    "title": s.title,
                    "characteristics": [characteristic_content(c) for c in self.characteristics_of(s)],
                    "signatures": [
                        h
                        for h in (
                            self._signature_hash(s.performed_signature_id, as_of),
                            self._signature_hash(s.inspected_signature_id, as_of),
                            self._signature_hash(s.skip_signature_id, as_of),
                        )
                        if h
                    ],
                }
                for s in steps
            ],
            "values": self._values(ids, as_of),
            "components": self._components(ids, as_of),
            "attachments": self._attachments(ids, as_of),
            "holds": [
                {
                    "id": h.pk,
                    "kind": h.kind,
                    "reason": h.reason,
                    "released": existed_before(h.released_at, as_of),
                    "release_reason": h.release_reason if existed_before(h.released_at, as_of) else "",
                }
                for h in self._of_traveler["h"].get(traveler_id, [])
                if h.placed_at < as_of
            ],
            "ncrs": [
                {
                    "number": n.number,
                    "description": n.description,
                    "disposition": n.disposition if existed_before(n.dispositioned_at, as_of) else "",
                    "signature": self._signature_hash(n.disposition_signature_id, as_of),
                }
                for n in self._of_traveler["n"].get(traveler_id, [])
                if n.raised_at < as_of
            ],
        }

    def ncr_content(self, ncr: Nonconformance) -> dict:
        rework = [s for s in self.steps_of(ncr.traveler_id) if s.ncr_id == ncr.pk]
        number = self.travelers[ncr.traveler_id].number
        return ncr_content(ncr, number, ncr.step.sequence if ncr.step_id else None, rework)

    # -- seals: each record's whole current state ------------------------------------------------------------

    def sealed_records(self, traveler_id: int) -> Iterable[tuple[str, str, dict]]:
        """(object type, object id, state) of every record of the traveler that an audit event seals."""
        step_ids = {s.pk for s in self.steps_of(traveler_id)}
        sha = self._attachment_sha
        for m in self._of_steps("m", step_ids):
            yield "travelers.measurement", str(m.pk), measurement_content(m, attachment_sha256=sha.get(m.attachment_id))
        for a in self._of_steps("a", step_ids):
            yield "travelers.attachment", str(a.pk), attachment_content(a)
        for h in self._of_traveler["h"].get(traveler_id, []):
            yield "travelers.hold", str(h.pk), hold_state(h)
        for n in self._of_traveler["n"].get(traveler_id, []):
            yield "travelers.nonconformance", str(n.pk), ncr_state(n)
        for c in self._of_traveler["c"].get(traveler_id, []):
            yield "travelers.consumption", str(c.pk), consumption_state(c)
