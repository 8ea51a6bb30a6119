"""The verifier: everything that proves the record was not changed behind the services' back.

    report = verify_records()        # all of it; manage.py verify_audit, the daily task
    report.ok, report.findings, report.counts

It checks, and names in plain words what it finds:
1. guards — every declared database trigger is installed and enabled, and no session can skip them;
2. keys — every key id used by an event, signature or checkpoint is in the key ring;
3. chains — each audit chain numbered 1..n without gaps, each event's keyed hash recomputed, each
   pointing at its predecessor, the head at the last event, every registered chain present;
4. checkpoints — the data lake's signed checkpoints are intact and every head they name is still in the
   database, at least as long, with the same hash at the checkpointed event;
5. records — the apps' own checks, registered with `register_records_check` (travelers: every signature
   rebuilt as of its signing and its keyed hash recomputed; every record has its audit event, every
   event its record, and each record's content matches the seal of its last event);
6. signatures of record types no app checks in batch, one by one through their content functions.
"""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from . import checkpoints, guards, keys
from .audit import GENESIS
from .canonical import canonical_bytes, canonical_hash
from .models import AuditChainHead, AuditEvent, IntegrityCheckpoint, Signature
from .signing import signature_verify

log = logging.getLogger(__name__)

MAX_KEPT = 500  # findings kept in full; the count goes on


@dataclass(frozen=True)
class Finding:
    check: str  # guards | keys | chains | checkpoints | records | signatures
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    first_only: bool = False

    @property
    def ok(self) -> bool:
        return self.total == 0

    def add(self, check: str, where: str, message: str) -> None:
        self.total += 1
        if len(self.findings) < MAX_KEPT:
            self.findings.append(Finding(check, where, message))

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    @property
    def done(self) -> bool:
        """Stop early: asked for the first problem only, and found one."""
        return self.first_only and self.total > 0


# --- What the apps add ----------------------------------------------------------------------------------------

RecordsCheck = Callable[..., None]  # check(report, shard=(index, count) or None)
_records_checks: dict[str, tuple[RecordsCheck, frozenset[str]]] = {}


def register_records_check(name: str, check: RecordsCheck, *, signature_types: Iterable[str] = ()) -> None:
    """An app's batch check of its records (`check(report, shard=None)`; with shard=(i, n) it checks its
    i-th of n parts, so processes can share the work); it verifies the signatures of `signature_types`."""
    _records_checks[name] = (check, frozenset(signature_types))


def _records_shard(name: str, shard: tuple[int, int], first_only: bool) -> Report:
    """One part of an app's records check, in a worker process (which opens its own connection)."""
    report = Report(first_only=first_only)
    _records_checks[name][0](report, shard=shard)
    return report


def _merge(into: Report, part: Report) -> None:
    for finding in part.findings:
        into.add(finding.check, finding.where, finding.message)
    into.total += part.total - len(part.findings)
    for what, n in part.counts.items():
        into.count(what, n)


# --- 1. guards, 2. keys ------------------------------------------------------------------------------------------


def check_guards(report: Report) -> None:
    for problem in guards.guard_problems():
        report.add("guards", "database", problem)
    report.count("guards")


def check_keys(report: Report) -> None:
    try:
        ring = keys.ring()
    except keys.IntegrityKeyMissing as exc:
        report.add("keys", "key ring", str(exc))
        return
    used = set(AuditEvent.objects.values_list("key_id", flat=True).distinct())
    used |= set(Signature.objects.values_list("key_id", flat=True).distinct())
    used |= set(IntegrityCheckpoint.objects.values_list("key_id", flat=True).distinct())
    for key_id in sorted(used):
        if not key_id:
            unkeyed = AuditEvent.objects.filter(key_id="").count() + Signature.objects.filter(key_id="").count()
            report.add("keys", "key ring", f"{unkeyed} events or signatures carry no key: written before keyed hashes")
        elif key_id not in ring.keys:
            report.add("keys", "key ring", f"key {key_id!r} is used by records but not in this installation's ring")
    report.count("keys", len(used))


# --- 3. chains, 4. checkpoints -------------------------------------------------------------------------------------

