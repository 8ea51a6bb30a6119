"""The outbound relay: drain the transactional outbox to every enabled outbound adapter, each on its own.

    relay_dispatch()        new outbox messages get one delivery row per outbound adapter enabled now
    relay_adapter(adapter)  one adapter's due deliveries, oldest first, published as one batch
    relay_adapter_drain(adapter)  batch after batch of one adapter, two under way (its Celery task)
    relay_drain()           both, for every adapter, until nothing more can be delivered now (bounded);
                            each adapter batch after batch at its own pace, as its Celery task does

Each adapter has its own queue (its delivery rows), retries and dead letters, so a slow, down or refusing
adapter never holds back another: while a webhook receiver is down, MQTT goes on getting every event.
Delivery rows are taken with SELECT … FOR UPDATE SKIP LOCKED, so relays run side by side, for one
adapter too, without sending a message twice. A message
commits whenever its transaction commits — a late commit with a lower id is dispatched when it appears,
which a moving cursor would have skipped.

An adapter whose last batch failed is probed with one message a run until it answers again (a down peer
costs one timeout a run, not one a message). A delivery that keeps failing while the adapter takes other
messages is a poison message for that adapter: after RELAY_MAX_ATTEMPTS it is dead-lettered there only
(the status page and the admin list it; "deliver again" re-queues it). A peer that is down dead-letters
nothing: its deliveries back off and wait.

A message is delivered (`OutboxMessage.delivered_at`) once every enabled adapter took it or dead-lettered
it. Every message carries its stable `message_id`, so consumers de-duplicate (at least once)."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from mes.events.models import OutboxMessage

from .adapters import impl_for
from .adapters.base import adapter_failed, adapter_succeeded
from .models import Adapter, OutboxDelivery

log = logging.getLogger(__name__)
MAX_BACKOFF = dt.timedelta(minutes=10)
DISPATCH_BATCH = 1000
ROUND_THREADS = 4  # adapters a round publishes to at once (each holds a pooled connection meanwhile)
DRAIN_DEPTH = 2  # batches of one adapter a drain has under way: one publishing, the next taking its rows
DRAIN_THREADS = 6  # batches a drain has under way in all (each holds a pooled connection meanwhile)


@dataclass
class RelayResult:
    delivered: int = 0  # messages every adapter now has
    failed: int = 0  # delivery attempts that failed
    pending: int = 0  # messages still waiting for some adapter
    sent: int = 0  # deliveries that succeeded
    dead: int = 0  # deliveries dead-lettered

    def add(self, other: RelayResult) -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.sent += other.sent
        self.dead += other.dead


def max_attempts() -> int:
    return int(getattr(settings, "RELAY_MAX_ATTEMPTS", 12))


def _backoff(attempts: int) -> dt.timedelta:
    return min(dt.timedelta(seconds=2 ** min(attempts, 12)), MAX_BACKOFF)


def _outbound():
    return Adapter.objects.filter(enabled=True, outbound=True).order_by("pk")


def relay_dispatch(*, batch: int = DISPATCH_BATCH) -> int:
    """Give up to `batch` new outbox messages a delivery row for each outbound adapter enabled now.
    Without one, messages wait undispatched, for the first adapter enabled."""
    adapter_ids = list(_outbound().values_list("pk", flat=True))
    if not adapter_ids:
        return 0
    # One statement, one round trip: lock the oldest undispatched messages, mark them dispatched, insert
    # their deliveries (the ORM's way, a model instance per delivery and three statements, cost more than
    # an adapter's publishing). Not SKIP LOCKED: a relay dispatching at the same moment is waited for
    # (milliseconds), so this one then finds those deliveries committed instead of concluding there is
    # nothing to do. ON CONFLICT: rows an earlier relay made before this design stay as they are.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_DISPATCH, {"batch": batch, "now": timezone.now(), "adapters": adapter_ids})
        return cursor.fetchone()[0]


_DISPATCH = """
WITH taken AS (
    SELECT id FROM events_outboxmessage WHERE dispatched_at IS NULL ORDER BY id LIMIT %(batch)s FOR UPDATE
), marked AS (
    UPDATE events_outboxmessage AS m SET dispatched_at = %(now)s FROM taken WHERE m.id = taken.id
    RETURNING m.id
), added AS (
    INSERT INTO integrations_outboxdelivery (message_id, adapter_id, attempts, last_error)
    SELECT marked.id, adapter_id, 0, '' FROM marked CROSS JOIN unnest(%(adapters)s::bigint[]) AS adapter_id
    ON CONFLICT (message_id, adapter_id) DO NOTHING
)
SELECT count(*) FROM marked
"""


@dataclass
class _Due:
    """A delivery taken for publishing: its row's id, its message, and what its failing would update."""

    pk: int
    message: OutboxMessage
    attempts: int
    first_failed_at: dt.datetime | None
    delivered_at: dt.datetime | None = None
    last_error: str = ""
    next_attempt_at: dt.datetime | None = None
    dead_at: dt.datetime | None = None

    @property
    def message_id(self) -> int:
        return self.message.pk


