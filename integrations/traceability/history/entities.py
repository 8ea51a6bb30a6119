"""The generated history's entities, computed in Python block by block and loaded with COPY: items,
travelers, work orders, and the consumptions that make the genealogy (pins cut from raw-material lots,
sub-assemblies of a pin and bushings, assemblies of a sub-assembly and a pin)."""

# ruff: noqa: S608 - statements are assembled from constant fragments and generated numbers only.

from __future__ import annotations

import datetime as dt
import json

from .run import HistoryRun
from .shape import OPERATIONS, kind_counts


def copy_entities(run: HistoryRun, cursor) -> None:
    """Items, travelers, work orders and consumptions of `run.n` travelers, block by block, by COPY."""
    rng = run.rng
    blocks = run.n // run.block
    kinds = kind_counts(run.block)
    span = (run.now - run.origin) / blocks
    active_from = int(blocks * 0.98)
    item_id = traveler_id = wo_id = consumption_id = 0
    items, travelers, orders, consumptions = [], [], [], []
    raw_lots: list[tuple[int, int]] = []  # (item id, block) of raw-material lots
    run.traveler_count = 0
    number = 0
    # the route as the ERP lists it on the order (the canonical codes, in the routing's order), as the
    # import stores it
    route = json.dumps([code for code, *_ in OPERATIONS])
    for b in range(blocks):
        family = rng.randrange(run.families)
        window = run.origin + span * b
        active = b >= active_from
        block_items: dict[str, list[int]] = {}
        # two purchased raw-material lots per block (no work order, no traveler)
        raws = []
        for _ in range(2):
            item_id += 1
            part_id, rev_id, _ = run.parts[(family, "raw")]
            items.append(
                (item_id, part_id, rev_id, "lot", f"RAW-{item_id:08d}", 500, 500, None, "available", False, window)
            )
            raws.append(item_id)
            raw_lots.append((item_id, b))
        for k, (kind, count) in enumerate(kinds):
            site = run.sites[(b + k) % len(run.sites)]
            part_id, rev_id, routing_id = run.parts[(family, kind)]
            wo_id += 1
            orders.append(
                (
                    wo_id,
                    f"WO-{wo_id:07d}",
                    rev_id,
                    count * (10 if kind == "lot" else 1),
                    run.units[(family, kind)],
                    site.pk,
                    (window + span).date(),
                    "in_progress" if active else "completed",
                    "legacy-erp",
                    f"ERP{wo_id:08d}",
                    route,
                    window,
                )
            )
            ids = []
            for _ in range(count):
                item_id += 1
                traveler_id += 1
                number += 1
                released = window + span * (0.3 * k + 0.25 * rng.random())
                closed = None if active else released + dt.timedelta(days=3, hours=rng.randrange(48))
                is_lot = kind == "lot"
                prefix = {"lot": "L", "pin": "PN", "sub": "SA", "asm": "SN"}[kind]
                identifier = f"{prefix}-{item_id:08d}"
                qty = 10 if is_lot else 1
                items.append(
                    (
                        item_id,
                        part_id,
                        rev_id,
                        "lot" if is_lot else "serial",
                        identifier,
                        qty,
                        qty,
                        wo_id,
                        "in_production" if active else "available",
                        False,
                        released,
                    )
                )
                travelers.append(
                    (
                        traveler_id,
                        f"T-{number:07d}",
                        item_id,
                        wo_id,
                        routing_id,
                        site.pk,
                        "active" if active else "closed",
                        False,
                        released,
                        rng.choice(run.operators),
                        closed,
                        closed,
                        None if active else run.signature_base + 10**12 + traveler_id,
                        1,
                    )
                )
                ids.append((item_id, traveler_id, released))
            block_items[kind] = ids
        if active:
            continue  # in work: nothing consumed yet
        pins = list(block_items["pin"])
        rng.shuffle(pins)
        lots = block_items["lot"]
        consumed_qty: dict[int, int] = {}
        consumed_serials: set[int] = set()

        def consume(consumer, component, is_serial, qty, step_index, serials=consumed_serials, qtys=consumed_qty):
            nonlocal consumption_id
            consumption_id += 1
            _, traveler, released = consumer
            at = released + dt.timedelta(hours=2 * step_index + 1)
            consumptions.append(
                (
                    consumption_id,
                    traveler,
                    traveler * 8 + step_index,
                    component,
                    is_serial,
                    qty,
                    at,
                    rng.choice(run.operators),
                    True,
                    "",
                )
            )
            if is_serial:
                serials.add(component)
            else:
                qtys[component] = qtys.get(component, 0) + qty

        for i, pin in enumerate(block_items["pin"]):
            consume(pin, raws[i % 2], False, 1, 0)
        for i, sub in enumerate(block_items["sub"]):
            consume(sub, pins.pop()[0], True, 1, 2)
            consume(sub, lots[i % len(lots)][0], False, 2, 2)
        subs = list(block_items["sub"])
        rng.shuffle(subs)
        for asm in block_items["asm"]:
            consume(asm, subs.pop()[0], True, 1, 2)
            consume(asm, pins.pop()[0], True, 1, 2)
        # items consumed whole become "consumed"; lots keep what is left
        first = len(items) - run.block - 2
        for idx in range(first, len(items)):
            row = items[idx]
            if row[0] in consumed_serials:
                items[idx] = (*row[:8], "consumed", *row[9:])
            elif row[0] in consumed_qty:
                left = row[5] - consumed_qty[row[0]]
                items[idx] = (*row[:6], left, row[7], "consumed" if left == 0 else "available", *row[9:])
        if len(items) > 200_000:
            flush(cursor, items, travelers, orders, consumptions)
    flush(cursor, items, travelers, orders, consumptions)
    run.traveler_count = traveler_id
    run.raw_lots = raw_lots
    run.say(f"copied {item_id:,} items, {traveler_id:,} travelers, {consumption_id:,} consumptions")


def flush(cursor, items, travelers, orders, consumptions) -> None:
    """COPY the rows gathered so far into their tables, and empty the lists."""
    batches = (
        (
            "travelers_workorder (id, number, part_revision_id, quantity, quantity_unit, site_id, due_date, "
            "status, source_system, external_id, ordered_operations, created_at)",
            orders,
        ),
        (
            "travelers_item (id, part_id, part_revision_id, tracking, identifier, quantity, quantity_available, "
            "work_order_id, status, on_hold, created_at)",
            items,
        ),
        (
            "travelers_traveler (id, number, item_id, work_order_id, routing_id, site_id, status, on_hold, "
            "released_at, released_by_id, completed_at, closed_at, final_signature_id, version)",
            travelers,
        ),
        (
            "travelers_consumption (id, traveler_id, step_id, component_id, component_is_serial, quantity, "
            "consumed_at, consumed_by_id, active, removal_reason)",
            consumptions,
        ),
    )
    for target, rows in batches:
        with cursor.cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        rows.clear()
