"""The verifier's check of traveler records (registered with mes.compliance.verify), batch by batch:

- every signature on a traveler's records — steps, the traveler itself, corrections, NCR dispositions,
  hold releases, component removals — rebuilt as of its signing (travelers.content.History) and its
  keyed hash recomputed; each has its "signature.signed" event in the traveler's chain, sealing its hash;
- reconciliation: every value, attachment, hold, NCR and consumption has audit events, and its content
  now matches the seal of the last one; every step joined the traveler in a sealed "steps.added" event
  (characteristics and limits included); every event about such a record names one that exists;
- every traveler has an audit trail at all.

A row without its event, or an event without its row, is named: table, id, traveler.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast

from mes.compliance import keys
from mes.compliance.audit import record_seal
from mes.compliance.models import AuditEvent, Signature
from mes.compliance.signing import signature_matches
from mes.compliance.verify import Report, check_chains, register_records_check

from .content import History, consumption_content, correction_content, hold_content, steps_state
from .models import Consumption, Hold, Measurement, Nonconformance, Traveler, TravelerStep

BATCH = 200
SIGNATURE_TYPES = (
    "travelers.step",
    "travelers.traveler",
    "travelers.measurement",
    "travelers.ncr",
    "travelers.hold",
    "travelers.consumption",
)
SEALED_TABLES = {
    "travelers.measurement": "travelers_measurement",
    "travelers.attachment": "travelers_attachment",
    "travelers.hold": "travelers_hold",
    "travelers.nonconformance": "travelers_nonconformance",
    "travelers.consumption": "travelers_consumption",
}


def signatures_of(history: History) -> list[Signature]:
    ids = {
        "travelers.traveler": list(history.travelers),
        "travelers.step": list(history.steps),
        "travelers.measurement": [m.pk for m in history.measurements],
        "travelers.ncr": [n.pk for n in history.ncrs],
        "travelers.hold": [h.pk for h in history.holds],
        "travelers.consumption": [c.pk for c in history.consumptions],
    }
    wanted = [(record_type, [str(pk) for pk in pks]) for record_type, pks in ids.items() if pks]
    if not wanted:
        return []
    # One array parameter per record type (not one parameter per id): fast to bind whatever the batch.
    where = " OR ".join("(record_type = %s AND record_id = ANY(%s))" for _ in wanted)
    params = [value for pair in wanted for value in pair]
    return list(Signature.objects.extra(where=[where], params=params).order_by("signed_at", "id"))  # noqa: S610


def signed_content_of(history: History, sig: Signature) -> dict:
    """What `sig` signed, rebuilt from the loaded history as of its signing."""
    record_id = int(sig.record_id)
    if sig.record_type == "travelers.traveler":
        return history.traveler_content(record_id, sig.signed_at)
    if sig.record_type == "travelers.step":
        return history.step_content(history.steps[record_id], sig.signed_at)
    row = history.row(sig.record_type, record_id)
    if sig.record_type == "travelers.measurement":
        step = history.steps[row.step_id]
        return correction_content(history.travelers[step.traveler_id], step, row)
    if sig.record_type == "travelers.ncr":
        return history.ncr_content(row)
    if sig.record_type == "travelers.hold":
        return hold_content(row, history.travelers[row.traveler_id].number)
    return consumption_content(row, history.travelers[row.traveler_id].number)


def traveler_of(history: History, sig: Signature) -> int:
    record_id = int(sig.record_id)
    if sig.record_type == "travelers.traveler":
        return record_id
    if sig.record_type == "travelers.step":
        return history.steps[record_id].traveler_id
    row = history.row(sig.record_type, record_id)
    if sig.record_type == "travelers.measurement":
        return history.steps[row.step_id].traveler_id
    return row.traveler_id


def _events(traveler_ids: list[int]) -> dict[int, list[tuple]]:
    rows = (
        AuditEvent.objects.filter(chain__in=[f"traveler:{pk}" for pk in traveler_ids])
        .order_by("chain", "seq")
        .values_list("chain", "seq", "action", "object_type", "object_id", "seal", "changes")
    )
    by_traveler: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_traveler[int(row[0].split(":", 1)[1])].append(row)
    return by_traveler


def _check_traveler(
    report: Report, history: History, traveler: Traveler, events: list[tuple], signatures: list[Signature]
) -> None:
    name = traveler.number
    if not events:
        report.add("records", f"traveler {name}", "has no audit trail at all")
        return
    last_seal: dict[tuple[str, str], str] = {}
    signed_events: dict[str, str] = {}
    steps_covered: dict[int, int] = {}
    for _chain, seq, action, object_type, object_id, seal, changes in events:
        if object_type in SEALED_TABLES and seal:
            last_seal[(object_type, object_id)] = seal
        elif object_type == "compliance.signature":
            signed_events[object_id] = seal
        if action == "steps.added":
            step_ids = (changes.get("step_ids") or [None, []])[1]
            steps = [history.steps.get(i) for i in step_ids]
            missing = [i for i, s in zip(step_ids, steps, strict=True) if s is None]
            if missing:
                report.add("records", f"traveler {name} event #{seq}", f"names steps {missing}, which are gone")
                continue
            for s in steps:
                steps_covered[s.pk] = seq
            if record_seal(steps_state(steps, history.characteristics_of)) != seal:
                report.add(
                    "records",
                    f"traveler {name} event #{seq}",
                    f"steps {sorted(s.sequence for s in steps)} (or their characteristics and limits) differ from "
                    "what was sealed when they joined the traveler",
                )
    for step in history.steps_of(traveler.pk):
        if step.pk not in steps_covered:
            report.add("records", f"travelers_travelerstep {step.pk} (traveler {name})", "has no audit event")
    present = set()
    for object_type, object_id, state in history.sealed_records(traveler.pk):
        present.add((object_type, object_id))
        table = SEALED_TABLES[object_type]
        seal = last_seal.get((object_type, object_id))
        if seal is None:
            report.add("records", f"{table} {object_id} (traveler {name})", "has no audit event")
        elif record_seal(state) != seal:
            report.add(
                "records",
                f"{table} {object_id} (traveler {name})",
                "differs from what its last audit event sealed: it was changed behind the services' back",
            )
        report.count("records")
    for object_type, object_id in set(last_seal) - present:
        report.add(
            "records",
            f"traveler {name} audit trail",
            f"names {SEALED_TABLES[object_type]} {object_id}, which is not in the database",
        )
    for sig in signatures:
        where = f"signature {sig.pk} ({sig.printed_name}, {sig.meaning_label}, {sig.record_type} {sig.record_id})"
        if signed_events.pop(str(sig.pk), None) != sig.content_hash:
            report.add("records", where, f"has no matching audit event in traveler {name}'s trail")
        try:
            if not signature_matches(sig, signed_content_of(history, sig)):
                report.add(
                    "signatures", where, "the record, as it stood when signed, no longer hashes to what was signed"
                )
        except keys.IntegrityKeyMissing as exc:
            report.add("signatures", where, str(exc))
        report.count("signatures")
    for signature_id in signed_events:
        report.add(
            "records", f"traveler {name} audit trail", f"names signature {signature_id}, which is not on its records"
        )


def check_batch(report: Report, traveler_ids: list[int]) -> None:
    """The records of these travelers (a fixed number of queries, whatever their number)."""
    history = History(traveler_ids)
    events = _events(traveler_ids)
    signatures = defaultdict(list)
    for sig in signatures_of(history):
        signatures[traveler_of(history, sig)].append(sig)
    for pk in traveler_ids:
        if pk in history.travelers:
            _check_traveler(report, history, history.travelers[pk], events.get(pk, []), signatures[pk])


def check_travelers(report: Report, shard: tuple[int, int] | None = None) -> None:
    """Every traveler (or the `shard` = (i, n)-th part of them: every n-th batch), in batches of BATCH
    consecutive ids; shard 0 (or the whole check) also looks for signatures whose record is gone."""
    ids = list(Traveler.objects.order_by("pk").values_list("pk", flat=True))
    batches = [ids[start : start + BATCH] for start in range(0, len(ids), BATCH)]
    if shard is not None:
        batches = batches[shard[0] :: shard[1]]
    for batch in batches:
        if report.done:
            return
        check_batch(report, batch)
    if shard is None or shard[0] == 0:
        _check_orphan_signatures(report)


def traveler_chains(traveler: Traveler) -> list[str]:
    """The audit chains a traveler's record spans: its own and its work order's."""
    return [f"traveler:{traveler.pk}", f"workorder:{traveler.work_order_id}"]


def traveler_findings(traveler: Traveler) -> list[str]:
    """Everything the verifier would say about one traveler: its chains, signatures and reconciliation
    (archiving seals only what verifies)."""
    report = Report()
    check_chains(report, chains=traveler_chains(traveler))
    check_batch(report, [traveler.pk])
    return [str(f) for f in report.findings]


def _check_orphan_signatures(report: Report) -> None:
    """Signatures of traveler record types whose record is gone (the batches only see existing records)."""
    models = {
        "travelers.traveler": Traveler,
        "travelers.step": TravelerStep,
        "travelers.measurement": Measurement,
        "travelers.ncr": Nonconformance,
        "travelers.hold": Hold,
        "travelers.consumption": Consumption,
    }
    for record_type, model in models.items():
        record = model.objects.annotate(key=Cast("pk", CharField())).filter(key=OuterRef("record_id"))
        orphans = Signature.objects.filter(record_type=record_type).exclude(Exists(record))
        for sig in orphans[:100]:
            report.add("records", f"signature {sig.pk}", f"signs {record_type} {sig.record_id}, which is gone")


def register() -> None:
    register_records_check("travelers", check_travelers, signature_types=SIGNATURE_TYPES)
