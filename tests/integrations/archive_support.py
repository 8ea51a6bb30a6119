"""The archive tests' closed traveler, shared by the archive tests and the S3 ones (and bench/archive.py):
a housing on a routing whose bore step also asks for a photo, run to its final approval with a photo, a
corrected value, a file, an inspection buy-off and a work order from a recorded inbound message."""

from __future__ import annotations

import pytest
from django.utils import timezone

from integrations.models import Adapter, InboxMessage, WorkOrderProvenance
from mes.masterdata.services import characteristic_add, routing_new_revision
from tests.factories import release_routing
from tests.travelers.conftest import PASSWORD, do_step, step_of
from travelers import services as ts
from travelers.models import Item

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NOTE = b"torque wrench TW-118, calibrated 2026-01-10"
ORDER_XML = "<SyncProductionSchedule><ID>WO-1</ID><Quantity>5</Quantity></SyncProductionSchedule>"


def photo_traveler(shop):
    """SN-0001 on routing r2 of the shop's housing, whose bore step also asks for a photo (optional)."""
    draft = routing_new_revision(routing=shop.routing)
    characteristic_add(
        step=draft.steps.get(sequence=10), code="PHOTO", name="Bore photo", kind="attachment", required=False
    )
    release_routing(routing=draft)
    return ts.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)


@pytest.fixture
def traveler(shop):  # where imported, it replaces the travelers' conftest one: this traveler has a photo to take
    return photo_traveler(shop)


def closed_traveler(shop, traveler):
    """A traveler (from photo_traveler) with a measurement photo, a corrected value, a file, an inspection
    buy-off and the final approval; its work order came from a (recorded) inbound message."""
    adapter, _ = Adapter.objects.get_or_create(name="legacy-wic", kind="file_drop", source_system="legacy-wic")
    message = InboxMessage.objects.create(
        adapter=adapter,
        idempotency_key=f"legacy-wic:{traveler.work_order.number}:1",
        source="orders/WO-1.xml",
        external_id="WO-1",
        message_type="b2mml.SyncProductionSchedule",
        payload=ORDER_XML,
        payload_sha256="0" * 64,
        received_at=timezone.now(),
        status=InboxMessage.Status.PROCESSED,
    )
    WorkOrderProvenance.objects.create(work_order=traveler.work_order, message=message)
    step = ts.step_start(step=step_of(traveler, 10), actor=shop.operator)
    photo = ts.attachment_add(
        step=step, filename="bore.png", content=PNG, content_type="image/png", actor=shop.operator
    )
    ts.measurement_record(
        step=step, characteristic="PHOTO", value="bore.png", attachment_id=photo.pk, actor=shop.operator
    )
    first = ts.measurement_record(step=step, characteristic="BORE_DIA", value="12.702", unit="mm", actor=shop.operator)
    ts.measurement_correct(
        measurement=first,
        value="12.701",
        unit="mm",
        reason="misread the dial",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    ts.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    ts.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    step = ts.step_start(step=step_of(traveler, 20), actor=shop.operator)
    ts.attachment_add(step=step, filename="wrench.txt", content=NOTE, content_type="text/plain", actor=shop.operator)
    if getattr(shop, "pin_part", None):  # a received hinge pin goes into the housing (genealogy)
        Item.objects.create(
            part=shop.pin_part, part_revision=shop.pin_rev, tracking="serial", identifier="PIN-0001", status="available"
        )
        ts.component_consume(step=step, identifier="PIN-0001", actor=shop.operator)
    ts.measurement_record(step=step, characteristic="TORQUE", value="25.0", unit="N*m", actor=shop.operator)
    step = ts.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    ts.step_inspect(step=step, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username())
    do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    do_step(shop, traveler, 40, {})
    ts.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    traveler.refresh_from_db()
    assert traveler.status == "closed"
    return traveler
