"""Questions asked of the warehouse, in DuckDB over its Parquet files (read-only, in memory).

A value counts once: a correction replaces the value it supersedes. Groups are (site, work center,
unit) — a characteristic measured in µm at one site and in mils at another is two groups, never mixed.
The spec of a group is the newest value's (a change of limits shows in the "what changed" view).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from travelers import capability as cap

from . import layout

HISTOGRAM_BINS = 20
CHART_POINTS = 50


@dataclass
class Group:
    site_code: str
    work_center: str | None
    unit: str | None
    n: int
    mean: float | None
    sigma_overall: float | None
    mr_bar: float | None
    lsl: float | None
    usl: float | None
    low: float
    high: float
    out_of_spec: int
    aliases: list[str]
    sources: list[str]
    first: dt.datetime | None
    last: dt.datetime | None
    cap: cap.Capability = None  # type: ignore[assignment]
    histogram: list[int] = field(default_factory=list)
    hist_low: float = 0.0
    hist_high: float = 0.0
    series: list[tuple[str, float]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.site_code}/{self.work_center or '-'}/{self.unit or '-'}"


def connect() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(config={"threads": 2})


def has_values(base: Path, characteristic: str) -> bool:
    return any(Path(layout.values_glob(base, characteristic)).parent.glob("*.parquet"))


def _current(where: str) -> str:
    """SQL for the standing numeric values of one characteristic ($files, $code): a correction replaces
    the value it supersedes. `where` is built from fixed fragments only (see _filters)."""
    return f"""
        v AS (SELECT * FROM read_parquet($files, union_by_name = true)
              WHERE value IS NOT NULL AND characteristic_code = $code {where}),
        live AS (SELECT * FROM v WHERE NOT (source = 'traveler' AND source_id IN
                 (SELECT supersedes_id FROM v WHERE source = 'traveler' AND supersedes_id IS NOT NULL)))"""


def _filters(since, until, revision) -> tuple[str, dict]:
    where, params = "", {}
    if since is not None:
        where += " AND recorded_at >= $since"
        params["since"] = since
    if until is not None:
        where += " AND recorded_at < $until"
        params["until"] = until
    if revision is not None:
        where += " AND routing_revision = $revision"
        params["revision"] = str(revision)
    return where, params


def capability_groups(
    characteristic: str,
    *,
    base: Path | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    revision: str | None = None,
    detail: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[Group]:
    """Per site, work center and unit: n, mean, σ, Cp/Cpk, Pp/Ppk against the newest spec; with
    `detail`, also a histogram and the newest CHART_POINTS values in time order."""
    base = Path(base or layout.root())
    if not has_values(base, characteristic):
        return []
    con = con or connect()
    where, params = _filters(since, until, revision)
    params.update(code=characteristic, files=layout.values_glob(base, characteristic))
    rows = con.execute(
        f"""WITH {_current(where)}
        SELECT site_code, work_center, unit, count(*), avg(value), stddev_samp(value), avg(moving_range),
               arg_max(lower_limit, recorded_at), arg_max(upper_limit, recorded_at), min(value), max(value),
               count(*) FILTER (WHERE judgment = 'out_of_spec'),
               list(DISTINCT operation_alias) FILTER (WHERE operation_alias IS NOT NULL),
               list(DISTINCT source), min(recorded_at), max(recorded_at)
        FROM live GROUP BY ALL ORDER BY site_code, work_center NULLS LAST, unit""",
        params,
    ).fetchall()
    groups = [Group(*row[:12], sorted(row[12]), sorted(row[13]), row[14], row[15]) for row in rows]
    for g in groups:
        g.cap = cap.capability(n=g.n, mean=g.mean, sigma_overall=g.sigma_overall, mr_bar=g.mr_bar, lsl=g.lsl, usl=g.usl)
        g.hist_low, g.hist_high = cap.histogram_range(g.low, g.high, g.lsl, g.usl)
    if detail and groups:
        _details(con, base, characteristic, where, params, groups)
    return groups


def _details(con, base, characteristic, where, params, groups: list[Group]) -> None:
    ranges = pa.Table.from_pylist(
        [
            {
                "site_code": g.site_code,
                "work_center": g.work_center,
                "unit": g.unit,
                "lo": g.hist_low,
                "hi": g.hist_high,
            }
            for g in groups
        ]
    )
    con.register("ranges", ranges)
    counts = con.execute(
        f"""WITH {_current(where)}
        SELECT l.site_code, l.work_center, l.unit,
               least({HISTOGRAM_BINS - 1},
                     greatest(0, floor((l.value - r.lo) / (r.hi - r.lo) * {HISTOGRAM_BINS})))::INT,
               count(*)
        FROM live l JOIN ranges r ON l.site_code = r.site_code AND l.work_center IS NOT DISTINCT FROM r.work_center
             AND l.unit IS NOT DISTINCT FROM r.unit
        GROUP BY ALL""",
        params,
    ).fetchall()
    by_key = {(g.site_code, g.work_center, g.unit): g for g in groups}
    for g in groups:
        g.histogram = [0] * HISTOGRAM_BINS
    for site, wc, unit, b, n in counts:
        by_key[(site, wc, unit)].histogram[b] = n
    newest = con.execute(
        f"""WITH {_current(where)}
        SELECT site_code, work_center, unit,
               arg_max(struct_pack(t := recorded_at, v := value, label := coalesce(traveler_number, serial_or_lot, '')),
                       recorded_at, {CHART_POINTS})
        FROM live GROUP BY ALL""",
        params,
    ).fetchall()
    for site, wc, unit, points in newest:
        by_key[(site, wc, unit)].series = [(p["label"], p["v"]) for p in reversed(points)]
    con.unregister("ranges")


def first_pass_yield(*, base: Path | None = None, con=None) -> list[dict]:
    """Per canonical operation and site: finished steps, first-pass steps and the yield."""
    base = Path(base or layout.root())
    files = sorted((base / "facts" / "steps").glob("*.parquet"))
    if not files:
        return []
    con = con or connect()
    rows = con.execute(
        """SELECT operation_code, site_code, count(*), count(*) FILTER (WHERE first_pass),
                  median(cycle_seconds)
           FROM read_parquet($files) WHERE origin = 'routing' GROUP BY ALL ORDER BY operation_code, site_code""",
        {"files": [str(f) for f in files]},
    ).fetchall()
    return [
        {
            "operation": op,
            "site": site,
            "steps": n,
            "first_pass": good,
            "yield": cap.yield_ratio(good, n),
            "median_cycle_seconds": cycle,
        }
        for op, site, n, good, cycle in rows
    ]


def ncr_pareto(*, base: Path | None = None, characteristic: str | None = None, con=None) -> list[dict]:
    """NCRs by canonical operation, most first, with the cumulative share and the count per site."""
    base = Path(base or layout.root())
    path = base / "facts" / "ncrs" / "current.parquet"
    if not path.exists():
        return []
    con = con or connect()
    where = "WHERE characteristic_code = $code" if characteristic else ""
    params = {"path": str(path), **({"code": characteristic} if characteristic else {})}
    rows = con.execute(
        f"""SELECT coalesce(operation_code, '(none)') op, count(*) n, histogram(site_code)
            FROM read_parquet($path) {where} GROUP BY ALL ORDER BY n DESC, op""",
        params,
    ).fetchall()
    total = sum(n for _, n, _ in rows)
    out, running = [], 0
    for op, n, sites in rows:
        running += n
        out.append(
            {"operation": op, "count": n, "share": n / total, "cumulative": running / total, "sites": dict(sites)}
        )
    return out


def characteristics(*, base: Path | None = None) -> list[str]:
    """The characteristic codes that have values in the warehouse."""
    base = Path(base or layout.root())
    folder = base / "facts" / "values"
    if not folder.is_dir():
        return []
    return sorted(p.name.split("=", 1)[1] for p in folder.iterdir() if p.name.startswith("characteristic="))


def operations_of(characteristic: str, *, base: Path | None = None, con=None) -> set[str]:
    """The canonical operations at which a characteristic was measured."""
    base = Path(base or layout.root())
    if not has_values(base, characteristic):
        return set()
    con = con or connect()
    rows = con.execute(
        "SELECT DISTINCT operation_code FROM read_parquet($files) WHERE operation_code IS NOT NULL",
        {"files": layout.values_glob(base, characteristic)},
    ).fetchall()
    return {r[0] for r in rows}
