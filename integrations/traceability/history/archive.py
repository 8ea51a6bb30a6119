"""The generated history's archive: 30 % of the travelers closed more than two years ago get an
ArchiveRecord, and travelers that have left the live database (records only) are added, their
measurement facts written to the data lake as Parquet (DuckDB), as integrations.archive lays them out."""

# ruff: noqa: S608 - statements are assembled from constant fragments and generated numbers only.

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa

from integrations.archive.models import ArchiveRecord
from mes.masterdata.models import Part

from .run import HistoryRun
from .shape import CHARACTERISTICS, OPERATIONS, SITES


def archive_extra(given: str) -> list[tuple[str, object]]:
    """Columns of ArchiveRecord this generator does not set (the archive adds some), with their
    defaults: the rows stay valid as the archive's model grows."""
    named = {c.strip() for c in given.replace("(", ",").replace(")", ",").split(",")}
    return [
        (f.column, f.get_default())
        for f in ArchiveRecord._meta.concrete_fields
        if f.column not in named and not f.primary_key and not f.null
    ]


def archive(run: HistoryRun, cursor, share: float, lake: str) -> None:
    """Archive records of old live travelers, then `share` × travelers that left (facts to `lake`)."""
    cursor.execute(
        """INSERT INTO archive_retentionclass (code, name, years, customer, is_default)
           VALUES ('gen-30y', '30 years', 30, '', true) ON CONFLICT (code) DO NOTHING"""
    )
    cursor.execute("SELECT id FROM archive_retentionclass WHERE code = 'gen-30y'")
    retention = cursor.fetchone()[0]
    columns = (
        "traveler_number, traveler_id, part_number, part_revision, identifier, tracking, work_order, site_code, "
        "released_at, closed_at, uri, package_sha256, size, schema_version, archived_at, retention_id, "
        "retain_until, last_verify_problem"
    )
    extra = archive_extra(columns)
    extra_columns = "".join(f", {name}" for name, _ in extra)
    extra_values = "".join(", %s" for _ in extra)
    cursor.execute(
        f"""
        INSERT INTO archive_archiverecord ({columns}{extra_columns})
        SELECT t.number, t.id, p.number, pr.revision, i.identifier, i.tracking, wo.number, s.code, t.released_at,
               t.closed_at, 'lake://packages/' || s.code || '/' || extract(year FROM t.closed_at) || '/' || t.number
               || '.tar', md5(t.number) || md5(t.number), 250000, '1', t.closed_at + interval '1 day', %s,
               (t.closed_at + interval '30 years')::date, ''{extra_values}
        FROM travelers_traveler t
        JOIN travelers_item i ON i.id = t.item_id JOIN masterdata_part p ON p.id = i.part_id
        JOIN masterdata_partrevision pr ON pr.id = i.part_revision_id
        JOIN travelers_workorder wo ON wo.id = t.work_order_id JOIN masterdata_site s ON s.id = t.site_id
        WHERE t.closed_at < now() - interval '2 years' AND t.id %% 10 < 3""",
        [retention, *[value for _, value in extra]],
    )
    run.say(f"{cursor.rowcount:,} live travelers archived")
    count = int(run.traveler_count * share)
    if count <= 0:
        return
    rng = run.rng
    records = []
    families = [(f, k) for f in range(run.families) for k in ("pin", "sub", "asm")]
    span = (run.now - dt.timedelta(days=365 * 2) - run.origin).total_seconds()
    part_numbers = dict(Part.objects.filter(pk__in=[run.parts[k][0] for k in families]).values_list("pk", "number"))
    for i in range(count):
        family, kind = families[i % len(families)]
        site = run.sites[i % len(run.sites)]
        released = run.origin - dt.timedelta(days=365) + dt.timedelta(seconds=rng.random() * span)
        number = f"T-{5_000_001 + i:07d}"
        records.append(
            (
                number,
                part_numbers[run.parts[(family, kind)][0]],
                "A",
                f"OLD-{i:08d}",
                "serial",
                f"WO-OLD-{i // 50:06d}",
                site.code,
                released,
                released + dt.timedelta(days=4),
                f"lake://packages/{site.code}/{released.year}/{number}.tar",
                "0" * 64,
                250000,
                "1",
                released + dt.timedelta(days=5),
                retention,
                "",
            )
        )
    columns = (
        "traveler_number, part_number, part_revision, identifier, tracking, work_order, site_code, released_at, "
        "closed_at, uri, package_sha256, size, schema_version, archived_at, retention_id, last_verify_problem"
    )
    extra = archive_extra(columns)
    extra_columns = "".join(f", {name}" for name, _ in extra)
    with cursor.cursor.copy(f"COPY archive_archiverecord ({columns}{extra_columns}) FROM STDIN") as copy:
        for row in records:
            copy.write_row((*row, *[value for _, value in extra]))
    run.say(f"{count:,} archived travelers that have left the live database")
    if lake:
        lake_facts(run, lake, records)


