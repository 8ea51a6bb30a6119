"""Reading the archive's measurement facts in the data lake with DuckDB.

The archive (integrations.archive) writes, under settings.DATA_LAKE_URL (a folder, file://… or any
fsspec URL such as s3://bucket/prefix):

    facts/measurements/site=<code>/year=<yyyy>/month=<mm>/*.parquet

one row per recorded value of an archived traveler. Column names are matched by meaning (COLUMNS
below lists what each may be called), so the reader follows the writer's spelling. A lake that cannot
be reached raises LakeUnavailable with a plain reason: the caller says so in its completeness statement
instead of failing. Queries are interrupted after LAKE_TIMEOUT seconds."""

# ruff: noqa: S608 - SQL is assembled from this module's constant fragments only; every value that comes
# from a user is a bound parameter (psycopg / DuckDB placeholders), never text in the statement.

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from pathlib import Path

import duckdb
import fsspec
from django.conf import settings

from integrations.archive.lake import storage_options  # the archive's own store settings

LAKE_TIMEOUT = 10.0
FACTS = "facts/measurements"
MAX_NUMBERS = 50_000  # traveler numbers one lake filter may hand to PostgreSQL

COLUMNS: dict[str, tuple[str, ...]] = {
    "traveler": ("traveler_number", "traveler"),
    "part": ("part_number", "part"),
    "revision": ("part_revision", "revision"),
    "characteristic_code": ("characteristic_code", "characteristic", "char_code"),
    "characteristic_name": ("characteristic_name", "char_name"),
    "operation_code": ("operation_code", "operation"),
    "operation_alias": ("operation_alias", "site_alias", "alias"),
    "site": ("site_code", "site"),
    "identifier": ("serial_or_lot", "identifier", "serial", "lot"),
    "value": ("value", "value_numeric", "entered_value"),
    "unit": ("unit",),
    "lower_limit": ("lower_limit", "spec_lower", "lower"),
    "upper_limit": ("upper_limit", "spec_upper", "upper"),
    "judgment": ("judgment",),
    "recorded_at": ("recorded_at",),
    "recorded_by": ("recorded_by", "recorded_by_name"),
    "recorded_by_username": ("recorded_by_username",),
    "superseded": ("superseded", "is_superseded"),
}
REQUIRED = ("traveler", "characteristic_code", "value", "judgment", "recorded_at")


class LakeUnavailable(Exception):
    """The lake (or its facts) could not be read; the message says why, in a few words."""


def lake_url() -> str:
    return str(getattr(settings, "DATA_LAKE_URL", "") or (settings.VAR_DIR / "lake"))


def _quote(path: str) -> str:
    return "'" + path.replace("'", "''") + "'"


