"""The legacy MES's own inspection history, from before Traveler: PRUEFHIST rows generated from the
demo parts' numeric characteristics (read by the warehouse, `manage.py warehouse_refresh`)."""

from __future__ import annotations

import datetime as dt
import random

from travelers.demo.parts import PARTS
from travelers.demo.sites import ALIAS_SITE_ORDER, ALIASES

from .orders import PLANTS


def history_generate(conn, *, site: str, count: int, seed: int = 17, end: dt.datetime | None = None) -> int:
    """Write `count` historical inspection results of `site` into PRUEFHIST, as the legacy MES recorded
    them before Traveler: each numeric characteristic of the site's demo parts, under the site's own
    operation code, one value an hour back from `end`, normally spread around the middle of the spec
    (σ an eighth of the tolerance, so a few fall outside). Returns how many rows it wrote."""
    column = ALIAS_SITE_ORDER.index(site)
    slots = [
        (part, step, char)
        for part in PARTS
        if part.site == site
        for step in part.steps
        for char in step.characteristics
        if char.kind == "numeric" and char.lower_limit is not None and char.upper_limit is not None
    ]
    if not slots or count <= 0:
        return 0
    rng = random.Random(seed)  # noqa: S311 - simulated data, not security
    end = end or dt.datetime.now(dt.UTC)
    rows = []
    for i in range(count):
        part, step, char = slots[i % len(slots)]
        low, high = float(char.lower_limit), float(char.upper_limit)
        value = rng.gauss((low + high) / 2, (high - low) / 8)
        rows.append(
            (
                PLANTS.get(site, site),
                step.work_center,
                f"H{i // len(slots):07d}",
                f"{part.number}-H{i // len(slots):05d}",
                part.number,
                part.revision,
                f"{step.sequence:04d}",
                ALIASES[step.operation][column],
                char.code,
                round(value, char.decimals),
                char.unit,
                char.lower_limit,
                char.upper_limit,
                f"P{rng.randint(100, 999)}",
                end - dt.timedelta(hours=count - i),
            )
        )
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            'INSERT INTO "PRUEFHIST" ("WERK", "ARBPL", "AUFNR", "SERNR", "MATNR", "REV", "VORNR", "ARBGANG", '
            '"MERKMAL", "MESSWERT", "EINHEIT", "UTOL", "OTOL", "PRUEFER", "ERFASST") '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)