def lake_facts(run: HistoryRun, lake: str, records: list[tuple]) -> None:
    """Measurement facts of the archived-only travelers, Parquet under site=/year=/month= (DuckDB)."""
    table = pa.table(
        {
            "traveler_number": [r[0] for r in records],
            "part_number": [r[1] for r in records],
            "part_revision": [r[2] for r in records],
            "serial_or_lot": [r[3] for r in records],
            "site_code": [r[6] for r in records],
            "released_at": [r[7] for r in records],
            "closed_at": [r[8] for r in records],
        }
    )
    chars = [(op, *c) for op, cs in CHARACTERISTICS.items() for c in cs][: run.m]
    aliases = {code: dict(zip([s[0] for s in SITES], a, strict=True)) for code, _n, *a in OPERATIONS}
    target = Path(lake) / "facts" / "measurements"
    target.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.register("records", table)
    con.execute("CREATE TABLE chars (k INTEGER, op VARCHAR, code VARCHAR, nominal DOUBLE, tol DOUBLE, unit VARCHAR)")
    con.executemany(
        "INSERT INTO chars VALUES (?, ?, ?, ?, ?, ?)",
        [(k, op, code, float(nom), float(tol), unit) for k, (op, code, nom, tol, unit) in enumerate(chars)],
    )
    con.execute("CREATE TABLE alias (op VARCHAR, site VARCHAR, alias VARCHAR)")
    con.executemany(
        "INSERT INTO alias VALUES (?, ?, ?)", [(op, s, a) for op, m in aliases.items() for s, a in m.items()]
    )
    con.execute("SELECT setseed(0.42)")
    con.execute(
        f"""
        COPY (
          SELECT r.traveler_number, r.part_number, r.part_revision, r.site_code,
                 c.code AS characteristic_code, c.code AS characteristic_name,
                 c.op AS operation_code, a.alias AS operation_alias, r.serial_or_lot, v.value, c.unit,
                 c.nominal - c.tol AS lower_limit, c.nominal + c.tol AS upper_limit,
                 CASE WHEN v.value < c.nominal - c.tol OR v.value > c.nominal + c.tol THEN 'out_of_spec'
                      ELSE 'in_spec' END AS judgment,
                 r.released_at + to_hours(c.k) AS recorded_at,
                 'Person' || lpad((hash(r.traveler_number) % 64)::VARCHAR, 2, '0') || ' Generated' AS recorded_by,
                 'gen-op-' || lpad((hash(r.traveler_number) % 64)::VARCHAR, 2, '0') AS recorded_by_username,
                 false AS superseded, r.closed_at, r.site_code AS site,
                 year(r.closed_at) AS year, lpad(month(r.closed_at)::VARCHAR, 2, '0') AS month
          FROM records r CROSS JOIN chars c
          JOIN alias a ON a.op = c.op AND a.site = r.site_code
          CROSS JOIN LATERAL (SELECT round(c.nominal + c.tol * (random() + random() + random() - 1.5)
                              * CASE WHEN random() < 0.012 THEN 1.6 ELSE 0.8 END + 0 * c.k, 4) AS value) v
        ) TO '{str(target).replace("'", "''")}'
          (FORMAT parquet, PARTITION_BY (site, year, month), OVERWRITE_OR_IGNORE)"""
    )
    con.close()
    run.say(f"lake facts written under {target}")
