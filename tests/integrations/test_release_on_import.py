"""Orders reach the floor: an adapter may release travelers as it imports, or leave that to a
supervisor. Released on import, an order's travelers wait in the work center's queue at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.adapters.file_drop import file_receive
from integrations.admin import AdapterForm
from integrations.inbox import inbox_reprocess
from integrations.models import Adapter, WorkOrderProvenance
from tests.integrations.legacy_support import *  # noqa: F403 - the fixtures
from travelers import selectors
from travelers.models import NumberingRule, Traveler, WorkOrder

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "b2mml"
NESTED = (FIXTURES / "V0600-ProductionSchedule-nested.xml").read_text()


@pytest.fixture
def releasing(drop, wic):
    drop.release_policy = Adapter.ReleasePolicy.ON_IMPORT
    drop.release_as = wic.supervisor
    drop.settings = {**drop.settings, "site_codes": {"MX30": "WIC"}}
    drop.save()
    return drop


def receive(adapter, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content)
    return file_receive(adapter=adapter, path=path)


def test_an_adapter_that_releases_on_import_puts_the_order_in_the_queue(releasing, wic, tmp_path):
    NumberingRule.objects.create(site=wic.site, pattern="VB-{seq:03d}")
    outcome = receive(releasing, tmp_path, "order.xml", NESTED)
    assert outcome.status == "imported", outcome.reason
    travelers = list(Traveler.objects.filter(work_order__number="60017734").order_by("number"))
    assert [t.item.identifier for t in travelers] == ["VB-001", "VB-002", "VB-003"]
    assert all(t.released_by == wic.supervisor for t in travelers)
    _, queue = selectors.work_center_queue("WIC", "CELL-1")
    assert {t.number for t, _ in queue} >= {t.number for t in travelers}
    note = WorkOrderProvenance.objects.get(work_order__number="60017734").note
    assert note.endswith(
        f"travelers released on import: {travelers[0].number} (VB-001), "
        f"{travelers[1].number} (VB-002), {travelers[2].number} (VB-003)"
    )


def test_serial_numbers_in_the_message_are_used(releasing, tmp_path):
    document = NESTED.replace(
        "</MaterialProducedRequirement>",
        "<MaterialProducedRequirementProperty><ID>SerialNumber</ID><Value><ValueString>VB-7, VB-8, VB-9"
        "</ValueString></Value></MaterialProducedRequirementProperty></MaterialProducedRequirement>",
    )
    assert receive(releasing, tmp_path, "order.xml", document).status == "imported"
    assert sorted(Traveler.objects.values_list("item__identifier", flat=True)) == ["VB-7", "VB-8", "VB-9"]


def test_without_a_numbering_rule_the_message_waits_saying_why_then_imports(releasing, wic, tmp_path):
    outcome = receive(releasing, tmp_path, "order.xml", NESTED)
    assert outcome.status == "refused"
    assert outcome.reason == (
        "ProductionRequest[1]: work order 60017734: its travelers could not be released on import: there is no "
        "numbering rule for HSG-1 at WIC: give the serial numbers, or add a rule (admin → Travelers → Numbering rules)"
    )
    assert not WorkOrder.objects.filter(number="60017734").exists()  # nothing half-imported
    NumberingRule.objects.create(site=wic.site, pattern="VB-{seq:03d}")
    assert inbox_reprocess(outcome.message_id).status == "processed"
    assert Traveler.objects.filter(work_order__number="60017734").count() == 3


def test_an_adapter_releasing_on_import_needs_an_account(releasing, tmp_path):
    releasing.release_as = None
    releasing.save()
    outcome = receive(releasing, tmp_path, "order.xml", NESTED)
    assert outcome.status == "refused" and "names no account to release them as" in outcome.reason


def test_a_raised_quantity_releases_the_rest_and_the_supervisor_policy_releases_nothing(releasing, wic, tmp_path):
    NumberingRule.objects.create(site=wic.site, pattern="VB-{seq:03d}")
    receive(releasing, tmp_path, "order.xml", NESTED)
    receive(releasing, tmp_path, "more.xml", NESTED.replace("<QuantityString>3<", "<QuantityString>4<"))
    assert Traveler.objects.filter(work_order__number="60017734").count() == 4

    releasing.release_policy = Adapter.ReleasePolicy.SUPERVISOR
    releasing.save()
    assert receive(releasing, tmp_path, "other.xml", NESTED.replace("60017734", "60017735")).status == "imported"
    assert not Traveler.objects.filter(work_order__number="60017735").exists()


def test_the_admin_refuses_release_on_import_without_an_account_allowed_to_release(drop, wic):
    data = {
        "name": drop.name,
        "kind": drop.kind,
        "site": drop.site_id,
        "source_system": drop.source_system,
        "inbound": True,
        "release_policy": "on_import",
        "settings": "{}",
        "schedule_seconds": 60,
    }
    form = AdapterForm(data, instance=drop)
    assert not form.is_valid() and "Name the account" in str(form.errors["release_as"])
    form = AdapterForm({**data, "release_as": wic.operator.pk}, instance=drop)
    assert not form.is_valid() and "olga may not release travelers" in str(form.errors["release_as"])
    assert AdapterForm({**data, "release_as": wic.supervisor.pk}, instance=drop).is_valid()
