"""Traceability search: any unit, lot, part, operation, signer or value — live and archived.

Reads only (selectors/), over the live PostgreSQL database and the archive's index (ArchiveRecord rows,
and the data lake's Parquet facts through DuckDB). Every answer carries a completeness statement that
says which sources were searched and which could not be reached (sources.py). See docs/traceability.md.
"""