@functools.cache
def _due_sql() -> tuple[str, int]:
    """The due deliveries of one adapter with their messages, oldest first, locked (SKIP LOCKED: relays
    side by side take different rows); the message's columns as its model has them, the payload as text;
    with where the payload stands among them."""
    fields = OutboxMessage._meta.concrete_fields
    columns = ", ".join(f"m.{f.column}::text" if f.name == "payload" else f"m.{f.column}" for f in fields)
    payload_at = [f.name for f in fields].index("payload")
    return (
        f"""
SELECT d.id, d.attempts, d.first_failed_at, {columns}
FROM integrations_outboxdelivery AS d JOIN events_outboxmessage AS m ON m.id = d.message_id
WHERE d.adapter_id = %(adapter)s AND d.delivered_at IS NULL AND d.dead_at IS NULL
  AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= %(now)s)
ORDER BY d.message_id LIMIT %(limit)s
FOR UPDATE OF d SKIP LOCKED
""",  # noqa: S608 - the model's column names, no input
        payload_at,
    )


def _due(adapter: Adapter, now, limit: int) -> list[_Due]:
    """Up to `limit` of `adapter`'s due deliveries, locked, each with its message. One statement and
    orjson for the payloads: the ORM's way (a query compiled each batch, two model instances a row and
    the standard library's JSON decoder) was two fifths of the relay's CPU."""
    sql, payload_at = _due_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, {"adapter": adapter.pk, "now": now, "limit": limit})
        rows = cursor.fetchall()
    due, alias = [], connection.alias  # the alias once: each look-up goes through the connection handler
    for pk, attempts, first_failed_at, *values in rows:
        values[payload_at] = orjson.loads(values[payload_at])
        message = OutboxMessage.from_db(alias, None, values)
        due.append(_Due(pk, message, attempts, first_failed_at))
    return due


class _Turns:
    """One adapter's batches in a drain, two at a time: while one publishes, the next takes its rows (SKIP
    LOCKED: the following ones) and then waits for its turn; they publish one after the other, in the
    order they took their rows, and a batch marks what it sent while the next one publishes. A batch the
    adapter took nothing of (down, refusing) stops the one after it before it sends anything: that one
    leaves its rows as they were."""

    def __init__(self) -> None:
        self.taking = threading.Lock()  # one batch at a time takes its rows and its place in the line
        self.cond = threading.Condition()
        self.taken = 0  # places given
        self.turn = 0  # the place whose turn it is to publish
        self.refused = False  # the last batch that published: the adapter took none of it

    def take(self) -> int:
        with self.cond:
            self.taken += 1
            return self.taken - 1

    def wait(self, place: int) -> bool:
        """Wait for `place`'s turn; whether to publish (False: the batch before was refused whole)."""
        with self.cond:
            self.cond.wait_for(lambda: self.turn == place)
            return not self.refused

    def done(self, place: int, took_some: bool | None) -> None:
        """`place` published (took_some) or did not (None): the next one's turn."""
        with self.cond:
            if took_some is not None:
                self.refused = not took_some
            self.turn = place + 1
            self.cond.notify_all()


