"""One refresh of the warehouse: what is new in Traveler and in each legacy history since the last
refresh, then the NCRs and the dimensions whole. One refresh at a time (a lock file beside the data);
the state (watermarks, the last value of each moving-range stream) is saved after each batch, so a
refresh that stops half-way resumes where it stopped and writes no row twice.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from . import extract, layout
from .legacy import history_adapters, history_fetch, history_rows, source_name

BATCH = 50_000

DIMS = {
    "site": pa.schema([("code", pa.string()), ("name", pa.string()), ("time_zone", pa.string())]),
    "work_center": pa.schema(
        [("site_code", pa.string()), ("code", pa.string()), ("name", pa.string()), ("area", pa.string())]
    ),
    "part": pa.schema([("part_number", pa.string()), ("revision", pa.string()), ("name", pa.string())]),
    "operation": pa.schema([("code", pa.string()), ("name", pa.string())]),
    "operation_alias": pa.schema(
        [
            ("source_system", pa.string()),
            ("site_code", pa.string()),
            ("code", pa.string()),
            ("operation_code", pa.string()),
        ]
    ),
    "characteristic": pa.schema(
        [("code", pa.string()), ("name", pa.string()), ("kind", pa.string()), ("unit", pa.string())]
    ),
    "person": pa.schema([("username", pa.string()), ("printed_name", pa.string())]),
    "day": pa.schema(
        [
            ("day", pa.date32()),
            ("year", pa.int16()),
            ("month", pa.int8()),
            ("iso_week", pa.int8()),
            ("weekday", pa.int8()),
        ]
    ),
}


@dataclass
class RefreshResult:
    values: int = 0
    steps: int = 0
    ncrs: int = 0
    legacy: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def __str__(self) -> str:
        legacy = ", ".join(f"{name}: {n}" for name, n in self.legacy.items()) or "none"
        return (
            f"{self.values} Traveler value(s), {self.steps} step(s), {self.ncrs} NCR(s); "
            f"legacy history {legacy}; {self.seconds:.2f} s"
        )


def moving_ranges(rows: list[dict], streams: dict[str, float]) -> None:
    """Set each numeric original value's |x − previous x| in its stream (source, characteristic, site,
    work center, unit) in the order loaded; corrections are left out of the streams."""
    for row in rows:
        if row["value"] is None or row["supersedes_id"] is not None:
            continue
        key = "|".join(str(row[k] or "") for k in ("source", "characteristic_code", "site_code", "work_center", "unit"))
        previous = streams.get(key)
        row["moving_range"] = abs(row["value"] - previous) if previous is not None else None
        streams[key] = row["value"]


def _days(state: dict, rows: list[dict]) -> None:
    days = [r["day"].isoformat() for r in rows if r.get("day")]
    if days:
        known = state.get("days") or [min(days), max(days)]
        state["days"] = [min(known[0], *days), max(known[1], *days)]


def _values(base: Path, state: dict, source: str, key, fetch, batch: int) -> int:
    """Batches of values after the watermark state[key] (an id) until none is left."""
    total = 0
    while True:
        last = int(layout.dotted_get(state, key) or 0)
        rows = fetch(last, batch)
        if not rows:
            return total
        moving_ranges(rows, state.setdefault("streams", {}))
        layout.write_values(base, layout.file_source(source), last, rows)
        _days(state, rows)
        layout.dotted_set(state, key, rows[-1]["source_id"])
        layout.state_write(base, state)
        total += len(rows)


def _steps(base: Path, state: dict, batch: int) -> int:
    total = 0
    while True:
        at, last_id = state.get("traveler_steps") or ["", 0]
        rows = extract.steps_after((at, last_id), limit=batch)
        if not rows:
            return total
        name = f"traveler-{at.replace(':', '').replace('+', 'p') or 'start'}-{last_id}.parquet"
        layout.write_table(base / "facts" / "steps" / name, rows, layout.STEPS)
        _days(state, rows)
        state["traveler_steps"] = [rows[-1]["completed_at"].isoformat(), rows[-1]["step_id"]]
        layout.state_write(base, state)
        total += len(rows)


def _dimensions(base: Path, state: dict) -> None:
    dims = extract.dimensions()
    first, last = state.get("days") or [None, None]
    days = []
    if first:
        day, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        while day <= end:
            days.append(
                {
                    "day": day,
                    "year": day.year,
                    "month": day.month,
                    "iso_week": day.isocalendar()[1],
                    "weekday": day.isoweekday(),
                }
            )
            day += dt.timedelta(days=1)
    dims["day"] = days
    for name, rows in dims.items():
        layout.write_table(base / "dims" / f"{name}.parquet", rows, DIMS[name])


def warehouse_refresh(*, base: Path | None = None, batch: int = BATCH, legacy: bool = True) -> RefreshResult:
    """Bring the warehouse up to date; returns what came in."""
    base = Path(base or layout.root())
    base.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = RefreshResult()
    with open(base / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = layout.state_read(base)
        result.values = _values(
            base, state, extract.SOURCE, "traveler_values", lambda last, n: extract.values_after(last, limit=n), batch
        )
        result.steps = _steps(base, state, batch)
        if legacy:
            for adapter in history_adapters():
                source = source_name(adapter)

                def fetch(last, n, adapter=adapter):
                    return history_rows(adapter, history_fetch(adapter, last, limit=n))

                result.legacy[adapter.name] = _values(base, state, source, f"legacy.{adapter.name}", fetch, batch)
        ncrs = extract.ncrs_all()
        layout.write_table(base / "facts" / "ncrs" / "current.parquet", ncrs, layout.NCRS)
        result.ncrs = len(ncrs)
        _days(state, ncrs)
        _dimensions(base, state)
        layout.state_write(base, state)
    result.seconds = time.perf_counter() - started
    return result
