"""A step's values in one request (POST …/measurements/batch): each value judged, audited in the chain
and evented as if recorded alone, in one transaction; a bad value refuses the whole batch, naming it;
and the queries per recorded value stay few and the same whatever the traveler's length."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import AuditEvent
from mes.compliance.tokens import api_token_issue
from mes.compliance.verify import verify_records
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from tests.factories import PartFactory, PartRevisionFactory, release_routing
from tests.travelers.test_api import assert_error, client_for, post, records, steps_url
from travelers import services
from travelers.models import Measurement, Nonconformance

pytestmark = pytest.mark.django_db

BATCH = "measurements/batch"


def started(shop, traveler, sequence=10):
    return services.step_start(step=traveler.steps.get(sequence=sequence), actor=shop.operator)


def test_a_steps_values_in_one_request_are_each_judged_audited_and_evented(shop, traveler):
    started(shop, traveler)
    olga = client_for(shop.operator)
    before = records()
    values = [
        {"characteristic": "BORE_DIA", "value": "0.5", "unit": "in"},  # converted: 12.7 mm, in spec
        {"characteristic": "SURFACE", "value": "fail"},  # out of spec on a `warn` characteristic
    ]
    r = post(olga, steps_url(traveler, 10, BATCH), {"values": values})
    assert r.status_code == 201, r.content
    body = r.json()
    assert [m["characteristic"] for m in body["measurements"]] == ["BORE_DIA", "SURFACE"]
    assert [m["judgment"] for m in body["measurements"]] == ["in_spec", "out_of_spec"]
    assert Decimal(body["measurements"][0]["value"]) == Decimal("12.7")
    assert body["put_on_hold"] is False and body["ncrs"] == []
    assert body["traveler"]["version"] == traveler.version + 2  # started, then this change
    after = records()
    assert after["measurements"] == before["measurements"] + 2
    ids = [str(m["id"]) for m in body["measurements"]]
    events = AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}", action="measurement.recorded")
    assert sorted(events.values_list("object_id", flat=True)) == sorted(ids)
    seqs = sorted(events.values_list("seq", flat=True))
    assert seqs[1] == seqs[0] + 1  # one after the other in the traveler's chain
    emitted = OutboxMessage.objects.filter(aggregate_id=traveler.number, event_type="measurement.recorded")
    assert [e.payload["data"]["value"]["characteristic"] for e in emitted.order_by("id")] == ["BORE_DIA", "SURFACE"]
    stamps = list(Measurement.objects.filter(pk__in=ids).order_by("id").values_list("recorded_at", flat=True))
    assert stamps[0] < stamps[1]  # each value a change of its own, in order
    report = verify_records()
    assert report.ok, [str(f) for f in report.findings]


@pytest.mark.parametrize(
    ("second", "status", "code", "field"),
    [
        ({"characteristic": "BORE_DIA", "value": "abc"}, 422, "measurement_invalid", "values[1].value"),
        ({"characteristic": "BORE_DIA", "value": "12.70", "unit": "kg"}, 422, "measurement_invalid", "values[1].unit"),
        ({"characteristic": "NOPE", "value": "1"}, 422, "measurement_invalid", "values[1].characteristic"),
        ({"characteristic": "SURFACE", "value": "fail"}, 422, "measurement_invalid", "values[1].characteristic"),
        (
            {"characteristic": "BORE_DIA", "value": "12.7", "source": "device"},
            422,
            "validation_error",
            "values[1].source",
        ),
        ({"characteristic": "BORE_DIA", "value": "12.7", "extra": 1}, 422, "validation_error", "values[1].extra"),
    ],
    ids=["not-a-number", "wrong-unit", "unknown", "twice", "device", "unknown-field"],
)
def test_a_bad_value_refuses_the_whole_batch_naming_it(shop, traveler, second, status, code, field):
    started(shop, traveler)
    olga = client_for(shop.operator)
    before = records()
    values = [{"characteristic": "SURFACE", "value": "pass"}, second]
    r = post(olga, steps_url(traveler, 10, BATCH), {"values": values})
    assert_error(r, status, code, field)
    assert records() == before  # nothing half-saved


def test_a_batch_refuses_a_value_already_recorded_and_an_empty_form(shop, traveler):
    step = started(shop, traveler)
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    olga = client_for(shop.operator)
    before = records()
    values = [{"characteristic": "BORE_DIA", "value": "12.701"}, {"characteristic": "SURFACE", "value": "pass"}]
    r = post(olga, steps_url(traveler, 10, BATCH), {"values": values})
    error = assert_error(r, 409, "record_conflict", "values[1].characteristic")
    assert "correct it instead" in error["message"]
    assert_error(post(olga, steps_url(traveler, 10, BATCH), {"values": []}), 422, "measurement_invalid", "values")
    assert records() == before


def test_a_batch_refuses_a_step_not_started_and_a_stale_version(shop, traveler):
    olga = client_for(shop.operator)
    values = [{"characteristic": "BORE_DIA", "value": "12.701"}]
    assert_error(post(olga, steps_url(traveler, 10, BATCH), {"values": values}), 409, "step_state_refused", "step")
    step = started(shop, traveler)
    r = post(olga, steps_url(traveler, 10, BATCH), {"values": values, "expected_version": step.version - 1})
    assert_error(r, 409, "record_conflict", "version")
    assert not Measurement.objects.filter(step=step).exists()


def test_an_inspector_without_the_permission_cannot_record_a_batch(shop, traveler):
    started(shop, traveler)
    values = [{"characteristic": "BORE_DIA", "value": "12.701"}]
    r = post(client_for(shop.engineer), steps_url(traveler, 10, BATCH), {"values": values})
    assert_error(r, 403, "not_authorized", "actor")


def test_out_of_spec_values_in_a_batch_hold_the_traveler_after_every_value_is_recorded(shop, traveler):
    started(shop, traveler)
    olga = client_for(shop.operator)
    values = [{"characteristic": "BORE_DIA", "value": "12.900"}, {"characteristic": "SURFACE", "value": "pass"}]
    r = post(olga, steps_url(traveler, 10, BATCH), {"values": values})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["put_on_hold"] is True and body["traveler"]["on_hold"] is True
    ncr = Nonconformance.objects.get(traveler=traveler)
    assert body["ncrs"] == [ncr.number] and ncr.measurement_id == body["measurements"][0]["id"]
    assert Measurement.objects.filter(step__traveler=traveler).count() == 2
    held = AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}").order_by("seq")
    actions = list(held.values_list("action", flat=True))
    assert actions[-4:] == ["measurement.recorded", "measurement.recorded", "ncr.raised", "traveler.held"]
    stamps = [e.occurred_at for e in held]
    assert stamps == sorted(stamps)
    report = verify_records()
    assert report.ok, [str(f) for f in report.findings]


# --- Queries per recorded value ------------------------------------------------------------------------------

CHARS = 10


def long_traveler(shop, steps: int, serial: str):
    """A traveler of `steps` steps whose first step has CHARS numeric characteristics, started."""
    revision = PartRevisionFactory(part=PartFactory(number=f"LONG-{steps}"), revision="A")
    routing = md.routing_create_draft(part_revision=revision)
    for s in range(1, steps + 1):
        step = md.routing_step_add(
            routing=routing, sequence=s * 10, operation=shop.ops["machining"], work_center=shop.wc, title=f"Step {s}"
        )
        for c in range(1, (CHARS if s == 1 else 1) + 1):
            md.characteristic_add(
                step=step,
                code=f"D{c:02d}",
                name=f"Diameter {c}",
                unit="mm",
                nominal=Decimal("10.000"),
                lower_limit=Decimal("9.990"),
                upper_limit=Decimal("10.010"),
            )
    release_routing(routing=routing)
    order = services.work_order_create(number=f"WO-L{steps}", part_revision=revision, quantity=1, site=shop.site)
    traveler = services.traveler_release(work_order=order, identifier=serial, actor=shop.supervisor)
    started(shop, traveler)
    return traveler


def queries_to_record(client, headers, traveler, *, batch: bool) -> int:
    values = [{"characteristic": f"D{c:02d}", "value": "10.002", "unit": "mm"} for c in range(1, CHARS + 1)]
    with CaptureQueriesContext(connection) as ctx:
        if batch:
            r = post(client, steps_url(traveler, 10, BATCH), {"values": values[1:]}, **headers)
            assert r.status_code == 201, r.content
        else:
            r = post(client, steps_url(traveler, 10, "measurements"), values[0], **headers)
            assert r.status_code == 201, r.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("batch", [True, False], ids=["a-step-at-once", "a-value-per-request"])
def test_queries_per_recorded_value_are_few_and_do_not_grow_with_the_traveler(shop, batch):
    """A step's form at once (9 values): at most 6 queries per value, savepoints included; a value per
    request: a bounded number; both the same for a 5-step and a 50-step traveler (token auth)."""
    _, key = api_token_issue(user=shop.operator, name="tablet")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    client = Client()
    client.get("/api/travelers/T-none", **headers)  # the token's first use is noted once: not counted below
    counts = {steps: queries_to_record(client, headers, long_traveler(shop, steps, f"SN-L{steps}"), batch=batch)
              for steps in (5, 50)}  # fmt: skip
    assert counts[5] == counts[50], counts
    per_value = counts[5] / (CHARS - 1) if batch else counts[5]
    assert per_value <= (6 if batch else 14), counts
