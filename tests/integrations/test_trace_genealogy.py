"""Genealogy and recall over the shop of trace_support: three levels down and up, the depth limit said,
an archived traveler traced from its record and the lake; a recall by lot or by characteristic and
window, archived units included."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from integrations.traceability.selectors import genealogy, recall
from tests.integrations import trace_support
from tests.travelers import conftest as travelers_conftest
from travelers.models import Item

shop, trace_shop = travelers_conftest.shop, trace_support.trace_shop  # the fixtures


# --- Genealogy -----------------------------------------------------------------------------------------


def _labels(nodes, depth=0):
    out = []
    for node in nodes:
        out.append(("  " * depth) + node.identifier)
        out += _labels(node.children, depth + 1)
    return out


def test_the_genealogy_goes_three_levels_down_and_up(trace_shop):
    asm_item = Item.objects.get(identifier="A-1")
    trace = genealogy.trace_item(asm_item.pk)
    assert _labels(trace.down) == ["SA-1", "  L-100"] and trace.up == []
    assert trace.down[0].archive_uri and trace.down[0].traveler_number == trace_shop.sa1.number
    assert trace.down[0].children[0].consumed_quantity == Decimal("5")
    # values and signers of the whole as-built record: A-1's, SA-1's and L-100's travelers
    assert {(v.traveler, v.code, v.value) for v in trace.values} == {
        (trace_shop.sa1.number, "THICK", "39.5"),
        (trace_shop.lot.number, "THICK", "30"),
    }
    assert {s.printed_name for s in trace.signatures} >= {"Olga Smith", "Ines Smith"}
    lot_trace = genealogy.trace_item(Item.objects.get(identifier="L-100").pk)
    assert sorted(_labels(lot_trace.up)) == sorted(["SA-1", "  A-1", "SA-2"])
    assert lot_trace.down == []
    assert lot_trace.completeness.complete


def test_the_depth_limit_is_said(trace_shop):
    trace = genealogy.trace_item(Item.objects.get(identifier="L-100").pk, depth=1)
    assert sorted(_labels(trace.up)) == ["SA-1", "SA-2"]
    assert "the tree up reaches the depth limit (1 levels)" in trace.messages


def test_an_archived_traveler_is_traced_from_its_record_and_the_lake(trace_shop):
    trace = genealogy.trace_archived("T-9000001")
    assert trace.archived_only and trace.root.identifier == "OLD-77"
    assert [(v.code, v.value, v.judgment, v.operation_alias) for v in trace.values] == [
        ("THICK", "41", "out_of_spec", "CT1")
    ]
    assert trace.completeness.complete


# --- Recall --------------------------------------------------------------------------------------------


def test_a_recall_over_a_lot_finds_every_finished_unit_with_counts_per_site(trace_shop):
    result = recall.recall(lot="L-100")
    assert result.per_site == [("TLS", 1), ("WIC", 1)] and result.total == 2
    assert sorted((u.identifier, u.site_code, u.depth) for u in result.units) == [("A-1", "WIC", 2), ("SA-2", "TLS", 1)]
    a1 = next(u for u in result.units if u.identifier == "A-1")
    assert a1.via == ["BUSH-1 lot L-100", "SUB-1 S/N SA-1", "ASM-1 S/N A-1"]
    assert "(40 of 50 not consumed)" in result.suspects[0]
    assert recall.recall(lot="L-100", part="PIN-1").total == 0
    page = recall.recall(lot="L-100", limit=1)
    assert len(page.units) == 1 and page.next_cursor and page.total == 2
    assert len(recall.recall(lot="L-100", limit=1, cursor=page.next_cursor).units) == 1


def test_a_recall_by_characteristic_and_window_includes_archived_units(trace_shop):
    result = recall.recall(characteristic="THICK", out_of_spec_only=True)
    assert sorted((u.identifier, u.source) for u in result.units) == [("OLD-77", "archive"), ("SA-2", "live")]
    assert result.per_site == [("TLS", 1), ("WIC", 1)]
    window = recall.recall(characteristic="THICK", date_from=dt.date(2015, 3, 1), date_to=dt.date(2015, 3, 31))
    assert [u.identifier for u in window.units] == ["OLD-77"]
