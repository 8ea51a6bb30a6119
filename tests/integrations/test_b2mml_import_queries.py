"""The B2MML import's queries do not grow with the orders of a file (issue 15: ≥ 300 orders/s): a file of
50 orders costs at most a few queries more than a file of 5, and every order is still audited in its
own chain, verifiably, and linked to its message."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.adapters import impl_for
from integrations.models import InboxMessage, WorkOrderProvenance
from integrations.sim import legacy
from mes.compliance.models import AuditChainHead, AuditEvent
from mes.compliance.verify import audit_problems
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from tests.integrations.legacy_support import order
from travelers.models import WorkOrder

# What a file costs beyond the orders' own rows, whatever its size: the same per file (reading, the
# inbox, the master data looked up once per distinct code). A small margin is allowed for nothing else.
MARGIN = 3
# An order sent again goes through travelers.services.work_order_change, one by one (it reads and locks the
# order, compares, and records a change if any), and its provenance is looked up and written: at most
# this many queries each. Not batched (yet): a resent file is rarer than a new one.
PER_RESENT_ORDER = 5


def import_file(adapter, name: str, numbers: list[str]) -> int:
    """Drop one V0700 file of `numbers` and poll once; the queries the poll sent."""
    inbox, _, _ = impl_for(adapter).folders()
    (inbox / name).write_bytes(legacy.schedule_document([order(n) for n in numbers], "V0700"))
    with CaptureQueriesContext(connection) as captured:
        assert impl_for(adapter).poll() == 1
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_the_queries_of_an_import_do_not_grow_with_its_orders(drop):
    few = import_file(drop, "few.xml", [f"WO-F{n}" for n in range(5)])
    many = import_file(drop, "many.xml", [f"WO-M{n}" for n in range(50)])

    assert many - few <= MARGIN, f"5 orders: {few} queries, 50 orders: {many}"
    assert InboxMessage.objects.filter(status="processed").count() == 2
    made = WorkOrder.objects.filter(source_system="legacy-wic")
    assert made.count() == 55
    for work_order in made:  # each order has its own chain, one event long, and its provenance
        (event,) = AuditEvent.objects.filter(chain=f"workorder:{work_order.pk}")
        assert (event.seq, event.action, event.changes["number"]) == (1, "workorder.created", [None, work_order.number])
        head = AuditChainHead.objects.get(chain=event.chain)
        assert (head.last_seq, head.last_hash) == (1, event.hash)
        assert WorkOrderProvenance.objects.get(work_order=work_order).action == "created"
    assert audit_problems(chains=[f"workorder:{w.pk}" for w in made]) == []  # the verifier reads them as ever


@pytest.mark.django_db
def test_orders_sent_again_change_nothing_and_cost_a_stated_number_of_queries_each(drop):
    import_file(drop, "first.xml", [f"WO-R{n}" for n in range(5)])
    few = import_file(drop, "again-5.xml", [f"WO-R{n}" for n in range(5)])
    import_file(drop, "second.xml", [f"WO-S{n}" for n in range(50)])
    many = import_file(drop, "again-50.xml", [f"WO-S{n}" for n in range(50)])

    assert many - few <= 45 * PER_RESENT_ORDER + MARGIN, f"5 orders sent again: {few} queries, 50: {many}"
    imported = [
        f"workorder:{pk}" for pk in WorkOrder.objects.filter(source_system="legacy-wic").values_list("pk", flat=True)
    ]
    assert AuditEvent.objects.filter(chain__in=imported).count() == 55  # nothing new to record
    assert set(WorkOrderProvenance.objects.filter(message__source="again-50.xml").values_list("action", flat=True)) == {
        "unchanged"
    }


@pytest.mark.django_db
def test_an_order_named_twice_is_made_then_changed_and_a_bad_order_refuses_the_file_whole(drop):
    inbox, _, failed = impl_for(drop).folders()
    twice = [order("WO-T1"), order("WO-T2"), order("WO-T1", quantity=4)]
    (inbox / "twice.xml").write_bytes(legacy.schedule_document(twice, "V0700"))
    impl_for(drop).poll()
    assert WorkOrder.objects.get(number="WO-T1").quantity == 4
    actions = dict(WorkOrderProvenance.objects.values_list("work_order__number", "action"))
    assert actions == {"WO-T1": "created", "WO-T2": "created"}  # one row per order and message, as before
    assert AuditEvent.objects.filter(chain=f"workorder:{WorkOrder.objects.get(number='WO-T1').pk}").count() == 2

    bad = [order("WO-B1"), order("WO-1"), order("WO-B3")]  # WO-1: the shop's own, made in Traveler
    (inbox / "bad.xml").write_bytes(legacy.schedule_document(bad, "V0700"))
    impl_for(drop).poll()
    assert not WorkOrder.objects.filter(number__startswith="WO-B").exists()
    refused = InboxMessage.objects.get(source="bad.xml")
    assert refused.status == "dead"
    assert refused.reason == "OperationsRequest[2]: work order WO-1 already exists from Traveler"
