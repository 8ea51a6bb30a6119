"""The file drop: B2MML and CSV files in a watched folder become work orders (codes resolved to the
shared data model), refused files go to failed/ with a reason, repeats change nothing, and closed
travelers go back out as B2MML performance documents."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from lxml import etree

from integrations import b2mml
from integrations.adapters import impl_for
from integrations.adapters.file_drop import file_receive
from integrations.formats import csv_orders
from integrations.inbox import inbox_receive, inbox_reprocess
from integrations.models import Checkpoint, InboxMessage, OutboxDelivery, WorkOrderProvenance
from integrations.polling import POLL_LOCK
from integrations.relay import relay_run
from integrations.sim import legacy
from integrations.tasks import adapter_poll, inbox_sweep
from mes.celery import app
from mes.database import own_connection
from mes.events.models import OutboxMessage
from mes.masterdata import services as md
from mes.masterdata.models import UnmappedCode
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import CSV, V0401, close_traveler, order
from travelers.models import WorkOrder


def folders(adapter):
    impl = impl_for(adapter)
    inbox, done, failed = impl.folders()
    return impl, inbox, done, failed


def names(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def steps_of(number):
    order = WorkOrder.objects.get(number=number)
    return order.site.code, order.part_revision.part.number, order.quantity, order.due_date


def test_every_b2mml_version_and_csv_become_work_orders(drop):
    impl, inbox, done, failed = folders(drop)
    (inbox / "a-v0401.xml").write_bytes(V0401)
    (inbox / "b-v0500.xml").write_bytes(legacy.schedule_document([order("WO-5001")], "V0500"))
    (inbox / "c-v0700.xml").write_bytes(legacy.schedule_document([order("WO-7001", codes=["CT1"])], "V0700"))
    (inbox / "d-orders.csv").write_text(CSV)
    (inbox / "notes.txt").write_text("not for us")
    (inbox / ".e.xml.part").write_text("<half")

    assert impl.poll() == 4

    made = set(WorkOrder.objects.filter(source_system="legacy-wic").values_list("number", flat=True))
    assert made == {"WO-4401", "WO-4402", "WO-5001", "WO-7001", "WO-C1", "WO-C2"}
    assert steps_of("WO-4401")[:3] == ("WIC", "HSG-1", 3)
    assert steps_of("WO-C1")[2:] == (4, dt.date(2026, 12, 1))
    assert not UnmappedCode.objects.exists()  # MC-10, AS-80, CT1 … all resolved to canonical operations
    assert set(InboxMessage.objects.values_list("status", flat=True)) == {"processed"}
    assert set(InboxMessage.objects.values_list("message_type", flat=True)) == {
        "b2mml.SyncProductionSchedule",
        "b2mml.SyncOperationsSchedule",
        "csv.work_orders",
    }
    assert WorkOrderProvenance.objects.filter(work_order__number="WO-C2").count() == 1
    assert names(done) == ["a-v0401.xml", "b-v0500.xml", "c-v0700.xml", "d-orders.csv"]
    assert names(inbox) == [".e.xml.part", "notes.txt"] and names(failed) == []
    assert Checkpoint.objects.get(adapter=drop, key="last_file").value.startswith("d-orders.csv sha256:")


def test_a_redropped_identical_file_duplicates_nothing(drop):
    impl, inbox, done, _ = folders(drop)
    data = legacy.schedule_document([order("WO-21"), order("WO-22")], "V0700")
    (inbox / "orders.xml").write_bytes(data)
    impl.poll()
    counts = WorkOrder.objects.count(), InboxMessage.objects.count()

    (inbox / "orders.xml").write_bytes(data)  # the legacy MES sends it again
    assert impl.poll() == 1
    outcome = file_receive(adapter=drop, path=done / "orders.xml")  # and a backfill reads it once more

    assert (WorkOrder.objects.count(), InboxMessage.objects.count()) == counts
    assert outcome.status == "duplicate" and outcome.work_orders == ["WO-21", "WO-22"]
    assert len(names(done)) == 2  # both copies kept: the second under a dated name

    (inbox / "orders-copy.xml").write_bytes(data)  # the same orders under another name: a new message …
    impl.poll()
    assert WorkOrder.objects.count() == counts[0]  # … that adds provenance, not work orders
    assert WorkOrder.objects.get(number="WO-21").provenance.count() == 2


def test_an_unknown_code_dead_letters_until_it_is_mapped(drop, wic):
    impl, inbox, done, failed = folders(drop)
    (inbox / "new-op.xml").write_bytes(legacy.schedule_document([order("WO-88", codes=["MC-10", "LASER-3"])], "V0500"))
    before = WorkOrder.objects.count()

    impl.poll()

    message = InboxMessage.objects.get()
    assert message.status == InboxMessage.Status.DEAD
    assert "LASER-3" in message.reason and "unmapped-code queue" in message.reason
    assert WorkOrder.objects.count() == before
    assert names(failed) == ["new-op.xml", "new-op.xml.error.txt"]
    error = (failed / "new-op.xml.error.txt").read_text()
    assert "LASER-3" in error and f"dead letter #{message.pk}" in error
    queued = UnmappedCode.objects.get(code="LASER-3")
    assert queued.site == wic.site and queued.context["work_order"] == "WO-88"

    md.operation_alias_create(operation=wic.ops["marking"], source_system="legacy-wic", site=wic.site, code="LASER-3")
    assert inbox_reprocess(message.pk).status == InboxMessage.Status.PROCESSED
    assert WorkOrder.objects.get(number="WO-88").provenance.get().message == message


def test_a_refused_file_dropped_again_after_the_fix_is_imported(drop, wic):
    impl, inbox, done, failed = folders(drop)
    data = legacy.schedule_document([order("WO-89", codes=["LASER-4"])], "V0700")
    (inbox / "again.xml").write_bytes(data)
    impl.poll()
    md.operation_alias_create(operation=wic.ops["marking"], source_system="legacy-wic", site=wic.site, code="LASER-4")
    (inbox / "again.xml").write_bytes(data)
    impl.poll()
    assert WorkOrder.objects.filter(number="WO-89").exists()
    assert InboxMessage.objects.get().status == InboxMessage.Status.PROCESSED
    assert names(done) == ["again.xml"] and len(names(failed)) == 2  # the first attempt and its reason stay


GOOD = legacy.schedule_document([order("WO-G1"), order("WO-G2")], "V0700").decode()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.xml", GOOD.replace("</OperationsRequest>", "", 1), "broken XML at line"),
        ("namespace.xml", GOOD.replace(b2mml.NS_V0700, "urn:acme:orders"), "namespace urn:acme:orders is not"),
        ("missing.xml", GOOD.replace("<ID>WO-G2</ID>", ""), "OperationsRequest[2]/ID is missing"),
        (
            "part.xml",
            GOOD.replace(">HSG-1<", ">NOPE-9<"),
            "OperationsRequest[1]: part 'NOPE-9' from legacy-wic (site WIC) is not a known part",
        ),
        ("ten.xml", GOOD.replace("<QuantityString>2<", "<QuantityString>ten<"), "QuantityString 'ten' is not a number"),
        ("date.csv", "WO;PN;REV;QTY;DUE;OPS\nWO-X;HSG-1;A;1;31/12/2026;MC-10\n", "line 2: DUE '31/12/2026' does not"),
        ("column.csv", "WO;PN;QTY\nWO-X;HSG-1;1\n", "column 'REV' (revision) is missing from the header"),
        ("qty.csv", "WO;PN;REV;QTY\nWO-X;HSG-1;A;1\nWO-Y;HSG-1;A;ten\n", "line 3: QTY 'ten' is not a whole number"),
        ("empty.csv", "", "the file is empty"),
    ],
)
def test_malformed_files_land_in_failed_with_the_reason_and_nothing_is_saved(drop, name, content, reason):
    impl, inbox, done, failed = folders(drop)
    (inbox / name).write_text(content)
    before = WorkOrder.objects.count()

    impl.poll()

    assert WorkOrder.objects.count() == before  # all or nothing: not even the good orders of the file
    assert names(failed) == [name, f"{name}.error.txt"] and names(done) == []
    error = (failed / f"{name}.error.txt").read_text()
    assert reason in error
    assert InboxMessage.objects.get().status == InboxMessage.Status.DEAD


def test_the_second_order_of_a_file_refused_keeps_the_first_out_too(drop):
    impl, inbox, _, failed = folders(drop)
    document = legacy.schedule_document([order("WO-OK"), order("WO-BAD", part="NOPE-9")], "V0401")
    (inbox / "half.xml").write_bytes(document)
    impl.poll()
    assert not WorkOrder.objects.filter(number__in=["WO-OK", "WO-BAD"]).exists()
    assert (
        "ProductionRequest[2]: part 'NOPE-9' from legacy-wic (site WIC) is not a known part"
        in (failed / "half.xml.error.txt").read_text()
    )


def test_a_file_not_in_its_declared_encoding_is_refused_and_kept(drop):
    impl, inbox, _, failed = folders(drop)
    (inbox / "latin.csv").write_bytes("WO;PN;REV;QTY\nWO-Ä;HSG-1;A;1\n".encode("latin-1"))
    impl.poll()
    assert "not valid utf-8 text" in (failed / "latin.csv.error.txt").read_text()
    assert not InboxMessage.objects.exists()  # it cannot be kept exactly as received in the inbox


def test_a_closed_traveler_goes_out_as_a_valid_performance_document(drop, wic):
    traveler = close_traveler(wic, wic.order)

    result = relay_run()

    assert result.failed == 0 and not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()
    outbox = impl_for(drop).folder("outbox")
    (path,) = outbox.glob("*.xml")
    closed = OutboxMessage.objects.get(event_type="traveler.closed")
    assert path.name == f"WO-1_{traveler.number}_{closed.message_id}.xml"
    document = path.read_bytes()
    b2mml.validate_performance(document)
    root = etree.fromstring(document)
    ns = {"b": b2mml.NS_V0700}
    assert root.findtext(".//b:OperationsResponse/b:ID", namespaces=ns) == traveler.number
    assert OutboxDelivery.objects.filter(adapter=drop, delivered_at__isnull=False).count() == (
        OutboxMessage.objects.count()
    )  # other events: delivered, nothing written

    impl_for(drop).publish([closed])  # delivered twice: the same file, once
    assert [p.name for p in outbox.glob("*.xml")] == [path.name]


def test_a_nul_bearing_or_oversize_file_goes_to_failed_and_the_next_file_is_imported(drop, settings):
    # Observed: one CSV with a NUL byte failed every poll of that site's inbox while the adapter read "ok".
    settings.FILE_DROP_MAX_MIB = 0.001  # about 1 KiB
    impl, inbox, done, failed = folders(drop)
    (inbox / "a-nul.csv").write_bytes(b"WO;PN;REV;QTY\nWO-N\x00UL;HSG-1;A;1\n")
    (inbox / "b-huge.csv").write_bytes(b"WO;PN;REV;QTY\n" + b"WO-BIG;HSG-1;A;1\n" * 200)
    (inbox / "c-good.csv").write_text("WO;PN;REV;QTY;DUE;OPS\nWO-GOOD;HSG-1;A;2;2027-01-15;MC-10\n")

    assert impl.poll() == 3

    assert WorkOrder.objects.filter(number="WO-GOOD").exists()
    assert not WorkOrder.objects.filter(number__in=["WO-NUL", "WO-BIG"]).exists()
    assert names(done) == ["c-good.csv"]
    assert "holds NUL bytes" in (failed / "a-nul.csv.error.txt").read_text()
    assert "is 3 KiB; the limit is 1 KiB" in (failed / "b-huge.csv.error.txt").read_text()
    assert impl.poll() == 0  # the inbox is empty: nothing is tried again and again


def test_one_poll_per_adapter_at_a_time(drop):
    # Observed: two polls worked on the same file at once during a 22 s import (FileNotFoundError).

    impl, inbox, done, _ = folders(drop)
    (inbox / "one.csv").write_text("WO;PN;REV;QTY;DUE;OPS\nWO-ONE;HSG-1;A;1;2027-01-15;MC-10\n")
    with own_connection() as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s, %s)", [POLL_LOCK, drop.pk])
        assert adapter_poll(drop.pk) == 0  # another worker is polling: this one leaves the files alone
        assert names(inbox) == ["one.csv"]
    assert adapter_poll(drop.pk) == 1  # the other worker's connection is gone, and its lock with it
    assert names(done) == ["one.csv"] and WorkOrder.objects.filter(number="WO-ONE").exists()


def test_the_sweep_queues_again_what_a_killed_worker_took_with_it(drop, monkeypatch):
    # Observed: with the filesystem broker a REST-pushed import stayed pending until someone pressed
    # "Process now", since the broker deletes a message when a worker takes it.

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    body = "WO;PN;REV;QTY;DUE;OPS\nWO-LOST;HSG-1;A;1;2027-01-15;MC-10\n"
    lost, _ = inbox_receive(
        adapter=drop,
        source="push",
        external_id="WO-LOST",
        version="1",
        message_type=csv_orders.MESSAGE_TYPE,
        payload=body,
    )
    fresh, _ = inbox_receive(
        adapter=drop,
        source="push",
        external_id="WO-NEW",
        version="1",
        message_type=csv_orders.MESSAGE_TYPE,
        payload=body,
    )
    InboxMessage.objects.filter(pk=lost.pk).update(received_at=timezone.now() - dt.timedelta(minutes=5))

    assert inbox_sweep() == [lost.pk]  # the fresh one may still be on its way to a worker

    assert InboxMessage.objects.get(pk=lost.pk).status == InboxMessage.Status.PROCESSED
    assert InboxMessage.objects.get(pk=fresh.pk).status == InboxMessage.Status.PENDING
    assert WorkOrder.objects.filter(number="WO-LOST").count() == 1
