"""Where the warehouse keeps its files, what their columns are, and how a batch is written.

    <WAREHOUSE_DIR>/facts/values/characteristic=<code>/<source>-<from>.parquet   one row per value
    <WAREHOUSE_DIR>/facts/value_stats/characteristic=<code>/<source>-<from>.parquet  their partial sums (stats.py)
    <WAREHOUSE_DIR>/facts/steps/<source>-<from>.parquet                          one row per finished step
    <WAREHOUSE_DIR>/facts/ncrs/current.parquet                                  every NCR, as it stands now
    <WAREHOUSE_DIR>/dims/<site|work_center|part|operation|operation_alias|characteristic|person|day>.parquet
    <WAREHOUSE_DIR>/state.json                                                  watermarks, moving-range streams

Facts are appended: a batch is named by the watermark it started from, so a refresh that stopped before
saving its state writes the same files again when it runs again (idempotent). Values are partitioned by
canonical characteristic (Hive style), so a capability query reads one characteristic's files only.
Numbers are DOUBLE (statistics, not records: the exact decimals stay in PostgreSQL and the lake).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from .stats import connect as stats_connect
from .stats import write_stats

TS = pa.timestamp("us", tz="UTC")

VALUES = pa.schema(
    [
        ("source", pa.string()),  # traveler, or legacy:<adapter name>
        ("source_id", pa.int64()),
        ("supersedes_id", pa.int64()),  # a correction: the value it replaces (same source)
        ("site_code", pa.string()),
        ("work_center", pa.string()),
        ("part_number", pa.string()),
        ("part_revision", pa.string()),
        ("routing_revision", pa.string()),
        ("operation_code", pa.string()),  # canonical
        ("operation_alias", pa.string()),  # the site's or system's own code
        ("characteristic_code", pa.string()),
        ("kind", pa.string()),
        ("unit", pa.string()),
        ("value", pa.float64()),
        ("value_text", pa.string()),
        ("lower_limit", pa.float64()),
        ("upper_limit", pa.float64()),
        ("nominal", pa.float64()),
        ("judgment", pa.string()),
        ("moving_range", pa.float64()),  # |x − previous x| in its stream (source, site, work center, unit)
        ("recorded_at", TS),
        ("day", pa.date32()),
        ("person", pa.string()),
        ("traveler_number", pa.string()),
        ("serial_or_lot", pa.string()),
        ("step_sequence", pa.int32()),
        ("replaced_value", pa.float64()),  # a correction: the value it replaces, and when that was recorded
        ("replaced_recorded_at", TS),
    ]
)

STEPS = pa.schema(
    [
        ("source", pa.string()),
        ("step_id", pa.int64()),
        ("traveler_number", pa.string()),
        ("site_code", pa.string()),
        ("work_center", pa.string()),
        ("part_number", pa.string()),
        ("part_revision", pa.string()),
        ("routing_revision", pa.string()),
        ("operation_code", pa.string()),
        ("operation_alias", pa.string()),
        ("sequence", pa.int32()),
        ("origin", pa.string()),
        ("status", pa.string()),
        ("started_at", TS),
        ("completed_at", TS),
        ("cycle_seconds", pa.float64()),
        ("day", pa.date32()),
        ("person", pa.string()),
        ("n_values", pa.int32()),
        ("n_out_of_spec", pa.int32()),
        ("n_ncrs", pa.int32()),
        ("first_pass", pa.bool_()),
    ]
)

NCRS = pa.schema(
    [
        ("number", pa.string()),
        ("traveler_number", pa.string()),
        ("site_code", pa.string()),
        ("work_center", pa.string()),
        ("part_number", pa.string()),
        ("operation_code", pa.string()),
        ("characteristic_code", pa.string()),
        ("status", pa.string()),
        ("disposition", pa.string()),
        ("automatic", pa.bool_()),
        ("raised_at", TS),
        ("day", pa.date32()),
        ("dispositioned_at", TS),
    ]
)

SAFE = re.compile(r"^[A-Za-z0-9_.\-]+$")


def root() -> Path:
    return Path(getattr(settings, "WAREHOUSE_DIR", "") or Path(settings.VAR_DIR) / "warehouse")


def partition_value(code: str) -> str:
    """A characteristic code as a Hive partition value (codes are [A-Z0-9_-]; anything else is escaped)."""
    return code if SAFE.match(code) else quote(code, safe="")


def values_glob(base: Path, characteristic: str | None = None, table: str = "values") -> str:
    """The files of one characteristic (or all) in facts/values, or facts/value_stats."""
    part = f"characteristic={partition_value(characteristic)}" if characteristic else "*"
    return str(base / "facts" / table / part / "*.parquet")


def write_table(path: Path, rows: list[dict], schema: pa.Schema) -> None:
    """Write rows as one Parquet file, atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), tmp, compression="zstd")
    os.replace(tmp, path)


def write_values(base: Path, source: str, start: int, rows: list[dict]) -> int:
    """One file per characteristic in this batch, named by where the batch started."""
    by_char: dict[str, list[dict]] = {}
    for row in rows:
        row.pop("characteristic_partition", None)
        by_char.setdefault(row["characteristic_code"], []).append(row)
    con = stats_connect()
    for code, chunk in by_char.items():
        path = base / "facts" / "values" / f"characteristic={partition_value(code)}" / f"{source}-{start}.parquet"
        write_table(path, chunk, VALUES)
        write_stats(path, con)
    con.close()
    return len(rows)


def state_read(base: Path) -> dict:
    path = base / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def state_write(base: Path, state: dict) -> None:
    base.mkdir(parents=True, exist_ok=True)
    tmp = base / ".state.json.tmp"
    tmp.write_text(json.dumps(state, sort_keys=True, indent=1))
    os.replace(tmp, base / "state.json")


def file_source(source: str) -> str:
    """A source name usable in a file name (legacy:tls-legacy-db -> legacy_tls-legacy-db)."""
    return re.sub(r"[^A-Za-z0-9_.\-]", "_", source)


def dotted_get(state: dict, key: str):
    """state["legacy.tls-legacy-db"] reads state["legacy"]["tls-legacy-db"]."""
    head, _, rest = key.partition(".")
    return dotted_get(state.get(head) or {}, rest) if rest else state.get(head)


def dotted_set(state: dict, key: str, value) -> None:
    head, _, rest = key.partition(".")
    if rest:
        dotted_set(state.setdefault(head, {}), rest, value)
    else:
        state[head] = value
