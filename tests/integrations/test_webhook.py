"""REST webhook (outbound): each event POSTed to a real HTTP server on 127.0.0.1, signed with HMAC-SHA256,
or in batch mode many events a request (CloudEvents' batched mode); 2xx delivers, anything else is retried
by the relay with its backoff; no secret, no send."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from integrations.adapters.webhook import signature
from integrations.models import Adapter, OutboxDelivery
from integrations.relay import relay_drain, relay_run
from mes.events.models import OutboxMessage
from mes.events.services import outbox_emit
from tests.integrations.sync_support import Receiver, free_port
from tests.travelers import conftest as travelers_conftest

shop, traveler = travelers_conftest.shop, travelers_conftest.traveler

pytestmark = pytest.mark.django_db
SECRET = "webhook-test-secret-1"


@pytest.fixture
def secret(monkeypatch):
    monkeypatch.setenv("TRAVELER_TEST_WEBHOOK_SECRET", SECRET)
    return SECRET


def webhook(url: str, **fields) -> Adapter:
    return Adapter.objects.create(
        name=fields.pop("name", "erp-hook"),
        kind=Adapter.Kind.WEBHOOK,
        source_system="erp",
        inbound=False,
        outbound=True,
        secret_env="TRAVELER_TEST_WEBHOOK_SECRET",
        settings={"url": url, "timeout": 2, **fields.pop("settings", {})},
        **fields,
    )


def test_webhook_posts_each_event_signed_with_hmac(shop, traveler, secret):
    events = {str(m.message_id): m for m in OutboxMessage.objects.all()}
    with Receiver() as receiver:
        adapter = webhook(receiver.url)
        result = relay_drain()
    assert result.delivered == len(events) > 0
    assert len(receiver.requests) == len(events)
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["X-Traveler-Signature"], expected)
        event = json.loads(body)
        assert headers["X-Traveler-Event-Id"] == event["id"] and event == events[event["id"]].payload
        assert headers["X-Traveler-Event-Type"] == events[event["id"]].event_type
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert request["path"] == "/hooks/traveler"
    adapter.refresh_from_db()
    assert adapter.state == "ok"
    assert signature(b"x", "k") == "sha256=" + hmac.new(b"k", b"x", hashlib.sha256).hexdigest()


def test_webhook_error_answer_is_retried_with_backoff_then_delivered_once(shop, traveler, secret):
    count = OutboxMessage.objects.count()
    with Receiver(status=503) as receiver:
        adapter = webhook(receiver.url)
        first = relay_run()
        assert first.delivered == 0 and first.failed == count
        delivery = OutboxDelivery.objects.filter(adapter=adapter).first()
        assert delivery.attempts == 1 and delivery.last_error.startswith("HTTP 503")
        assert delivery.next_attempt_at is not None
        assert relay_run().failed == 0  # backing off: nothing is tried before next_attempt_at
        receiver.status = 200
        OutboxDelivery.objects.update(next_attempt_at=None)  # the backoff has passed
        second = relay_drain()
    assert second.delivered == count
    ids = [r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests]
    assert len(ids) == 2 * count and len(set(ids)) == count  # one refused try and one delivery each
    assert set(OutboxDelivery.objects.values_list("attempts", flat=True)) == {2}
    adapter.refresh_from_db()
    assert adapter.state == "ok"


def test_webhook_receiver_down_keeps_every_event_waiting(shop, traveler, secret):
    adapter = webhook(f"http://127.0.0.1:{free_port()}/hook")
    result = relay_run()
    assert result.delivered == 0 and result.failed == OutboxMessage.objects.count()
    errors = set(OutboxDelivery.objects.values_list("last_error", flat=True))
    assert len(errors) == 1 and "unreachable" in errors.pop()
    adapter.refresh_from_db()
    assert adapter.state == "failing" and "unreachable" in adapter.last_error


def test_webhook_without_secret_sends_nothing(shop, traveler, monkeypatch):
    monkeypatch.delenv("TRAVELER_TEST_WEBHOOK_SECRET", raising=False)
    with Receiver() as receiver:
        adapter = webhook(receiver.url)
        relay_run()
    assert receiver.requests == []
    adapter.refresh_from_db()
    assert "no secret: set TRAVELER_TEST_WEBHOOK_SECRET" in adapter.last_error


def signed(request) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), request["body"], hashlib.sha256).hexdigest()
    return hmac.compare_digest(request["headers"]["X-Traveler-Signature"], expected)


def emit(count: int) -> None:
    for n in range(count):
        outbox_emit(event_type="step.started", aggregate_type="traveler", aggregate_id=f"T-{n}", data={"n": n})


def test_webhook_batch_mode_posts_every_event_once_in_signed_batches(shop, traveler, secret):
    emit(7)
    events = {str(m.message_id): m for m in OutboxMessage.objects.all()}
    with Receiver() as receiver:
        webhook(receiver.url, settings={"mode": "batch", "batch_size": 3})
        result = relay_drain()
    assert result.delivered == len(events)
    assert len(receiver.requests) == -(-len(events) // 3)  # batches of 3, the last one shorter
    received = []
    for request in receiver.requests:
        batch = json.loads(request["body"])
        assert signed(request) and isinstance(batch, list) and 1 <= len(batch) <= 3
        assert request["headers"]["Content-Type"] == "application/cloudevents-batch+json"
        assert request["headers"]["X-Traveler-Event-Count"] == str(len(batch))
        received += batch
    assert sorted(e["id"] for e in received) == sorted(events)
    assert all(e == events[e["id"]].payload for e in received)


def test_webhook_batch_refused_is_retried_whole_and_never_lost(shop, traveler, secret):
    emit(4)
    count = OutboxMessage.objects.count()
    answers = iter([200, 500])  # the first batch is taken, the second refused

    with Receiver(status=lambda body: next(answers, 200)) as receiver:
        adapter = webhook(receiver.url, settings={"mode": "batch", "batch_size": count - 1})
        first = relay_run()
        assert (first.sent, first.failed) == (count - 1, 1)
        waiting = OutboxDelivery.objects.get(adapter=adapter, delivered_at__isnull=True)
        assert waiting.last_error.startswith("HTTP 500") and waiting.attempts == 1
        OutboxDelivery.objects.update(next_attempt_at=None)  # the backoff has passed
        assert relay_drain().sent == 1
    ids = [e["id"] for r in receiver.requests for e in json.loads(r["body"])]
    assert len(ids) == count + 1 and len(set(ids)) == count  # the refused one was sent again, once
    assert not OutboxDelivery.objects.filter(delivered_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("adapter_settings", "problem"),
    [
        ({"mode": "bulk"}, "settings 'mode' must be 'single' or 'batch', not 'bulk'"),
        ({"mode": "batch", "batch_size": 0}, "'batch_size' must be a whole number from 1 to 1000"),
        ({"mode": "batch", "batch_size": "50"}, "'batch_size' must be a whole number from 1 to 1000"),
        ({"lanes": 0}, "settings 'lanes' must be a whole number from 1 to 16"),
        ({"lanes": "4"}, "settings 'lanes' must be a whole number from 1 to 16"),
        ({"lanes": 17}, "settings 'lanes' must be a whole number from 1 to 16"),
    ],
)
def test_webhook_with_unusable_settings_sends_nothing_and_says_why(shop, traveler, secret, adapter_settings, problem):
    with Receiver() as receiver:
        adapter = webhook(receiver.url, settings=adapter_settings)
        result = relay_run()
    assert receiver.requests == [] and result.sent == 0
    adapter.refresh_from_db()
    assert adapter.state == "failing" and problem in adapter.last_error


def test_webhook_sends_a_batch_over_one_kept_alive_connection(shop, traveler, secret):
    emit(5)
    count = OutboxMessage.objects.count()
    with Receiver() as receiver:
        webhook(receiver.url)
        assert relay_run().sent == count
    assert len(receiver.requests) == count and all(signed(r) for r in receiver.requests)
    assert len({r["client"] for r in receiver.requests}) == 1  # one connection, one port, for the whole batch
    assert all(r["headers"]["User-Agent"] == "Traveler-webhook" for r in receiver.requests)


def test_webhook_lanes_post_side_by_side_and_keep_each_travelers_events_in_order(shop, traveler, secret):
    # Five travelers' events, interleaved as a busy floor writes them; three lanes, each on a connection of
    # its own: every event once, every traveler's in the order written, more than one connection used.
    for round_ in range(6):
        for n in range(5):
            outbox_emit(event_type="step.started", aggregate_type="traveler", aggregate_id=f"T-{n}", data={"r": round_})
    written = {}
    for message in OutboxMessage.objects.order_by("id"):
        written.setdefault(message.aggregate_id, []).append(str(message.message_id))
    with Receiver(delay=0.002) as receiver:
        webhook(receiver.url, settings={"lanes": 3})
        result = relay_drain()
    assert result.failed == 0 and result.pending == 0
    received = [r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests]
    assert sorted(received) == sorted(i for ids in written.values() for i in ids)  # each once
    assert all(signed(r) for r in receiver.requests)
    for ids in written.values():
        assert [i for i in received if i in ids] == ids  # one traveler's events: in the order written
    assert len({r["client"] for r in receiver.requests}) > 1  # side by side, on connections of their own


def test_webhook_lanes_to_a_receiver_that_is_down_deliver_nothing_and_lose_nothing(shop, traveler, secret):
    emit(9)
    count = OutboxMessage.objects.count()
    adapter = webhook(f"http://127.0.0.1:{free_port()}/hook", settings={"lanes": 4})
    result = relay_run()
    assert (result.sent, result.failed) == (0, count)
    assert OutboxDelivery.objects.filter(adapter=adapter, delivered_at__isnull=True).count() == count
    assert all("unreachable" in e for e in OutboxDelivery.objects.values_list("last_error", flat=True))


def test_webhook_receiver_closing_kept_alive_connections_loses_and_repeats_nothing(shop, traveler, secret):
    emit(5)
    events = {str(m.message_id) for m in OutboxMessage.objects.all()}
    with Receiver(drop_kept_alive=True) as receiver:
        adapter = webhook(receiver.url)
        result = relay_run()
    assert (result.sent, result.failed) == (len(events), 0)
    ids = [r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests]
    assert sorted(ids) == sorted(events)  # each once: the closed connection had not read the request
    assert len({r["client"] for r in receiver.requests}) == len(events)  # a new connection each time
    adapter.refresh_from_db()
    assert adapter.state == "ok"


def test_webhook_goes_through_the_proxy_the_environment_names(shop, traveler, secret, monkeypatch):
    count = OutboxMessage.objects.count()
    with Receiver() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url.rsplit("/hooks", 1)[0])
        for name in ("NO_PROXY", "no_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        webhook("http://erp.invalid/hooks/traveler")  # a name no resolver knows: only the proxy can send it on
        assert relay_run().sent == count
    assert len(proxy.requests) == count and all(signed(r) for r in proxy.requests)
    assert {r["path"] for r in proxy.requests} == {"http://erp.invalid/hooks/traveler"}


def test_webhook_url_that_is_not_http_sends_nothing_and_says_why(shop, traveler, secret):
    adapter = webhook("ftp://erp.example.com/hooks")
    result = relay_run()
    assert result.sent == 0 and result.failed == OutboxMessage.objects.count()
    adapter.refresh_from_db()
    assert adapter.state == "failing"
    assert "url must be http(s)://host[:port]/path, not 'ftp://erp.example.com/hooks'" in adapter.last_error