class Lake:
    """One DuckDB connection over the facts; use as a context manager."""

    def __init__(self, url: str | None = None, timeout: float = LAKE_TIMEOUT):
        self.url = url or lake_url()
        self.timeout = timeout
        self.con = None
        self.columns: dict[str, str] = {}
        self.empty = False

    def __enter__(self) -> Lake:
        try:
            self._open()
        except LakeUnavailable:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the store raises means "not reachable"
            self.close()
            raise LakeUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None

    def _open(self) -> None:
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET threads TO 2")
        if "://" in self.url and not self.url.startswith("file://"):
            fs, root = fsspec.core.url_to_fs(self.url, **storage_options(self.url))
            if not fs.isdir(root):
                raise LakeUnavailable(f"{self.url} is not reachable or holds no folder")
            self.con.register_filesystem(fs)
            protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
            base = f"{protocol}://{root.rstrip('/')}/{FACTS}"
            has_files = bool(fs.glob(f"{root.rstrip('/')}/{FACTS}/**/*.parquet"))
        else:
            root = Path(self.url.removeprefix("file://"))
            if not root.is_dir():
                raise LakeUnavailable(f"the folder {root} does not exist or cannot be read")
            base = str(root / FACTS)
            has_files = (root / FACTS).is_dir() and next((root / FACTS).glob("**/*.parquet"), None) is not None
        if not has_files:
            self.empty = True  # reachable, nothing archived yet
            return
        self.source = f"read_parquet({_quote(base + '/**/*.parquet')}, hive_partitioning = true, union_by_name = true)"
        self._describe(self.source)

    def _describe(self, source: str) -> None:
        names = [row[0] for row in self._run(f"DESCRIBE SELECT * FROM {source}", [])]
        lower = {n.lower(): n for n in names}
        for logical, candidates in COLUMNS.items():
            for candidate in candidates:
                if candidate in lower:
                    self.columns[logical] = '"' + lower[candidate].replace('"', '""') + '"'
                    break
        missing = [c for c in REQUIRED if c not in self.columns]
        if missing:
            raise LakeUnavailable(f"the facts have no column for {', '.join(missing)}")

    def _run(self, sql: str, params: list) -> list[tuple]:
        timer = threading.Timer(self.timeout, self.con.interrupt)
        timer.start()
        try:
            return self.con.execute(sql, params).fetchall()
        except Exception as exc:  # noqa: BLE001
            if "interrupt" in str(exc).lower():
                raise LakeUnavailable(f"the lake did not answer within {self.timeout:.0f} s") from exc
            raise LakeUnavailable(f"{type(exc).__name__}: {str(exc)[:200]}") from exc
        finally:
            timer.cancel()

    def col(self, logical: str, default: str = "NULL") -> str:
        return self.columns.get(logical, default)

    def _current(self) -> str:
        superseded = self.columns.get("superseded")
        return f"NOT coalesce(CAST({superseded} AS BOOLEAN), false)" if superseded else "true"

    def _scope(self, sites: Iterable[str], date_from: dt.date | None, date_to: dt.date | None) -> tuple[str, list]:
        """Partition pruning by site (the hive column) and the recorded time window."""
        where, params = [], []
        sites = list(sites)
        if sites:
            where.append(f"{self.col('site', 'site')} IN ({', '.join('?' * len(sites))})")
            params += sites
        if date_from:
            where.append(f"CAST({self.col('recorded_at')} AS TIMESTAMPTZ) >= ?")
            params.append(dt.datetime.combine(date_from, dt.time.min, tzinfo=dt.UTC))
        if date_to:
            where.append(f"CAST({self.col('recorded_at')} AS TIMESTAMPTZ) < ?")
            params.append(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC))
        return " AND ".join(where) or "true", params

    def _near(self, pct) -> str:
        value = f"TRY_CAST({self.col('value')} AS DOUBLE)"
        lo = f"TRY_CAST({self.col('lower_limit')} AS DOUBLE)"
        hi = f"TRY_CAST({self.col('upper_limit')} AS DOUBLE)"
        share = float(pct) / 100.0
        return (
            f"({value} IS NOT NULL AND ("
            f"({lo} IS NOT NULL AND {hi} IS NOT NULL AND {hi} > {lo} AND "
            f"least(abs({value} - {lo}), abs({value} - {hi})) <= {share!r} * ({hi} - {lo})) OR "
            f"({lo} IS NULL AND {hi} IS NOT NULL AND abs({value} - {hi}) <= {share!r} * abs({hi})) OR "
            f"({hi} IS NULL AND {lo} IS NOT NULL AND abs({value} - {lo}) <= {share!r} * abs({lo}))))"
        )

    def traveler_numbers(
        self,
        *,
        operations: tuple[list[str], list[str]] | None = None,
        people: list[str] | None = None,
        out_of_spec: list[str] | None = None,
        near: list[tuple[str, object]] | None = None,
        sites: Iterable[str] = (),
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
    ) -> tuple[list[str], bool]:
        """Archived traveler numbers with facts meeting every given filter (each may hold on a
        different row of the same traveler); and whether the list was cut at MAX_NUMBERS."""
        if self.empty:
            return [], False
        scope, scope_params = self._scope(sites, date_from, date_to)
        traveler = self.col("traveler")
        selects: list[tuple[str, list]] = []
        if operations is not None:
            codes, aliases = operations
            conds, params = [], []
            if codes and "operation_code" in self.columns:
                conds.append(f"upper({self.col('operation_code')}) IN ({', '.join('?' * len(codes))})")
                params += [c.upper() for c in codes]
            if aliases and "operation_alias" in self.columns:
                conds.append(f"upper({self.col('operation_alias')}) IN ({', '.join('?' * len(aliases))})")
                params += [a.upper() for a in aliases]
            selects.append((" OR ".join(conds) or "false", params))
        if people is not None:
            conds, params = [], []
            marks = ", ".join("?" * len(people))
            for column in ("recorded_by", "recorded_by_username"):
                if people and column in self.columns:
                    conds.append(f"lower({self.col(column)}) IN ({marks})")
                    params += [p.lower() for p in people]
            selects.append((" OR ".join(conds) or "false", params))
        code = self.col("characteristic_code")
        for c in out_of_spec or []:
            selects.append((f"{code} = ? AND {self.col('judgment')} = 'out_of_spec' AND {self._current()}", [c]))
        for c, pct in near or []:
            selects.append((f"{code} = ? AND {self._current()} AND {self._near(pct)}", [c]))
        if not selects:
            return [], False
        parts, params = [], []
        for cond, cond_params in selects:
            parts.append(f"SELECT DISTINCT CAST({traveler} AS VARCHAR) FROM {self.source} WHERE ({scope}) AND ({cond})")
            params += scope_params + cond_params
        sql = " INTERSECT ".join(parts) + f" LIMIT {MAX_NUMBERS + 1}"
        numbers = [row[0] for row in self._run(sql, params)]
        return numbers[:MAX_NUMBERS], len(numbers) > MAX_NUMBERS

    def values_of(self, traveler_number: str, site: str | None = None, facts_uri: str = "") -> list[dict]:
        """Every recorded value of one archived traveler, as dicts of the logical column names: from its
        own facts file when the archive record names it, else from its site's partitions."""
        if facts_uri:
            source = f"read_parquet({_quote(facts_uri.removeprefix('file://'))}, union_by_name = true)"
            scope, params = "true", []
            if self.empty or not self.columns:
                self._describe(source)
        elif self.empty:
            return []
        else:
            source = self.source
            scope, params = self._scope([site] if site else [], None, None)
        logical = list(COLUMNS)
        select = ", ".join(f"{self.col(name)} AS {name}" for name in logical)
        rows = self._run(
            f"SELECT {select} FROM {source} WHERE ({scope}) AND CAST({self.col('traveler')} AS VARCHAR) = ? "
            f"ORDER BY {self.col('recorded_at')}",
            [*params, traveler_number],
        )
        return [dict(zip(logical, row, strict=True)) for row in rows]

    def measured_in_window(
        self, *, code: str, date_from: dt.date | None, date_to: dt.date | None, only_out_of_spec: bool, sites=()
    ) -> tuple[list[str], bool]:
        """Archived travelers with a current value of `code` recorded in the window (a recall)."""
        if self.empty:
            return [], False
        scope, params = self._scope(sites, date_from, date_to)
        cond = f"{self.col('characteristic_code')} = ? AND {self._current()}"
        if only_out_of_spec:
            cond += f" AND {self.col('judgment')} = 'out_of_spec'"
        rows = self._run(
            f"SELECT DISTINCT CAST({self.col('traveler')} AS VARCHAR) FROM {self.source} "
            f"WHERE ({scope}) AND {cond} LIMIT {MAX_NUMBERS + 1}",
            [*params, code],
        )
        numbers = [row[0] for row in rows]
        return numbers[:MAX_NUMBERS], len(numbers) > MAX_NUMBERS
