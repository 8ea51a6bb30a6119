"""A cross-site capability query over 10 M values (target ≤ 1 s on this machine).

    .venv/bin/python bench/capability_query.py [--values 10000000] [--runs 5] [--keep DIR]

What it does, all on this machine and with nothing committed:
1. generates --values values of one characteristic (BENCH_THK) in the warehouse's layout under a scratch
   folder, with DuckDB: 3 sites × 4 work centers, normal around the middle of the spec, one value in a
   thousand a correction of an earlier one, in ten Parquet files (as ten refresh batches would leave),
   the moving range of each stream computed as the refresh does, and beside each file its value
   statistics written by the refresh's own code (integrations/warehouse/stats.py);
2. runs the capability page's query — per site and work center n, mean, σ within and overall, Cp/Cpk,
   Pp/Ppk, the histogram and the newest 50 values for the control chart, corrections replacing what they
   supersede — --runs times, each on a fresh DuckDB connection; and, for comparison, the same aggregates
   computed straight from the 10 M values (one full scan);
3. prints each run and the median; removes the scratch folder (unless --keep).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from integrations.warehouse import queries, stats  # noqa: E402 - the checkout's code

CODE = "BENCH_THK"
FILES = 10


def generate(base: Path, count: int) -> None:
    folder = base / "facts" / "values" / f"characteristic={CODE}"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(config={"threads": 2})
    per_file = count // FILES
    con.execute(
        f"""CREATE TABLE gen AS
        SELECT i AS source_id, ['WIC','TLS','QRO'][1 + i % 3] AS site_code,
               ['A','B','C','D'][1 + (i // 3) % 4] || '-CELL' AS work_center,
               20 + 2.5 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS value,
               TIMESTAMPTZ '2020-01-01 00:00:00+00' + to_seconds(i * 15) AS recorded_at
        FROM range({count}) t(i)"""
    )
    # one value in a thousand corrects the value of its stream twelve before (the same site and cell)
    con.execute(
        """CREATE TABLE gen2 AS SELECT *, CASE WHEN source_id % 1000 = 999 THEN source_id - 12 END AS supersedes_id,
               CASE WHEN source_id % 1000 = 999 THEN lag(value, 12) OVER (ORDER BY source_id) END AS replaced_value,
               CASE WHEN source_id % 1000 = 999 THEN lag(recorded_at, 12) OVER (ORDER BY source_id) END
                   AS replaced_recorded_at
           FROM gen"""
    )
    con.execute(
        """CREATE TABLE rows AS SELECT 'traveler' AS source, source_id, supersedes_id, site_code, work_center,
               'P-' || site_code AS part_number, 'A' AS part_revision, '1' AS routing_revision,
               'COATING' AS operation_code, CASE site_code WHEN 'WIC' THEN 'CT1' WHEN 'TLS' THEN 'Coat1'
               ELSE 'Coating-1' END AS operation_alias, 'BENCH_THK' AS characteristic_code, 'numeric' AS kind,
               'um' AS unit, value, NULL::VARCHAR AS value_text, 12.0 AS lower_limit, 28.0 AS upper_limit,
               20.0 AS nominal, CASE WHEN value < 12 OR value > 28 THEN 'out_of_spec' ELSE 'in_spec' END AS judgment,
               CASE WHEN supersedes_id IS NULL THEN abs(value - lag(value) OVER (
                   PARTITION BY site_code, work_center, supersedes_id IS NULL ORDER BY source_id)) END AS moving_range,
               recorded_at, recorded_at::DATE AS day, 'op' AS person, 'T-' || source_id AS traveler_number,
               'SN-' || source_id AS serial_or_lot, 10::INTEGER AS step_sequence, replaced_value, replaced_recorded_at
        FROM gen2"""
    )
    for n in range(FILES):
        path = folder / f"traveler-{n * per_file}.parquet"
        con.execute(
            f"COPY (SELECT * FROM rows WHERE source_id >= {n * per_file} AND source_id < {(n + 1) * per_file} "
            f"ORDER BY source_id) TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
        )
        stats.write_stats(path)  # what the refresh writes beside each values file
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--values", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="generate into (or reuse) this folder and keep it")
    args = parser.parse_args()

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="warehouse-bench-"))
    try:
        if not queries.has_values(base, CODE):
            started = time.perf_counter()
            generate(base, args.values)
            size = sum(p.stat().st_size for p in base.rglob("*.parquet")) / 1e6
            print(f"generated {args.values:,} values ({size:.0f} MB Parquet) in {time.perf_counter() - started:.1f} s")
        times = []
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            groups = queries.capability_groups(CODE, base=base, con=queries.connect())
            elapsed = time.perf_counter() - started
            times.append(elapsed)
            n = sum(g.n for g in groups)
            cpk = min(g.cap.cpk for g in groups)
            print(f"run {run}: {elapsed:.3f} s  ({len(groups)} groups, {n:,} standing values, lowest Cpk {cpk:.3f})")
        print(f"\nmedian {statistics.median(times):.3f} s over {len(times)} runs (target ≤ 1 s)")
        scans = []
        for _ in range(3):
            started = time.perf_counter()
            queries.connect().execute(
                "SELECT site_code, work_center, count(*), avg(value), stddev_samp(value), avg(moving_range) "
                "FROM read_parquet($files) GROUP BY ALL",
                {"files": str(base / "facts" / "values" / f"characteristic={CODE}" / "*.parquet")},
            ).fetchall()
            scans.append(time.perf_counter() - started)
        print(
            f"for comparison, one scan of the values themselves (no corrections, no histogram): "
            f"median {statistics.median(scans):.3f} s"
        )
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
