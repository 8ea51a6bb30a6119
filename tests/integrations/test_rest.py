"""REST push (inbound) of work orders and the served JSON Schemas: bearer tokens only, permission or the
adapter's own user, 202 with the inbox message, a repeat changes nothing, another body under the same
key is refused; schemas served where each event's `dataschema` points."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Permission

from integrations.adapters import rest_inbound
from integrations.formats.event_schemas import event_types
from integrations.models import Adapter, InboxMessage, WorkOrderProvenance
from mes.compliance.tokens import api_token_issue
from mes.events.models import OutboxMessage
from tests.factories import UserFactory
from tests.travelers import conftest as travelers_conftest
from travelers.models import WorkOrder

shop, traveler = travelers_conftest.shop, travelers_conftest.traveler

pytestmark = pytest.mark.django_db
URL = "/api/integrations/erp-push/work-orders"


def body(version="1", number="WO-8001", **extra) -> dict:
    line = {"number": number, "part_number": "HSG-1", "part_revision": "A", "quantity": 2, "operations": ["MC-10"]}
    return {"external_id": "ERP-REL-1", "version": version, "work_orders": [{**line, **extra}]}


@pytest.fixture
def push_adapter(shop):
    return Adapter.objects.create(
        name="erp-push",
        kind=Adapter.Kind.REST_INBOUND,
        site=shop.site,
        source_system="legacy-wic",
        settings={"process": "inline"},
    )


@pytest.fixture
def bridge(db):
    """The legacy MES's integration user, allowed to push, and its token."""
    user = UserFactory(username="erp-bridge")
    user.user_permissions.add(Permission.objects.get(codename="push_work_orders"))
    _, key = api_token_issue(user=user, name="legacy MES")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(client, payload, auth, url=URL):
    return client.post(url, data=json.dumps(payload), content_type="application/json", **auth)


def test_rest_push_stores_the_message_and_imports_the_work_order(client, push_adapter, bridge):
    response = post(client, body(), bridge)
    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["created"] is True
    message = answer["message"]
    assert (message["status"], message["work_orders"], message["external_id"]) == (
        "processed",
        ["WO-8001"],
        "ERP-REL-1",
    )
    stored = InboxMessage.objects.get(pk=message["id"])
    assert json.loads(stored.payload) == body() and stored.source == "rest:erp-bridge"
    work_order = WorkOrder.objects.get(number="WO-8001")
    assert work_order.source_system == "legacy-wic" and work_order.site.code == "WIC"
    assert WorkOrderProvenance.objects.filter(work_order=work_order, message=stored).exists()
    status = client.get(f"/api/integrations/erp-push/messages/{stored.pk}", **bridge)
    assert status.status_code == 200 and status.json()["status"] == "processed"


def test_rest_push_repeat_returns_the_same_message_and_changes_nothing(client, push_adapter, bridge):
    first = post(client, body(), bridge).json()["message"]
    events = OutboxMessage.objects.count()
    repeat = post(client, body(), bridge)
    assert repeat.status_code == 200
    assert repeat.json() == {"created": False, "message": first}
    assert InboxMessage.objects.count() == 1 and WorkOrder.objects.filter(number="WO-8001").count() == 1
    assert OutboxMessage.objects.count() == events
    conflict = post(client, body(number="WO-8002"), bridge)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["field"] == "version" and "new version" in conflict.json()["error"]["message"]
    newer = post(client, body(version="2", number="WO-8001", quantity=3), bridge)
    assert newer.status_code == 202 and newer.json()["message"]["status"] == "processed"
    assert WorkOrder.objects.filter(number="WO-8001").count() == 1  # a newer version: provenance only


def test_rest_push_needs_a_token_and_the_permission(client, push_adapter, bridge, shop):
    assert post(client, body(), {}).status_code == 401
    assert post(client, body(), {"HTTP_AUTHORIZATION": "Bearer trv_nope"}).status_code == 401
    client.force_login(shop.supervisor)  # a session is not enough: legacy systems push with a token
    assert post(client, body(), {}).status_code == 401
    client.logout()
    _, key = api_token_issue(user=shop.operator, name="tablet")
    refused = post(client, body(), {"HTTP_AUTHORIZATION": f"Bearer {key}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"
    push_adapter.settings = {**push_adapter.settings, "user": shop.operator.username}
    push_adapter.save()
    assert post(client, body(), {"HTTP_AUTHORIZATION": f"Bearer {key}"}).status_code == 202
    assert InboxMessage.objects.count() == 1


def test_rest_push_refuses_unknown_adapters_and_malformed_bodies(client, push_adapter, bridge):
    missing = post(client, body(), bridge, url="/api/integrations/nope/work-orders")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "adapter"
    bad = post(client, {"external_id": "X", "version": "1", "work_orders": [{"number": "WO-1", "quantity": 0}]}, bridge)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
    assert "work_orders[0]" in bad.json()["error"]["field"]
    assert post(client, {**body(), "colour": "red"}, bridge).status_code == 422
    assert InboxMessage.objects.count() == 0


def test_rest_push_of_an_unknown_part_is_a_dead_letter_with_its_reason(client, push_adapter, bridge):
    answer = post(client, body(part_number="NOPE"), bridge).json()["message"]
    assert answer["status"] == "dead" and "part 'NOPE' from" in answer["reason"]
    assert not WorkOrder.objects.filter(number="WO-8001").exists()


def test_rest_push_queues_processing_by_default(client, push_adapter, bridge, monkeypatch):
    queued = []
    monkeypatch.setattr(rest_inbound, "process_queued", queued.append)
    push_adapter.settings = {}
    push_adapter.save()
    answer = post(client, body(), bridge)
    assert answer.status_code == 202 and answer.json()["message"]["status"] == "pending"
    assert queued == [answer.json()["message"]["id"]]
    assert not WorkOrder.objects.filter(number="WO-8001").exists()


# --- JSON Schemas, served -------------------------------------------------------------------------------


def test_rest_schemas_are_served_where_dataschema_points(client, traveler, settings):
    settings.PUBLIC_BASE_URL = "https://traveler.plant.example"
    index = client.get("/api/schemas/")
    assert index.status_code == 200 and len(index.json()) == len(event_types()) == 22
    event = OutboxMessage.objects.get(event_type="traveler.released").payload
    assert event["dataschema"].startswith("http")  # emitted with the base of its day
    path = urlsplit(event["dataschema"]).path
    assert path == "/api/schemas/traveler.released/v1.json"
    response = client.get(path)  # public: no token needed for a schema
    assert response.status_code == 200 and response["Content-Type"] == "application/schema+json"
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://traveler.plant.example/api/schemas/traveler.released/v1.json"
    assert client.get("/api/schemas/common/v1.json").status_code == 200  # the shared definitions it refers to
    missing = client.get("/api/schemas/traveler.teleported/v1.json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.get("/api/schemas/traveler.released/v9.json").status_code == 404