def relay_adapter(adapter: Adapter, *, batch: int = 200, turns: _Turns | None = None) -> RelayResult:
    """Publish one batch of `adapter`'s due deliveries (one message when the adapter is failing); `turns`:
    a drain's batches of this adapter, publishing one after the other while the next takes its rows."""
    result = RelayResult()
    now = timezone.now()
    with transaction.atomic():
        probing = adapter.state == Adapter.State.FAILING
        if turns is None:
            due, place = _due(adapter, now, 1 if probing else batch), -1
        else:
            with turns.taking:
                due = _due(adapter, now, 1 if probing else batch)
                place = turns.take() if due else -1
        if not due:
            return result
        took_some: bool | None = None
        try:
            if turns is not None and not turns.wait(place):
                return result  # the batch before was refused whole: these rows wait as they were
            try:
                outcome = impl_for(adapter).publish([d.message for d in due])
            except Exception as exc:  # noqa: BLE001 - the peer is down: every message waits
                log.warning("relay: adapter %s failed: %s", adapter.name, exc)
                outcome = {d.message_id: f"{type(exc).__name__}: {exc}" for d in due}
            took_some = any(not outcome.get(d.message_id, "no answer from the adapter") for d in due)
        finally:
            if turns is not None:
                turns.done(place, took_some)
        for d in due:
            d.attempts += 1
            error = outcome.get(d.message_id, "no answer from the adapter")
            if not error:
                d.delivered_at, d.last_error, d.next_attempt_at = now, "", None
                result.sent += 1
                continue
            result.failed += 1
            d.first_failed_at = d.first_failed_at or now
            d.last_error, d.next_attempt_at = error[:2000], now + _backoff(d.attempts)
            # Poison for this adapter only: it fails again and again while the adapter takes others (in
            # this batch, or since this delivery first failed). A peer that went down dead-letters nothing.
            works = took_some or bool(adapter.last_success_at and adapter.last_success_at > d.first_failed_at)
            if d.attempts >= max_attempts() and works:
                d.dead_at, d.next_attempt_at = now, None
                result.dead += 1
                log.error("relay: message %s dead-lettered for %s: %s", d.message_id, adapter.name, error[:200])
        # What went through, in one statement with the ids as one array (a CASE per row and column over a
        # whole batch cost more than the publishing, and the ORM's pk__in preparing each id a seventh of
        # the relay's CPU); what failed, row by row (few).
        sent = [d.pk for d in due if d.delivered_at is not None]
        if sent:
            with connection.cursor() as cursor:
                cursor.execute(_MARK_SENT, {"now": now, "ids": sent})
        failed = [
            OutboxDelivery(
                pk=d.pk,
                attempts=d.attempts,
                last_error=d.last_error,
                next_attempt_at=d.next_attempt_at,
                first_failed_at=d.first_failed_at,
                dead_at=d.dead_at,
            )
            for d in due
            if d.delivered_at is None
        ]
        if failed:
            OutboxDelivery.objects.bulk_update(
                failed, ["attempts", "last_error", "next_attempt_at", "first_failed_at", "dead_at"]
            )
        errors = [e for e in outcome.values() if e]
        if took_some:
            adapter_succeeded(adapter)
            adapter.state, adapter.last_success_at = Adapter.State.OK, now
        if errors:
            # Refused all: failing (probed next run). Refused some: working, the refusal still on record.
            adapter_failed(adapter, errors[0], keep_state=took_some)
            adapter.state = adapter.state if took_some else Adapter.State.FAILING
        result.delivered = _settle([d.message_id for d in due], now)
    return result