EVENT_COLUMNS = (
    "id",
    "chain",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "changes",
    "reason",
    "request_id",
    "seal",
    "key_id",
    "prev_hash",
    "hash",
)


def _event_content(row: dict) -> dict:
    return {k: row[k] for k in EVENT_COLUMNS if k not in ("id", "hash")}


def _hash_ok(row: dict, key_cache: dict) -> bool | None:
    """True/False, or None when the event's key is not in the ring."""
    key_id = row["key_id"]
    if not key_id:
        return canonical_hash(_event_content(row)) == row["hash"]
    if key_id not in key_cache:
        key_cache[key_id] = keys.get(key_id)
    key = key_cache[key_id]
    if key is None:
        return None
    return key.mac(canonical_bytes(_event_content(row))) == row["hash"]


def _rows(chains: list[str] | None) -> Iterator[dict]:
    events = AuditEvent.objects.order_by("chain", "seq")
    if chains:
        events = events.filter(chain__in=chains)
    for values in events.values_list(*EVENT_COLUMNS).iterator(chunk_size=5000):
        yield dict(zip(EVENT_COLUMNS, values, strict=True))


def check_chains(
    report: Report, *, chains: list[str] | None = None, state: checkpoints.CheckpointState | None = None
) -> None:
    """Walk every chain (or `chains`); compare with the checkpoints' `state` when given."""
    wanted = AuditChainHead.objects.filter(chain__in=chains) if chains else AuditChainHead.objects.all()
    heads = {h.chain: (h.last_seq, h.last_hash) for h in wanted}  # `chains` only: archiving asks for two
    statements = state.statements if state is not None else {}
    key_cache: dict = {}
    seen: set[str] = set()
    current = None
    expected, prev, last = 1, GENESIS, None
    hashes_at: dict[int, str] = {}

    def close(chain: str, last_row: dict | None) -> None:
        head = heads.get(chain)
        if head is None:
            report.add("chains", f"chain {chain}", "has events but is not registered (its head is gone)")
        elif last_row is not None and (head[0], head[1]) != (last_row["seq"], last_row["hash"]):
            report.add(
                "chains",
                f"chain {chain}",
                f"head says the last event is #{head[0]}, the table ends at #{last_row['seq']}: events were removed",
            )
        for seq, digest in statements.get(chain, []):
            if last_row is None or seq > last_row["seq"]:
                report.add(
                    "checkpoints",
                    f"chain {chain}",
                    f"checkpoint says it reached #{seq}; the database ends at "
                    f"#{last_row['seq'] if last_row else 0}: events were removed after the checkpoint",
                )
            elif hashes_at.get(seq) != digest:
                report.add(
                    "checkpoints", f"chain {chain} #{seq}", "differs from the checkpointed event: history was rewritten"
                )
        report.count("chains")

    for row in _rows(chains):
        if report.done:
            return
        if row["chain"] != current:
            if current is not None:
                close(current, last)
            current, expected, prev, last = row["chain"], 1, GENESIS, None
            hashes_at = {}
            seen.add(current)
        where = f"event {row['id']} ({row['chain']} #{row['seq']}, {row['action']})"
        if row["seq"] != expected:
            report.add("chains", where, f"expected #{expected} here: events were removed or reordered")
        elif row["prev_hash"] != prev:
            report.add("chains", where, "does not point at its predecessor's hash")
        else:
            ok = _hash_ok(row, key_cache)
            if ok is None:
                report.add("chains", where, f"its key {row['key_id']!r} is not in the key ring: it cannot be checked")
            elif not ok:
                report.add("chains", where, "content does not match its keyed hash: it was altered")
        if current in statements:
            hashes_at[row["seq"]] = row["hash"]
        expected, prev, last = row["seq"] + 1, row["hash"], row
        report.count("events")
    if current is not None:
        close(current, last)
    for chain, (seq, _) in heads.items():
        if chain not in seen and seq > 0:
            report.add("chains", f"chain {chain}", "is registered but every event of it is gone")
    for chain in set(statements) - seen:
        if not chains or chain in chains:
            report.add("checkpoints", f"chain {chain}", "is in the checkpoints but gone from the database")


