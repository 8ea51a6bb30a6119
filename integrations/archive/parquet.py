"""The lake's Parquet datasets, made from a package's traveler.json (so they can be rebuilt from the
packages alone), partitioned like the packages (Hive style: site=/year=/month=):

    index/travelers/site=<code>/year=<yyyy>/month=<mm>/part-<traveler>.parquet      one row per traveler
    facts/measurements/site=<code>/year=<yyyy>/month=<mm>/part-<traveler>.parquet   one row per value

Column names and types are part of the archive's contract (docs/archive.md; traceability search reads
them): add columns, never rename or retype one. Decimals are DECIMAL(38, 9) (exact, as recorded); times
are UTC timestamps (microseconds). The partition keys (site, year, month) are in the path only; the
files carry `site_code` and `closed_at` themselves.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

DEC = pa.decimal128(38, 9)
TS = pa.timestamp("us", tz="UTC")
SCALE = Decimal("0.000000001")

INDEX_SCHEMA = pa.schema(
    [
        ("traveler_number", pa.string()),
        ("status", pa.string()),
        ("part_number", pa.string()),
        ("part_revision", pa.string()),
        ("part_name", pa.string()),
        ("customer", pa.string()),
        ("tracking", pa.string()),
        ("serial_or_lot", pa.string()),
        ("quantity", DEC),
        ("work_order", pa.string()),
        ("site_code", pa.string()),
        ("site_name", pa.string()),
        ("routing_revision", pa.string()),
        ("released_at", TS),
        ("completed_at", TS),
        ("closed_at", TS),
        ("final_signed_by", pa.string()),
        ("n_steps", pa.int32()),
        ("n_values", pa.int32()),
        ("n_out_of_spec", pa.int32()),
        ("n_corrections", pa.int32()),
        ("n_ncrs", pa.int32()),
        ("n_signatures", pa.int32()),
        ("ncr_numbers", pa.list_(pa.string())),
        (
            "components",
            pa.list_(
                pa.struct(
                    [
                        ("part_number", pa.string()),
                        ("tracking", pa.string()),
                        ("serial_or_lot", pa.string()),
                        ("quantity", DEC),
                        ("active", pa.bool_()),
                        ("step_sequence", pa.int32()),
                    ]
                )
            ),
        ),
        ("retention_class", pa.string()),
        ("retain_until", pa.date32()),
        ("package_uri", pa.string()),
        ("package_sha256", pa.string()),
        ("package_size", pa.int64()),
        ("schema_version", pa.string()),
        ("software_version", pa.string()),
    ]
)

FACTS_SCHEMA = pa.schema(
    [
        ("traveler_number", pa.string()),
        ("part_number", pa.string()),
        ("part_revision", pa.string()),
        ("work_order", pa.string()),
        ("site_code", pa.string()),
        ("tracking", pa.string()),
        ("serial_or_lot", pa.string()),
        ("step_sequence", pa.int32()),
        ("operation_code", pa.string()),
        ("operation_name", pa.string()),
        ("operation_alias", pa.string()),
        ("work_center", pa.string()),
        ("characteristic_code", pa.string()),
        ("characteristic_name", pa.string()),
        ("kind", pa.string()),
        ("measurement_id", pa.int64()),
        ("value", DEC),
        ("value_text", pa.string()),
        ("value_bool", pa.bool_()),
        ("entered_value", pa.string()),
        ("entered_unit", pa.string()),
        ("unit", pa.string()),
        ("lower_limit", DEC),
        ("upper_limit", DEC),
        ("nominal", DEC),
        ("spec_revision", pa.string()),
        ("judgment", pa.string()),
        ("deviation", DEC),
        ("recorded_at", TS),
        ("recorded_by", pa.string()),
        ("recorded_by_username", pa.string()),
        ("source", pa.string()),
        ("device", pa.string()),
        ("superseded", pa.bool_()),
        ("supersedes_id", pa.int64()),
        ("superseded_by_id", pa.int64()),
        ("correction_reason", pa.string()),
        ("ncr", pa.string()),
        ("closed_at", TS),
    ]
)


def _dec(text) -> Decimal | None:
    if text is None or text == "":
        return None
    return Decimal(str(text)).quantize(SCALE)


def _ts(text) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def _date(text) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def index_row(envelope: dict, *, uri: str, sha256: str, size: int) -> dict:
    record = envelope["record"]
    t, item, summary = record["traveler"], record["item"], record["summary"]
    final = t.get("final_signature")
    return {
        "traveler_number": t["number"],
        "status": t["status"],
        "part_number": item["part_number"],
        "part_revision": item["revision"],
        "part_name": item["part_name"],
        "customer": envelope["context"].get("customer") or None,
        "tracking": item["tracking"],
        "serial_or_lot": item["identifier"],
        "quantity": _dec(item["quantity"]),
        "work_order": record["work_order"]["number"],
        "site_code": record["site"]["code"],
        "site_name": record["site"]["name"],
        "routing_revision": str(record["routing"]["revision"]),
        "released_at": _ts(t["released_at"]),
        "completed_at": _ts(t["completed_at"]),
        "closed_at": _ts(t["closed_at"]),
        "final_signed_by": final["printed_name"] if final else None,
        "n_steps": summary["steps"],
        "n_values": summary["values"],
        "n_out_of_spec": summary["out_of_spec"],
        "n_corrections": summary["corrections"],
        "n_ncrs": summary["ncrs"],
        "n_signatures": summary["signatures"],
        "ncr_numbers": [n["number"] for n in record["ncrs"]],
        "components": [
            {
                "part_number": c["part_number"],
                "tracking": c["tracking"],
                "serial_or_lot": c["identifier"],
                "quantity": _dec(c["quantity"]),
                "active": c["active"],
                "step_sequence": c["step"],
            }
            for c in record["genealogy"]["consumed"]
        ],
        "retention_class": envelope["retention"]["class"],
        "retain_until": _date(envelope["retention"]["retain_until"]),
        "package_uri": uri,
        "package_sha256": sha256,
        "package_size": size,
        "schema_version": envelope["schema_version"],
        "software_version": envelope["software_version"],
    }


def fact_rows(envelope: dict) -> list[dict]:
    """One row per recorded value, superseded ones too (flagged), with the spec it was judged against."""
    record = envelope["record"]
    item = record["item"]
    aliases = envelope["context"].get("operation_aliases", {})
    closed_at = _ts(record["traveler"]["closed_at"])
    rows = []
    for step in record["steps"]:
        for m in step["measurements"]:
            spec = m["spec"]
            rows.append(
                {
                    "traveler_number": record["traveler"]["number"],
                    "part_number": item["part_number"],
                    "part_revision": item["revision"],
                    "work_order": record["work_order"]["number"],
                    "site_code": record["site"]["code"],
                    "tracking": item["tracking"],
                    "serial_or_lot": item["identifier"],
                    "step_sequence": step["sequence"],
                    "operation_code": step["operation"]["code"],
                    "operation_name": step["operation"]["name"],
                    "operation_alias": aliases.get(str(step["sequence"])) or None,
                    "work_center": step["work_center"]["code"] if step["work_center"] else None,
                    "characteristic_code": m["characteristic"],
                    "characteristic_name": m["characteristic_name"],
                    "kind": m["kind"],
                    "measurement_id": m["id"],
                    "value": _dec(m["value"]),
                    "value_text": m["value_text"] or None,
                    "value_bool": m["value_bool"],
                    "entered_value": m["entered_value"],
                    "entered_unit": m["entered_unit"] or None,
                    "unit": m["unit"] or None,
                    "lower_limit": _dec(spec["lower"]),
                    "upper_limit": _dec(spec["upper"]),
                    "nominal": _dec(spec["nominal"]),
                    "spec_revision": spec["revision"],
                    "judgment": m["judgment"],
                    "deviation": _dec(m["deviation"]),
                    "recorded_at": _ts(m["recorded_at"]),
                    "recorded_by": (m["recorded_by"] or {}).get("printed_name"),
                    "recorded_by_username": (m["recorded_by"] or {}).get("username"),
                    "source": m["source"],
                    "device": m["device"] or None,
                    "superseded": not m["current"],
                    "supersedes_id": m["supersedes"],
                    "superseded_by_id": m["superseded_by"],
                    "correction_reason": m["correction_reason"] or None,
                    "ncr": m["ncr"],
                    "closed_at": closed_at,
                }
            )
    return rows


def parquet_bytes(rows: list[dict], schema: pa.Schema) -> bytes:
    table = pa.Table.from_pylist(rows, schema=schema)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd")
    return buffer.getvalue()


def index_bytes(envelope: dict, *, uri: str, sha256: str, size: int) -> bytes:
    return parquet_bytes([index_row(envelope, uri=uri, sha256=sha256, size=size)], INDEX_SCHEMA)


def facts_bytes(envelope: dict) -> tuple[bytes, int]:
    rows = fact_rows(envelope)
    return parquet_bytes(rows, FACTS_SCHEMA), len(rows)