def relay_adapter_drain(adapter: Adapter, *, batch: int = 200, max_batches: int = 50) -> int:
    """`adapter`'s due deliveries, batch after batch until a batch sends nothing (none due, or the adapter
    refused; at most `max_batches`), two batches under way (_Turns: while one publishes, the next takes its
    rows): what its Celery task runs. An adapter taken out of service meanwhile gets no batch more.
    Answers how many deliveries went through. Inside a caller's transaction, which another thread's
    connection would not see, one batch after the other."""

    def in_service() -> bool:
        return _outbound().filter(pk=adapter.pk).exists()

    if connection.in_atomic_block:
        sent = 0
        for _ in range(max_batches):
            if not in_service():
                break
            step = relay_adapter(adapter, batch=batch)
            sent += step.sent
            if not step.sent:
                break
        return sent
    turns, lock = _Turns(), threading.Lock()
    state = {"started": 0, "sent": 0, "stop": False}
    errors: list[BaseException] = []

    def line() -> None:
        try:
            while True:
                with lock:
                    if state["stop"] or state["started"] >= max_batches:
                        return
                    state["started"] += 1
                if not in_service():
                    with lock:
                        state["stop"] = True
                    return
                step = relay_adapter(adapter, batch=batch, turns=turns)
                with lock:
                    state["sent"] += step.sent
                    state["stop"] = state["stop"] or not step.sent
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            with lock:
                errors.append(exc)
                state["stop"] = True
        finally:
            connection.close()  # the thread's connection, back to the pool

    threads = [threading.Thread(target=line, name=f"relay-{adapter.pk}-{n}", daemon=True) for n in range(DRAIN_DEPTH)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return state["sent"]


_MARK_SENT = """
UPDATE integrations_outboxdelivery
SET delivered_at = %(now)s, attempts = attempts + 1, last_error = '', next_attempt_at = NULL
WHERE id = ANY(%(ids)s::bigint[])
"""


def _open_deliveries():
    """Deliveries some enabled adapter has still to make (dead letters and disabled adapters hold nothing)."""
    return OutboxDelivery.objects.filter(
        delivered_at__isnull=True, dead_at__isnull=True, adapter__enabled=True, adapter__outbound=True
    )


def _settle(message_ids, now) -> int:
    """Mark delivered the messages (of `message_ids`, or all dispatched) no enabled adapter still waits for."""
    if message_ids is None:
        waiting = _open_deliveries().filter(message=OuterRef("pk"))
        done = OutboxMessage.objects.filter(delivered_at__isnull=True, dispatched_at__isnull=False)
        return done.exclude(Exists(waiting)).update(delivered_at=now)
    # A batch's messages, in one statement. Its deliveries still open for an enabled adapter are looked up
    # once, uncorrelated (a NOT EXISTS per message, planned on a fresh table's statistics, scanned the
    # whole delivery table for each message: 0.8 s a batch); the messages without one are marked.
    with connection.cursor() as cursor:
        cursor.execute(_SETTLE_BATCH, {"now": now, "ids": list(message_ids)})
        return cursor.rowcount


_SETTLE_BATCH = """
UPDATE events_outboxmessage SET delivered_at = %(now)s
WHERE id = ANY(%(ids)s::bigint[]) AND delivered_at IS NULL AND id NOT IN (
    SELECT message_id FROM integrations_outboxdelivery
    WHERE message_id = ANY(%(ids)s::bigint[]) AND delivered_at IS NULL AND dead_at IS NULL
      AND adapter_id IN (SELECT id FROM integrations_adapter WHERE enabled AND outbound)
)
"""


def relay_settle() -> int:
    """Mark delivered every dispatched message no enabled adapter waits for any more (an adapter was taken
    out of service, or dead-lettered the last delivery it held)."""
    return _settle(None, timezone.now())


def _round(batch: int) -> RelayResult:
    """Dispatch what is new, then one batch for each enabled outbound adapter: side by side, each in a
    thread and a transaction of its own (as the Celery task hands each adapter to a task of its own), so a
    round lasts as long as its slowest adapter, not as long as all of them; one after the other inside a
    caller's transaction, which another thread's connection would not see."""
    result = RelayResult()
    relay_dispatch()
    adapters = list(_outbound())
    if len(adapters) < 2 or connection.in_atomic_block:
        for adapter in adapters:
            result.add(relay_adapter(adapter, batch=batch))
        return result
    with ThreadPoolExecutor(max_workers=min(len(adapters), ROUND_THREADS), thread_name_prefix="relay") as pool:
        for step in pool.map(functools.partial(_relay_adapter_in_thread, batch=batch), adapters):
            result.add(step)
    return result


def _relay_adapter_in_thread(adapter: Adapter, *, batch: int) -> RelayResult:
    try:
        return relay_adapter(adapter, batch=batch)
    finally:
        connection.close()  # the thread's connection, back to the pool


def _finish(result: RelayResult) -> RelayResult:
    result.delivered += relay_settle()
    result.pending = OutboxMessage.objects.filter(delivered_at__isnull=True).count()
    return result


def relay_run(*, batch: int = 200) -> RelayResult:
    """One round, then settle what no adapter waits for any more."""
    return _finish(_round(batch))


def relay_drain(*, batch: int = 200, max_rounds: int = 1000) -> RelayResult:
    """Until nothing more can be delivered now (bounded: `max_rounds` batches an adapter); settled once,
    at the end. Each adapter goes at its own pace, batch after batch, as its Celery task does (see
    _drain_side_by_side); inside a caller's transaction, or with one adapter, in rounds, one after the other."""
    adapters = list(_outbound())
    if len(adapters) >= 2 and not connection.in_atomic_block:
        return _finish(_drain_side_by_side(adapters, batch, max_rounds))
    total = RelayResult()
    for _ in range(max_rounds):
        step = _round(batch)
        total.add(step)
        if step.sent == 0:
            break
    return _finish(total)


@dataclass
class _DrainState:
    running: int  # lines of batches still going (DRAIN_DEPTH an adapter)
    error: BaseException | None = None  # the first a worker or the dispatch raised: raised at the end
    stopping: bool = False  # the drain is over (an error, or the caller interrupted): no more batches


def _drain_side_by_side(adapters: list[Adapter], batch: int, max_rounds: int) -> RelayResult:
    """Each adapter's batches one after the other in worker threads (each with a pooled connection of its
    own for the whole drain), two at a time an adapter (_Turns: the next takes its rows while one
    publishes), while this thread dispatches. No round waits for its slowest adapter: the others go on
    with their next batch meanwhile (in rounds, every adapter waited for the slowest one's batch each
    time, and the sum of those slowest batches was the drain).

    A line of batches stops after a batch that sent nothing (nothing due, or the adapter is failing:
    probed once) when no dispatch pass finished since that batch began found anything new; else its next
    batch follows. At most `max_rounds` batches an adapter."""
    total = RelayResult()
    cond = threading.Condition()
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    passes: list[int] = []  # messages each dispatch pass found, in order
    parked: list[tuple[Adapter, int]] = []  # (adapter, passes before its empty batch began)
    turns = {adapter.pk: _Turns() for adapter in adapters}
    started = dict.fromkeys(turns, 0)  # batches begun, by adapter
    state = _DrainState(running=len(adapters) * DRAIN_DEPTH)

    def work() -> None:
        try:
            while (adapter := jobs.get()) is not None:
                with cond:
                    before = len(passes)
                    go = not state.stopping and started[adapter.pk] < max_rounds
                    started[adapter.pk] += go
                try:
                    step = relay_adapter(adapter, batch=batch, turns=turns[adapter.pk]) if go else RelayResult()
                except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
                    step = RelayResult()
                    with cond:
                        state.error, state.stopping = state.error or exc, True
                with cond:
                    total.add(step)
                    if not go or state.stopping:
                        state.running -= 1
                    elif step.sent:
                        jobs.put(adapter)
                    else:
                        parked.append((adapter, before))
                    cond.notify_all()
        finally:
            connection.close()  # the thread's connection, back to the pool

    passes.append(relay_dispatch())  # what is new now, before the first batches look for it
    for _ in range(DRAIN_DEPTH):
        for adapter in adapters:
            jobs.put(adapter)
    workers = [
        threading.Thread(target=work, name=f"relay-{n}", daemon=True)
        for n in range(min(len(adapters) * DRAIN_DEPTH, DRAIN_THREADS))
    ]
    for worker in workers:
        worker.start()
    try:
        while True:
            with cond:
                if state.running == 0:
                    break
            try:
                found = 0 if state.stopping else relay_dispatch()
            except BaseException as exc:  # noqa: BLE001
                found = 0
                with cond:
                    state.error, state.stopping = state.error or exc, True
            with cond:
                passes.append(found)
                for adapter, before in parked:
                    if any(passes[before:]) and not state.stopping:
                        jobs.put(adapter)  # something new came since its empty batch began
                    else:
                        state.running -= 1
                parked.clear()
                if not found:  # nothing new: wait until a batch sent nothing
                    cond.wait_for(lambda: parked or state.running == 0)
    finally:
        with cond:
            state.stopping = True  # the batches still queued are not run (an interrupted drain)
        for _ in workers:
            jobs.put(None)
        for worker in workers:
            worker.join()
    if state.error is not None:
        raise state.error
    return total


def delivery_retry(deliveries) -> int:
    """Deliver dead-lettered (or backing-off) deliveries again at the next run: attempts start over."""
    return OutboxDelivery.objects.filter(pk__in=[d.pk for d in deliveries], delivered_at__isnull=True).update(
        dead_at=None, attempts=0, next_attempt_at=None, first_failed_at=None
    )


def outbox_backlog() -> dict:
    """How far behind the relay is: undelivered count and the age of the oldest."""
    pending = OutboxMessage.objects.filter(delivered_at__isnull=True)
    oldest = pending.aggregate(oldest=Min("created_at"))["oldest"]
    return {
        "pending": pending.count(),
        "oldest_at": oldest,
        "lag_seconds": (timezone.now() - oldest).total_seconds() if oldest else 0.0,
    }
