"""The outbox relay: two relays side by side (SELECT … FOR UPDATE SKIP LOCKED) deliver each message once;
the backlog and lag say how far behind it is, per adapter too."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from integrations import relay, selectors, tasks
from integrations.models import Adapter, OutboxDelivery
from integrations.relay import outbox_backlog, relay_adapter, relay_dispatch, relay_drain, relay_run
from mes.events.models import OutboxMessage
from tests.integrations.relay_support import SECRET_ENV, emit_many, hook
from tests.integrations.sync_support import Receiver, free_port


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "relay-secret")


@pytest.mark.django_db(transaction=True)
def test_relay_two_relays_in_parallel_deliver_each_message_once(secret):
    emit_many(300)
    delivered = []
    start = threading.Barrier(2)

    def relay():
        try:
            start.wait()
            delivered.append(relay_drain(batch=20).delivered)
        finally:
            connection.close()

    with Receiver(delay=0.003) as receiver:
        hook("erp", receiver.url)
        threads = [threading.Thread(target=relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    ids = Counter(r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests)
    assert len(ids) == 300 and set(ids.values()) == {1}  # every message, once
    assert sum(delivered) == 300 and all(n > 0 for n in delivered), delivered  # both relays took a share
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 0
    assert OutboxDelivery.objects.count() == 300 and set(OutboxDelivery.objects.values_list("attempts", flat=True)) == {
        1
    }


@pytest.mark.django_db
def test_relay_backlog_and_lag_per_adapter(secret):
    emit_many(12)
    backlog = outbox_backlog()
    assert backlog["pending"] == 12 and backlog["lag_seconds"] >= 0 and backlog["oldest_at"] is not None
    with Receiver() as receiver:
        hook("erp", receiver.url)
        hook("mes-down", f"http://127.0.0.1:{free_port()}/hook")
        result = relay_run()
    assert result.delivered == 0 and result.failed == 12  # delivered only when every adapter has it
    status = {row.adapter.name: row for row in selectors.adapters_status()}
    assert status["erp"].backlog == 0 and status["erp"].adapter.out_delivered == 12
    assert status["mes-down"].backlog == 12 and status["mes-down"].adapter.out_failing == 12
    assert status["mes-down"].lag_seconds >= 0 and status["mes-down"].oldest_undelivered_at == backlog["oldest_at"]
    assert outbox_backlog()["pending"] == 12
    Adapter.objects.filter(name="mes-down").update(enabled=False)  # taken out of service
    assert relay_drain().delivered == 12 and outbox_backlog() == {"pending": 0, "oldest_at": None, "lag_seconds": 0.0}


@pytest.mark.django_db
def test_relay_without_outbound_adapters_leaves_the_outbox_alone():
    emit_many(3)
    assert relay_run().delivered == 0
    assert outbox_backlog()["pending"] == 3


@pytest.mark.django_db
def test_relay_dispatch_gives_each_new_message_one_delivery_per_enabled_adapter_oldest_first(secret):
    emit_many(7)
    erp, mes = hook("erp", "http://127.0.0.1:9/hook"), hook("mes", "http://127.0.0.1:9/hook")
    Adapter.objects.filter(pk=hook("off", "http://127.0.0.1:9/hook").pk).update(enabled=False)
    oldest = list(OutboxMessage.objects.order_by("id").values_list("pk", flat=True))
    earlier = OutboxDelivery.objects.create(message_id=oldest[0], adapter=erp, attempts=3, last_error="kept")
    assert relay_dispatch(batch=5) == 5
    dispatched = OutboxMessage.objects.filter(dispatched_at__isnull=False)
    assert sorted(dispatched.values_list("pk", flat=True)) == oldest[:5]  # the five oldest
    assert relay_dispatch(batch=5) == 2 and relay_dispatch(batch=5) == 0
    rows = set(OutboxDelivery.objects.values_list("message_id", "adapter_id"))
    assert rows == {(m, a.pk) for m in oldest for a in (erp, mes)}  # none for the disabled adapter
    earlier.refresh_from_db()
    assert (earlier.attempts, earlier.last_error) == (3, "kept")  # a row that was there stays as it was
    fresh = OutboxDelivery.objects.exclude(pk=earlier.pk)
    assert set(fresh.values_list("attempts", "last_error", "delivered_at", "dead_at")) == {(0, "", None, None)}
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_relay_drain_publishes_to_the_adapters_side_by_side(secret):
    # The first adapter's receiver answers only once the second one has had a request: one after the
    # other, the first would time out (2 s) before the second was tried.
    emit_many(5)
    second_asked = threading.Event()

    def first_answer(body):
        return 200 if second_asked.wait(5) else 500

    def second_answer(body):
        second_asked.set()
        return 200

    with Receiver(status=first_answer) as first, Receiver(status=second_answer) as second:
        hook("first", first.url)
        hook("second", second.url)
        result = relay_drain()
    assert result.sent == 10 and result.failed == 0 and result.delivered == 5
    for receiver in (first, second):
        ids = Counter(r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests)
        assert len(ids) == 5 and set(ids.values()) == {1}
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db
def test_relay_adapter_marks_delivered_the_messages_no_enabled_adapter_still_waits_for(secret):
    emit_many(4)
    with Receiver() as receiver:
        up = hook("up", receiver.url)
        other, off = hook("other", "http://127.0.0.1:9/hook"), hook("off", "http://127.0.0.1:9/hook")
        relay_dispatch()
        m = list(OutboxMessage.objects.order_by("id").values_list("pk", flat=True))
        theirs = OutboxDelivery.objects.filter(adapter=other)
        theirs.filter(message_id__in=[m[0], m[3]]).update(delivered_at=timezone.now())
        theirs.filter(message_id=m[1]).update(dead_at=timezone.now())  # a dead letter holds nothing
        Adapter.objects.filter(pk=off.pk).update(enabled=False)  # nor does a disabled adapter's open delivery
        result = relay_adapter(up)
    assert (result.sent, result.delivered) == (4, 3)
    delivered = OutboxMessage.objects.filter(delivered_at__isnull=False)
    assert sorted(delivered.values_list("pk", flat=True)) == [m[0], m[1], m[3]]  # m[2] waits for "other"


@pytest.mark.django_db(transaction=True)
def test_relay_drain_a_slow_adapter_never_holds_back_the_others_next_batches(secret):
    # The slow receiver answers its first request only once the fast one has had every event, which
    # takes the fast adapter three batches: in rounds, its second batch waited for the slow one's first.
    emit_many(6)
    fast_has_all = threading.Event()

    def fast_answer(body):
        if len(fast.requests) == 6:
            fast_has_all.set()
        return 200

    def slow_answer(body):
        return 200 if fast_has_all.wait(5) else 500

    with Receiver(status=fast_answer) as fast, Receiver(status=slow_answer) as slow:
        hook("fast", fast.url)
        hook("slow", slow.url)
        result = relay_drain(batch=2)
    assert result.sent == 12 and result.failed == 0 and result.delivered == 6
    for receiver in (fast, slow):
        ids = Counter(r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests)
        assert len(ids) == 6 and set(ids.values()) == {1}
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_relay_drain_side_by_side_is_bounded_and_dispatches_what_comes_meanwhile(secret):
    emit_many(5)
    with Receiver() as first, Receiver() as second:
        hook("first", first.url)
        hook("second", second.url)
        result = relay_drain(batch=2, max_rounds=1)  # one batch an adapter, and no more
        assert (len(first.requests), len(second.requests), result.sent) == (2, 2, 4)
        emit_many(3)  # written after that drain: the next one dispatches and delivers them with the rest
        result = relay_drain(batch=2)
    assert result.sent == 12 and result.pending == 0
    assert len(first.requests) == len(second.requests) == 8


@pytest.mark.django_db(transaction=True)
def test_relay_drain_side_by_side_raises_what_an_adapter_raised_and_stops(secret, monkeypatch):
    emit_many(3)
    relay_adapter_before = relay.relay_adapter

    def broken(adapter, **kwargs):
        if adapter.name == "broken":
            raise RuntimeError("the database went away")
        return relay_adapter_before(adapter, **kwargs)

    monkeypatch.setattr(relay, "relay_adapter", broken)
    with Receiver() as up:
        hook("up", up.url)
        hook("broken", up.url)
        with pytest.raises(RuntimeError, match="the database went away"):
            relay_drain(batch=1)
    assert len(up.requests) <= 3  # stopped: what the other adapter was doing ends, nothing more starts


@pytest.mark.django_db(transaction=True)
def test_relay_drain_publishes_an_adapters_batches_one_after_the_other_in_order(secret):
    # Two batches of an adapter are under way at once (the next takes its rows while one publishes), but
    # they publish in turn: the receiver gets the events one request at a time, oldest first.
    emit_many(12)
    with Receiver(delay=0.002) as first, Receiver(delay=0.002) as second:
        hook("first", first.url)
        hook("second", second.url)
        result = relay_drain(batch=2)
    assert result.sent == 24 and result.delivered == 12
    oldest_first = [str(m) for m in OutboxMessage.objects.order_by("id").values_list("message_id", flat=True)]
    for receiver in (first, second):
        assert [r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests] == oldest_first


@pytest.mark.django_db(transaction=True)
def test_relay_drain_the_batch_after_one_refused_whole_sends_nothing(secret):
    emit_many(6)
    with Receiver() as up:
        hook("up", up.url)
        down = hook("down", f"http://127.0.0.1:{free_port()}/hook")
        result = relay_drain(batch=2)
        assert len(up.requests) == 6
    assert result.sent == 6 and result.failed == 2 and result.pending == 6
    attempts = sorted(OutboxDelivery.objects.filter(adapter=down).values_list("attempts", flat=True))
    assert attempts == [0, 0, 0, 0, 1, 1]  # the first batch tried; the one that had taken its rows meanwhile did not
    down.refresh_from_db()
    assert down.state == Adapter.State.FAILING


@pytest.mark.django_db
def test_the_beat_task_dispatches_a_burst_larger_than_one_pass(secret, monkeypatch):
    """outbox_relay runs every two seconds; one dispatch pass takes DISPATCH_BATCH messages (1,000), so a
    single pass a tick capped every adapter at 500 events a second. It dispatches until a pass finds fewer."""
    monkeypatch.setattr(relay, "DISPATCH_BATCH", 10)
    queued = []
    monkeypatch.setattr(tasks.outbox_relay_adapter, "delay", lambda adapter_id, batch: queued.append(adapter_id))
    up = hook("up", "http://127.0.0.1:9/hook")
    emit_many(35)
    assert tasks.outbox_relay() == 35
    assert not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists()
    assert OutboxDelivery.objects.filter(adapter=up).count() == 35
    assert queued == [up.pk]
    monkeypatch.setattr(tasks, "DISPATCH_PASSES", 2)  # bounded: a tick never dispatches for ever
    emit_many(35)
    assert tasks.outbox_relay() == 20


@pytest.mark.django_db(transaction=True)
def test_the_adapter_task_drains_its_adapter_in_order_two_batches_under_way(secret):
    # What a Celery worker runs for one adapter: batch after batch until none is due, the next taking its
    # rows while one publishes, published one after the other, oldest first, each message once.
    emit_many(12)
    with Receiver(delay=0.002) as receiver:
        up = hook("up", receiver.url)
        relay_dispatch()
        assert tasks.outbox_relay_adapter(up.pk, batch=2) == 12
    oldest_first = [str(m) for m in OutboxMessage.objects.order_by("id").values_list("message_id", flat=True)]
    assert [r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests] == oldest_first
    assert set(OutboxDelivery.objects.values_list("attempts", flat=True)) == {1}
    assert not OutboxDelivery.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_adapter_task_is_bounded_and_stops_at_a_refusal(secret):
    emit_many(12)
    with Receiver() as receiver:
        up = hook("up", receiver.url)
        down = hook("down", f"http://127.0.0.1:{free_port()}/hook")
        relay_dispatch()
        assert tasks.outbox_relay_adapter(up.pk, batch=2, max_rounds=2) == 4  # two batches, and no more
        assert len(receiver.requests) == 4
        assert tasks.outbox_relay_adapter(down.pk, batch=2) == 0
    attempts = sorted(OutboxDelivery.objects.filter(adapter=down).values_list("attempts", flat=True))
    assert attempts == [0] * 10 + [1, 1]  # the first batch tried; the one that took its rows meanwhile did not
    down.refresh_from_db()
    assert down.state == Adapter.State.FAILING


@pytest.mark.django_db(transaction=True)
def test_the_adapter_task_starts_no_batch_once_its_adapter_is_taken_out_of_service(secret, monkeypatch):
    emit_many(12)
    relay_adapter_before = relay.relay_adapter

    def then_disabled(adapter, **kwargs):
        step = relay_adapter_before(adapter, **kwargs)
        Adapter.objects.filter(pk=adapter.pk).update(enabled=False)  # an engineer takes it out meanwhile
        return step

    monkeypatch.setattr(relay, "relay_adapter", then_disabled)
    with Receiver() as receiver:
        up = hook("up", receiver.url)
        relay_dispatch()
        sent = tasks.outbox_relay_adapter(up.pk, batch=2)
    assert 2 <= sent <= 4 and len(receiver.requests) == sent  # the batches under way finish; none more starts
    assert OutboxDelivery.objects.filter(delivered_at__isnull=True).count() == 12 - sent


@pytest.mark.django_db
def test_the_adapter_task_inside_a_transaction_runs_its_batches_one_after_the_other(secret):
    emit_many(5)
    with Receiver() as receiver:
        up = hook("up", receiver.url)
        relay_dispatch()
        assert tasks.outbox_relay_adapter(up.pk, batch=2) == 5
    assert len(receiver.requests) == 5
