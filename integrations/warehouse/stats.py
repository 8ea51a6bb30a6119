"""The value statistics: an aggregate fact table beside the values, so that a capability question over
millions of values reads thousands of rows.

For each values file the refresh writes, it writes the partial sums of that file beside it
(facts/value_stats/characteristic=<code>/<same name>), one row per site, work center, unit, routing
revision, operation code as the site calls it, source, UTC day, spec (lower, upper) and histogram bin:

    n, sum_d, sumsq_d        count, Σd and Σd² of d = value − centre (the spec's centre: sums of small
                             numbers, so σ stays exact however far from zero the values are)
    sum_mr, n_mr             Σ of the moving ranges and how many
    n_oos                    values outside their limits
    first_at, last_at        the oldest and newest value's time

A correction adds its own value and takes away the value it replaces (n −1, −d, −d², on the day and in
the bin of the value replaced), so sums over any days count each standing value once. Bins: BINS equal
bins over [LSL − T/4, USL + T/4] (T = USL − LSL) of each value's own spec, the outermost ones open-ended;
none without two limits.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

BINS = 20

CENTRE = "coalesce((lower_limit + upper_limit) / 2, lower_limit, upper_limit, 0.0)"


def _bin(column: str) -> str:
    return (
        f"CASE WHEN upper_limit > lower_limit THEN least({BINS - 1}, greatest(0, floor(({column} - lower_limit "
        f"+ 0.25 * (upper_limit - lower_limit)) / (1.5 * (upper_limit - lower_limit) / {BINS}))))::INTEGER END"
    )


KEYS = (
    "characteristic_code, site_code, work_center, unit, routing_revision, operation_alias, source, "
    "lower_limit, upper_limit"
)

STATS_SQL = f"""
SELECT {KEYS}, day, {CENTRE} AS centre, {_bin("value")} AS bin,
       count(*)::BIGINT AS n, sum(value - {CENTRE}) AS sum_d, sum((value - {CENTRE}) ^ 2) AS sumsq_d,
       coalesce(sum(moving_range), 0.0) AS sum_mr, count(moving_range)::BIGINT AS n_mr,
       count(*) FILTER (WHERE value < lower_limit OR value > upper_limit)::BIGINT AS n_oos,
       min(recorded_at) AS first_at, max(recorded_at) AS last_at
FROM read_parquet($file) WHERE value IS NOT NULL
GROUP BY ALL
UNION ALL
SELECT {KEYS}, CAST(replaced_recorded_at AS DATE) AS day, {CENTRE} AS centre, {_bin("replaced_value")} AS bin,
       -count(*)::BIGINT, -sum(replaced_value - {CENTRE}), -sum((replaced_value - {CENTRE}) ^ 2), 0.0, 0::BIGINT,
       -count(*) FILTER (WHERE replaced_value < lower_limit OR replaced_value > upper_limit)::BIGINT,
       NULL::TIMESTAMPTZ, NULL::TIMESTAMPTZ
FROM read_parquet($file) WHERE replaced_value IS NOT NULL
GROUP BY ALL
"""


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": 2})
    con.execute("SET TimeZone = 'UTC'")  # a day is a UTC day, as the refresh writes it
    return con


def stats_path(values_file: Path) -> Path:
    """facts/values/characteristic=X/f.parquet -> facts/value_stats/characteristic=X/f.parquet"""
    return values_file.parents[2] / "value_stats" / values_file.parent.name / values_file.name


def write_stats(values_file: Path, con: duckdb.DuckDBPyConnection | None = None) -> Path:
    """Write the statistics of one values file beside it (atomically); returns where."""
    con = con or connect()
    target = stats_path(values_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(
        f"COPY ({STATS_SQL}) TO '{str(tmp).replace(chr(39), chr(39) * 2)}' (FORMAT parquet, COMPRESSION zstd)",
        {"file": str(values_file)},
    )
    os.replace(tmp, target)
    return target
