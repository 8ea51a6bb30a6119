"""The sync status page and the admin: supervisors see every adapter's health, lag, counts and dead
letters (with reasons) and can reprocess them; operators get 403; the admin never shows a secret."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils.html import escape

from integrations.formats.json_orders import MESSAGE_TYPE
from integrations.inbox import inbox_process, inbox_receive
from integrations.models import Adapter, InboxMessage, MachineState, OutboxDelivery
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from tests.travelers import conftest as travelers_conftest
from travelers.models import WorkOrder

shop, traveler = travelers_conftest.shop, travelers_conftest.traveler

pytestmark = pytest.mark.django_db
STATUS = "/integrations/status"


def dead_letter(adapter, number="WO-9001", code="ZZ-1") -> InboxMessage:
    order = {"number": number, "part_number": "HSG-1", "part_revision": "A", "quantity": 1, "operations": [code]}
    message, _ = inbox_receive(
        adapter=adapter,
        source="legacy/v1/WIC/workorders",
        external_id=number,
        version="1",
        message_type=MESSAGE_TYPE,
        payload=json.dumps(order),
    )
    return inbox_process(message.pk)


@pytest.fixture
def adapters(shop, traveler):
    inbound = Adapter.objects.create(
        name="legacy-mqtt", kind="mqtt", site=shop.site, source_system="legacy-wic", inbound=True, settings={}
    )
    hook = Adapter.objects.create(
        name="erp-hook",
        kind="webhook",
        source_system="erp",
        inbound=False,
        outbound=True,
        secret_env="ERP_HOOK_SECRET",
        settings={"url": "http://127.0.0.1:9/x"},
        state="failing",
        last_error="http://127.0.0.1:9/x unreachable: ConnectError",
    )
    first = OutboxMessage.objects.order_by("id").first()
    OutboxDelivery.objects.create(message=first, adapter=hook, attempts=3, last_error="HTTP 503: busy")
    return inbound, hook


def test_status_page_shows_each_adapter_and_says_when_mqtt_is_off(client, shop, adapters, settings):
    settings.MQTT_URL = ""
    inbound, hook = adapters
    dead = dead_letter(inbound)
    when = dead.received_at
    MachineState.objects.create(
        adapter=inbound, site_code="WIC", machine="MC-01", state="down", reported_at=when, received_at=when
    )
    client.force_login(shop.supervisor)
    response = client.get(STATUS)
    assert response.status_code == 200
    page = response.content.decode()
    assert "MQTT off: set MQTT_URL" in page
    assert "legacy-mqtt" in page and "erp-hook" in page and "unreachable: ConnectError" in page
    assert (
        escape(dead.reason) in page
        and "ZZ-1" in page
        and reverse("integrations:message_reprocess", args=[dead.pk]) in page
    )
    assert "MC-01" in page
    rows = {row.adapter.name: row for row in response.context["adapters"]}
    assert rows["erp-hook"].backlog == OutboxMessage.objects.count() and rows["erp-hook"].adapter.out_retried == 1
    assert rows["legacy-mqtt"].adapter.in_dead == 1 and rows["legacy-mqtt"].mqtt == "MQTT off: set MQTT_URL"
    partial = client.get(STATUS, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200 and b"<html" not in partial.content and b"erp-hook" in partial.content
    settings.MQTT_URL = "mqtt://traveler:s3cret@broker.example:1883"
    page = client.get(STATUS).content.decode()
    assert "mqtt://traveler@broker.example:1883" in page and "s3cret" not in page


def test_status_page_queries_do_not_grow_with_adapters(client, shop, adapters, django_assert_max_num_queries):
    client.force_login(shop.supervisor)
    with django_assert_max_num_queries(30) as few:
        client.get(STATUS)
    for n in range(8):
        Adapter.objects.create(name=f"hook-{n}", kind="webhook", source_system=f"s{n}", outbound=True, inbound=False)
        dead_letter(adapters[0], number=f"WO-95{n:02d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(STATUS)


def test_status_page_is_403_for_an_operator_and_asks_others_to_sign_in(client, shop):
    client.force_login(shop.operator)
    assert client.get(STATUS).status_code == 403
    client.logout()
    assert client.get(STATUS).status_code == 302


def test_status_reprocess_processes_a_dead_letter_once_its_cause_is_fixed(client, shop, adapters):
    inbound, _ = adapters
    dead = dead_letter(inbound)
    url = reverse("integrations:message_reprocess", args=[dead.pk])
    client.force_login(shop.operator)
    assert client.post(url).status_code == 403
    client.force_login(shop.supervisor)
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)  # the code is still unknown: still dead, said why
    assert "still a dead letter" in response.content.decode()
    md.operation_alias_create(operation=shop.ops["machining"], source_system="legacy-wic", site=shop.site, code="ZZ-1")
    response = client.post(url, follow=True)
    assert response.status_code == 200 and "processed: WO-9001" in response.content.decode()
    dead.refresh_from_db()
    assert dead.status == "processed" and dead.attempts == 3
    assert WorkOrder.objects.filter(number="WO-9001").count() == 1
    client.post(url)  # again: already processed, nothing changes
    assert WorkOrder.objects.filter(number="WO-9001").count() == 1


def test_status_admin_lists_integrations_and_never_shows_a_secret(client, admin_user, shop, adapters, monkeypatch):
    monkeypatch.setenv("ERP_HOOK_SECRET", "the-real-secret-value")
    inbound, hook = adapters
    dead = dead_letter(inbound)
    client.force_login(admin_user)
    for model in ("adapter", "checkpoint", "inboxmessage", "outboxdelivery", "workorderprovenance", "machinestate"):
        assert client.get(reverse(f"admin:integrations_{model}_changelist")).status_code == 200, model
    page = client.get(reverse("admin:integrations_adapter_change", args=[hook.pk])).content.decode()
    assert "ERP_HOOK_SECRET" in page and "the-real-secret-value" not in page
    filtered = client.get(reverse("admin:integrations_inboxmessage_changelist") + "?status__exact=dead")
    assert filtered.status_code == 200 and dead.external_id in filtered.content.decode()
    changelist = reverse("admin:integrations_inboxmessage_changelist")
    action = {"action": "reprocess", "_selected_action": [dead.pk]}
    assert "0 processed, 1 still dead letters" in client.post(changelist, action, follow=True).content.decode()
    md.operation_alias_create(operation=shop.ops["machining"], source_system="legacy-wic", site=shop.site, code="ZZ-1")
    assert "1 processed, 0 still dead letters" in client.post(changelist, action, follow=True).content.decode()


def test_an_adapter_with_failing_deliveries_is_never_ok_and_says_why(client, shop, traveler):
    """The file drop was 'OK' with '3 failing' and no reason when completions could not be written."""
    drop = Adapter.objects.create(
        name="wic-files", kind="file_drop", site=shop.site, source_system="legacy-wic", outbound=True, state="ok"
    )
    message = OutboxMessage.objects.order_by("id").first()
    reason = "the shipped schema V0700/B2MML-OperationsPerformance.xsd is missing: the installation is incomplete"
    OutboxDelivery.objects.create(message=message, adapter=drop, attempts=2, last_error=reason)
    client.force_login(shop.supervisor)
    response = client.get(STATUS)
    row = {r.adapter.name: r for r in response.context["adapters"]}["wic-files"]
    assert row.health == "failing" and row.reason == reason
    page = response.content.decode()
    assert escape(reason) in page
    drop.outbound, drop.state = False, "ok"  # inbound only, no failure, but a dead letter waits
    drop.save()
    dead_letter(drop, code="ZZ-9")
    row = {r.adapter.name: r for r in client.get(STATUS).context["adapters"]}["wic-files"]
    assert row.health == "failing" and "ZZ-9" in row.reason


def test_an_adapter_with_a_backlog_is_behind_not_ok(client, shop, traveler):
    hook = Adapter.objects.create(name="hook", kind="webhook", source_system="x", outbound=True, inbound=False)
    hook.state = "ok"
    hook.save()
    client.force_login(shop.supervisor)
    row = {r.adapter.name: r for r in client.get(STATUS).context["adapters"]}["hook"]
    assert row.backlog > 0 and row.health == "behind"
    wait = "1 event waits" if row.backlog == 1 else f"{row.backlog} events wait"  # a plural, not "1 events"
    assert wait in row.reason
