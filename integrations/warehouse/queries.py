"""Questions asked of the warehouse, in DuckDB over its Parquet files (read-only, in memory).

A value counts once: a correction replaces the value it supersedes. Groups are (site, work center,
unit) — a characteristic measured in µm at one site and in mils at another is two groups, never mixed.
The spec of a group is the newest value's (a change of limits shows in the "what changed" view).
Capability reads the value statistics (stats.py), never the millions of values; the control chart reads
the newest values only.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from travelers import capability as cap

from . import layout, stats

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
    out_of_spec: int
    first: dt.datetime | None
    last: dt.datetime | None
    aliases: list[str]
    sources: list[str]
    lsl: float | None = None
    usl: float | None = None
    cap: cap.Capability = None  # type: ignore[assignment]
    histogram: list[int] = field(default_factory=list)  # counts under the newest spec (stats.BINS bins)
    hist_low: float = 0.0
    hist_high: float = 0.0
    other_spec: int = 0  # values judged against another spec (not in the histogram)
    series: list[tuple[str, float]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.site_code}/{self.work_center or '-'}/{self.unit or '-'}"

    @property
    def ident(self) -> tuple:
        return (self.site_code, self.work_center, self.unit)


def connect() -> duckdb.DuckDBPyConnection:
    return stats.connect()


def has_values(base: Path, characteristic: str) -> bool:
    return any(Path(layout.values_glob(base, characteristic, "value_stats")).parent.glob("*.parquet"))


def _filters(since, until, revision, day: str = "day") -> tuple[str, dict]:
    """WHERE fragments (fixed text; the values are parameters): since/until are UTC days."""
    where, params = "", {}
    if since is not None:
        where += f" AND {day} >= $since"
        params["since"] = since.date() if isinstance(since, dt.datetime) else since
    if until is not None:
        where += f" AND {day} < $until"
        params["until"] = until.date() if isinstance(until, dt.datetime) else until
    if revision is not None:
        where += " AND routing_revision = $revision"
        params["revision"] = str(revision)
    return where, params


def _combine(partials: list[tuple], centre: float) -> tuple[int, float | None, float | None]:
    """(n, mean, sample σ) from partial (n, Σd, Σd², centre) sums, each moved to one common centre."""
    n = sum(p[0] for p in partials)
    if n <= 0:
        return 0, None, None
    s1 = s2 = 0.0
    for count, sum_d, sumsq_d, c in partials:
        shift = c - centre
        s1 += sum_d + count * shift
        s2 += sumsq_d + 2 * shift * sum_d + count * shift * shift
    mean = centre + s1 / n
    sigma = math.sqrt(max(0.0, (s2 - s1 * s1 / n) / (n - 1))) if n > 1 else None
    return n, mean, sigma


def capability_groups(
    characteristic: str,
    *,
    base: Path | None = None,
    since: dt.date | dt.datetime | None = None,
    until: dt.date | dt.datetime | None = None,
    revision: str | None = None,
    detail: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
) -> list[Group]:
    """Per site, work center and unit: n, mean, σ, Cp/Cpk, Pp/Ppk against the newest spec, from the
    value statistics; with `detail`, also the histogram and the newest CHART_POINTS values in time order
    (from the values themselves, reading only their newest days)."""
    base = Path(base or layout.root())
    if not has_values(base, characteristic):
        return []
    con = con or connect()
    where, params = _filters(since, until, revision)
    params["files"] = layout.values_glob(base, characteristic, "value_stats")
    rows = con.execute(
        f"""SELECT site_code, work_center, unit, lower_limit, upper_limit, bin, centre,
                   sum(n), sum(sum_d), sum(sumsq_d), sum(sum_mr), sum(n_mr), sum(n_oos), min(first_at), max(last_at)
            FROM read_parquet($files, union_by_name = true) WHERE true {where}
            GROUP BY site_code, work_center, unit, lower_limit, upper_limit, centre, bin""",
        params,
    ).fetchall()
    names = {
        row[:3]: (row[3], row[4])
        for row in con.execute(
            f"""SELECT site_code, work_center, unit, list(DISTINCT operation_alias), list(DISTINCT source)
                FROM read_parquet($files, union_by_name = true) WHERE true {where} GROUP BY ALL""",
            params,
        ).fetchall()
    }
    by_group: dict[tuple, list] = {}
    for row in rows:
        by_group.setdefault(row[:3], []).append(row[3:])
    groups = []
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    for ident, parts in sorted(by_group.items(), key=lambda item: tuple(v or "" for v in item[0])):
        # parts: lower, upper, bin, centre, n, Σd, Σd², Σmr, n_mr, n_oos, first, last
        newest = max(parts, key=lambda p: p[11] or oldest)
        count, mean, sigma = _combine([(p[4], p[5], p[6], p[3]) for p in parts], newest[3])
        if count <= 0:
            continue
        n_mr = sum(p[8] for p in parts)
        aliases, sources = names.get(ident, ([], []))
        g = Group(
            *ident,
            n=count,
            mean=mean,
            sigma_overall=sigma,
            mr_bar=sum(p[7] for p in parts) / n_mr if n_mr else None,
            out_of_spec=sum(p[9] for p in parts),
            first=min((p[10] for p in parts if p[10]), default=None),
            last=max((p[11] for p in parts if p[11]), default=None),
            aliases=sorted(a for a in aliases if a),
            sources=sorted(s for s in sources if s),
            lsl=newest[0],
            usl=newest[1],
        )
        g.histogram = [0] * stats.BINS
        for p in parts:
            if (p[0], p[1]) == (g.lsl, g.usl) and p[2] is not None:
                g.histogram[p[2]] += p[4]
            else:
                g.other_spec += p[4]
        if g.lsl is not None and g.usl is not None:
            tol = g.usl - g.lsl
            g.hist_low, g.hist_high = g.lsl - tol / 4, g.usl + tol / 4
        g.cap = cap.capability(n=g.n, mean=g.mean, sigma_overall=g.sigma_overall, mr_bar=g.mr_bar, lsl=g.lsl, usl=g.usl)
        groups.append(g)
    if detail and groups:
        _series(con, base, characteristic, since, until, revision, groups)
    return groups


def _series(con, base, characteristic, since, until, revision, groups: list[Group]) -> None:
    """The newest values of each group, in time order, corrections replacing what they supersede: read
    from the days that hold them only (the Parquet files' statistics skip the rest)."""
    wanted = CHART_POINTS * 2
    where, params = _filters(since, until, revision)
    params["files"] = layout.values_glob(base, characteristic, "value_stats")
    (start,) = con.execute(  # the latest day from which every group has `wanted` values (or all it has)
        f"""WITH d AS (SELECT site_code, work_center, unit, day, sum(n) AS n
                       FROM read_parquet($files, union_by_name = true) WHERE true {where} GROUP BY ALL),
                 c AS (SELECT *, sum(n) OVER (PARTITION BY site_code, work_center, unit ORDER BY day DESC) AS cum
                       FROM d)
            SELECT min(s) FROM (SELECT coalesce(max(day) FILTER (WHERE cum >= {wanted}), min(day)) AS s
                                FROM c GROUP BY site_code, work_center, unit)""",
        params,
    ).fetchone()
    where, params = _filters(start, until, revision)
    params["files"] = layout.values_glob(base, characteristic)
    gone = {
        row[0]
        for row in con.execute(
            f"""SELECT supersedes_id FROM read_parquet($files, union_by_name = true)
                WHERE supersedes_id IS NOT NULL AND source = 'traveler' {where}""",
            params,
        ).fetchall()
    }
    newest = con.execute(
        f"""SELECT site_code, work_center, unit,
                   max_by(struct_pack(v := value, id := source_id, src := source,
                                      label := coalesce(traveler_number, serial_or_lot, '')), recorded_at, {wanted})
            FROM read_parquet($files, union_by_name = true) WHERE value IS NOT NULL {where} GROUP BY ALL""",
        params,
    ).fetchall()
    by_ident = {g.ident: g for g in groups}
    for site, wc, unit, points in newest:
        g = by_ident.get((site, wc, unit))
        if g is None:
            continue
        standing = [p for p in reversed(points) if not (p["src"] == "traveler" and p["id"] in gone)]
        g.series = [(p["label"], p["v"]) for p in standing[-CHART_POINTS:]]


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
