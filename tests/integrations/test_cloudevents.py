"""Events that name themselves: `type` is the event type topics and docs use, `source` an absolute URI of
this installation, `dataschema` resolved when the event is published (not frozen when it was written),
and every event conforms to the CloudEvents 1.0 specification (JSON format)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from integrations.adapters.mqtt.publish import event_topic
from integrations.adapters.webhook import body_of
from integrations.formats.event_schemas import event_types, validate_event
from mes.events.models import OutboxMessage
from mes.events.services import cloudevent
from mes.masterdata.models import WorkCenter
from tests.factories import SiteFactory
from tests.integrations.sync_support import tour
from tests.travelers import conftest as travelers_conftest

pytestmark = pytest.mark.django_db
shop, traveler = travelers_conftest.shop, travelers_conftest.traveler  # the traveler tests' small shop

# CloudEvents 1.0 (https://github.com/cloudevents/spec, spec.md and formats/json-format.md): the REQUIRED
# context attributes, their types, and the OPTIONAL ones Traveler sends.
REQUIRED = ("id", "source", "specversion", "type")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]{1,20}$")


def cloudevents_problems(event: dict) -> list[str]:
    """What in `event` breaks the CloudEvents 1.0 specification (structured JSON format)."""
    problems = [f"{name} is required" for name in REQUIRED if not event.get(name)]
    if event.get("specversion") != "1.0":
        problems.append("specversion must be 1.0")
    for name in ("id", "type", "source", "subject", "datacontenttype", "dataschema"):
        if name in event and not isinstance(event[name], str):
            problems.append(f"{name} must be a string")
    source = urlsplit(str(event.get("source", "")))
    if not source.scheme or not (source.netloc or source.path):
        problems.append(f"source {event.get('source')!r} is not an absolute URI")
    schema = urlsplit(str(event.get("dataschema", "")))
    if "dataschema" in event and not (schema.scheme and schema.netloc):
        problems.append(f"dataschema {event.get('dataschema')!r} is not an absolute URI")
    if "time" in event and not RFC3339.match(str(event["time"])):
        problems.append(f"time {event['time']!r} is not RFC 3339")
    if "datacontenttype" in event and not re.match(r"^[\w.+-]+/[\w.+-]+", event["datacontenttype"]):
        problems.append("datacontenttype is not a media type")
    problems += [
        f"attribute name {name!r} is not lower-case alphanumeric"
        for name in event
        if name != "data"
        if not ATTRIBUTE_NAME.match(name)
    ]
    return problems


def test_every_event_conforms_to_cloudevents_and_names_itself(shop, traveler, settings):
    settings.PUBLIC_BASE_URL = "https://traveler.plant-a.example"
    tour(shop, traveler)
    seen = set()
    for message in OutboxMessage.objects.all():
        event = cloudevent(message)
        assert cloudevents_problems(event) == [], (message.event_type, cloudevents_problems(event))
        assert event["type"] == message.event_type  # what the topics and the docs say
        assert event["source"] == f"https://traveler.plant-a.example/sites/{message.site_code}"
        assert validate_event(event) == [], (message.event_type, validate_event(event))
        seen.add(event["type"])
    assert seen == set(event_types())


def test_two_installations_are_told_apart_by_source(shop, traveler, settings):
    message = OutboxMessage.objects.get(event_type="traveler.released")
    settings.PUBLIC_BASE_URL = "https://traveler.plant-a.example"
    first = cloudevent(message)["source"]
    settings.PUBLIC_BASE_URL = "https://traveler.plant-b.example"
    assert cloudevent(message)["source"] != first
    assert cloudevent(message)["source"].startswith("https://traveler.plant-b.example/")


def test_dataschema_is_resolved_when_published_not_when_written(shop, traveler, settings, monkeypatch):
    settings.PUBLIC_BASE_URL = "http://localhost:8000"
    message = OutboxMessage.objects.get(event_type="traveler.released")  # written under the default
    settings.PUBLIC_BASE_URL = "https://traveler.example.com"  # configured later, before the relay ran
    assert cloudevent(message)["dataschema"] == "https://traveler.example.com/api/schemas/traveler.released/v1.json"
    body = body_of(message).decode()
    assert '"dataschema":"https://traveler.example.com/api/schemas/traveler.released/v1.json"' in body
    assert '"type":"traveler.released"' in body


def test_an_event_written_before_this_change_is_published_with_the_live_attributes(db, settings):
    settings.PUBLIC_BASE_URL = "https://traveler.example.com"
    old = OutboxMessage.objects.create(
        message_id=uuid.uuid4(),
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        event_type="step.started",
        aggregate_type="traveler",
        aggregate_id="T-0000001",
        site_code="WIC",
        payload={"type": "traveler.step.started", "source": "traveler/WIC", "dataschema": "http://localhost:8000/x"},
    )
    event = cloudevent(old)
    assert (event["type"], event["source"]) == ("step.started", "https://traveler.example.com/sites/WIC")


def test_topics_follow_the_isa95_hierarchy_and_are_configurable(settings, db):
    settings.ENTERPRISE_CODE = "meridian"
    site = SiteFactory(code="WIC")
    WorkCenter.objects.create(site=site, code="LATHE-01", name="Lathe", area="machining")
    step = SimpleNamespace(site_code="WIC", work_center_code="LATHE-01", event_type="step.started")
    assert event_topic(step) == "meridian/WIC/machining/LATHE-01/traveler/step.started"
    release = SimpleNamespace(site_code="WIC", work_center_code="", event_type="traveler.released")
    assert event_topic(release) == "meridian/WIC/-/-/traveler/traveler.released"
    legacy_layout = "traveler/v1/{site}/{work_center}/{event_type}"
    assert event_topic(step, legacy_layout) == "traveler/v1/WIC/LATHE-01/step.started"