def check_checkpoints(report: Report, *, until: dt.datetime | None = None) -> checkpoints.CheckpointState | None:
    """The lake's checkpoints (CheckpointState), or None when there is no store; problems reported. With
    `until` (a restored backup), only the checkpoints made by then, and no freshness check."""
    try:
        state = checkpoints.load_state(until=until)
    except checkpoints.CheckpointStoreMissing as exc:
        report.add("checkpoints", "data lake", str(exc))
        return None
    except OSError as exc:
        report.add("checkpoints", "data lake", f"the checkpoints cannot be read: {exc}")
        return None
    for problem in state.problems:
        report.add("checkpoints", "data lake", problem)
    recorded = IntegrityCheckpoint.objects.order_by("-number").values_list("number", flat=True).first()
    if until is None and recorded is not None and (state.newest_number is None or state.newest_number < recorded):
        report.add(
            "checkpoints",
            "data lake",
            f"the database recorded checkpoint {recorded}, the lake's newest is {state.newest_number}: "
            "checkpoints were removed from the lake",
        )
    if until is None:
        _check_freshness(report, state)
    report.count("checkpoints", state.documents)
    return state


def _check_freshness(report: Report, state: checkpoints.CheckpointState) -> None:
    """Events older than three checkpoint intervals must be covered by some checkpoint."""
    limit = timezone.now() - dt.timedelta(seconds=3 * settings.INTEGRITY_CHECKPOINT_SECONDS)
    since = state.newest_at or dt.datetime.min.replace(tzinfo=dt.UTC)
    if since < limit and AuditEvent.objects.filter(occurred_at__gt=since, occurred_at__lt=limit).exists():
        report.add(
            "checkpoints",
            "data lake",
            f"no checkpoint since {since:%Y-%m-%d %H:%M} UTC although the trail moved: is the checkpoint task running?"
            if state.newest_at
            else "no checkpoint was ever written although the trail has events: is the checkpoint task running?",
        )


# --- 5. records, 6. other signatures --------------------------------------------------------------------------


def check_other_signatures(report: Report) -> None:
    claimed = set().union(*(types for _, types in _records_checks.values())) if _records_checks else set()
    for signature in Signature.objects.exclude(record_type__in=claimed).iterator(chunk_size=500):
        where = f"signature {signature.pk} ({signature.printed_name}, {signature.meaning}, {signature.record_type})"
        try:
            if not signature_verify(signature):
                report.add("signatures", where, "the record no longer hashes to what was signed")
        except LookupError as exc:
            report.add("signatures", where, f"cannot be rebuilt: {exc}")
        except keys.IntegrityKeyMissing as exc:
            report.add("signatures", where, str(exc))
        report.count("signatures")


# --- Everything ----------------------------------------------------------------------------------------------------


def verify_records(
    *,
    chains: list[str] | None = None,
    first_only: bool = False,
    checkpoints_until: dt.datetime | None = None,
    workers: int = 1,
) -> Report:
    """Run every check (or only the chain checks of `chains`); see the module docstring. With `workers`
    above 1 the apps' records checks run in that many processes while this one walks the chains."""
    report = Report(first_only=first_only)
    if chains:
        check_chains(report, chains=chains)
        return report
    check_guards(report)
    check_keys(report)
    state = check_checkpoints(report, until=checkpoints_until)
    if workers > 1 and not connection.in_atomic_block:  # other processes see committed rows only
        _parallel(report, state, workers)
    else:
        check_chains(report, state=state)
        for check, _ in _records_checks.values():
            if report.done:
                break
            check(report)
    if not report.done:
        check_other_signatures(report)
    return report


def _parallel(report: Report, state: checkpoints.CheckpointState | None, workers: int) -> None:
    for conn in connections.all():  # no connection (nor pool) crosses the fork
        conn.close()
        close_pool = getattr(conn, "close_pool", None)
        if close_pool:
            close_pool()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = [
            pool.submit(_records_shard, name, (i, workers), report.first_only)
            for name in _records_checks
            for i in range(workers)
        ]
        check_chains(report, state=state)  # meanwhile, here
        for part in parts:
            _merge(report, part.result())


def audit_problems(chains: list[str] | None = None) -> list[Finding]:
    """The chain findings alone (tests and quick checks of one chain)."""
    return verify_records(chains=chains).findings
