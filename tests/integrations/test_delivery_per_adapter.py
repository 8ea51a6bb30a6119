"""Each outbound adapter is delivered to on its own: a receiver that is down never holds back another,
a poison event is dead-lettered for the one adapter that refuses it, and the status page says so."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.models import Group

from integrations import selectors
from integrations.models import OutboxDelivery
from integrations.relay import relay_drain, relay_run
from mes.events.models import OutboxMessage
from tests.factories import UserFactory
from tests.integrations.relay_support import SECRET_ENV, emit_many, hook
from tests.integrations.sync_support import Receiver, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "relay-secret")


def emit(count: int) -> None:
    emit_many(count)


def received(receiver) -> Counter:
    return Counter(r["headers"]["X-Traveler-Event-Id"] for r in receiver.requests)


def backoff_passed() -> None:
    OutboxDelivery.objects.filter(delivered_at__isnull=True).update(next_attempt_at=None)


def test_a_receiver_that_is_down_never_holds_back_another():
    # Observed: with a webhook down, MQTT got 32 of 601 new events and the page called it OK.
    emit(601)
    with Receiver() as up:
        hook("mqtt-like", up.url)
        down = hook("hook-down", f"http://127.0.0.1:{free_port()}/hook")
        result = relay_drain(batch=200)
        assert len(received(up)) == 601 and set(received(up).values()) == {1}  # all of them, once
    assert result.sent == 601 and result.pending == 601  # each waits for the adapter that is down
    status = {row.adapter.name: row for row in selectors.adapters_status()}
    assert (status["mqtt-like"].health, status["mqtt-like"].backlog) == ("ok", 0)
    assert (status["hook-down"].health, status["hook-down"].backlog) == ("failing", 601)
    assert status["hook-down"].lag_seconds >= 0 and "unreachable: ConnectionRefusedError" in status["hook-down"].reason

    # While it is down, each run tries it with one message, not a whole batch of timeouts.
    tried = sum(OutboxDelivery.objects.filter(adapter=down).values_list("attempts", flat=True))
    backoff_passed()
    assert relay_run().failed == 1
    assert sum(OutboxDelivery.objects.filter(adapter=down).values_list("attempts", flat=True)) == tried + 1
    assert not OutboxDelivery.objects.filter(dead_at__isnull=False).exists()  # down is not poison

    # It comes back (a new address): it gets the backlog, each event once, and every message is delivered.
    with Receiver() as back:
        down.settings = {"url": back.url, "timeout": 2}
        down.save()
        backoff_passed()
        relay_drain(batch=200)
        assert len(received(back)) == 601 and set(received(back).values()) == {1}
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    assert {row.adapter.name: row.health for row in selectors.adapters_status()} == {
        "mqtt-like": "ok",
        "hook-down": "ok",
    }


def test_a_poison_event_is_dead_lettered_for_the_adapter_that_refuses_it_only(settings, client):
    settings.RELAY_MAX_ATTEMPTS = 3
    emit(10)

    def refuse_one(body: bytes) -> int:
        return 422 if b"T-00003" in body else 200

    with Receiver() as happy, Receiver(status=refuse_one) as picky:
        hook("archive-like", happy.url)
        fussy = hook("fussy", picky.url)
        for _ in range(5):  # the floor goes on: new events arrive between the relay's runs
            emit(1)
            relay_run()
            backoff_passed()
        refusing_ids = {r["headers"]["X-Traveler-Event-Id"] for r in picky.requests if b"T-00003" in r["body"]}
        assert len(received(happy)) == 15  # the other adapter had every event at once
    poison = OutboxDelivery.objects.get(adapter=fussy, dead_at__isnull=False)
    assert poison.message.aggregate_id == "T-00003" and poison.attempts == 3 and "422" in poison.last_error
    assert len(refusing_ids) == 1
    assert OutboxDelivery.objects.filter(adapter=fussy, delivered_at__isnull=False).count() == 14
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()  # nothing waits for it now
    fussy_status = next(row for row in selectors.adapters_status() if row.adapter.name == "fussy")
    assert fussy_status.health == "failing" and "dead-lettered" in fussy_status.reason

    # The supervisor sees it on the status page and delivers it again once the receiver is fixed.
    supervisor = UserFactory(username="sam")
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    client.force_login(supervisor)
    page = client.get("/integrations/status")
    assert page.status_code == 200
    assert f'id="delivery-{poison.pk}"' in page.content.decode() and "Deliver again" in page.content.decode()
    answer = client.post(f"/integrations/deliveries/{poison.pk}/redeliver")
    assert answer.status_code == 302
    poison.refresh_from_db()
    assert poison.dead_at is None and poison.attempts == 0
    with Receiver() as fixed:
        fussy.settings = {"url": fixed.url, "timeout": 2}
        fussy.save()
        relay_run()
        assert len(fixed.requests) == 1 and b"T-00003" in fixed.requests[0]["body"]
    poison.refresh_from_db()
    assert poison.delivered_at is not None


def test_an_operator_cannot_deliver_again(client):
    emit(1)
    adapter = hook("erp", f"http://127.0.0.1:{free_port()}/hook")
    relay_run()
    delivery = OutboxDelivery.objects.get(adapter=adapter)
    operator = UserFactory(username="olga")
    operator.groups.add(Group.objects.get(name="Operator"))
    client.force_login(operator)
    assert client.post(f"/integrations/deliveries/{delivery.pk}/redeliver").status_code == 403
