"""The load of a generated history, stage by stage: master data, then in one transaction — triggers off
for the session, secondary indexes dropped and rebuilt after — the entities, the fan-out and the
archive (generated signature ids above those already there: `signature_base`); then the sequences (moved
past the generated rows), the seal, a full checkpoint of the chains in the data lake, and VACUUM (ANALYZE)
as autovacuum would."""

# ruff: noqa: S608 - statements are assembled from constant fragments and generated numbers only.

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import connection, transaction

from mes.compliance.checkpoints import checkpoint_write
from mes.compliance.config_seal import config_seal_all

from .archive import archive
from .entities import copy_entities
from .fan_out import fan_out
from .masterdata import master_data
from .run import HistoryRun
from .sealing import seal
from .shape import BIG_TABLES


def generate(run: HistoryRun, *, archived_only: float, lake: str, seal_workers: int) -> None:
    """Generate the whole history of `run` into the (empty) database of the default connection."""
    master_data(run)
    with transaction.atomic():
        with connection.cursor() as cursor:
            try:
                cursor.execute("SET LOCAL session_replication_role = replica")
            except Exception as exc:
                raise CommandError(f"the generator needs a superuser connection: {exc}") from exc
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            run.signature_base = signature_base(cursor)
            indexes = indexes_drop(run, cursor)
            copy_entities(run, cursor)
            fan_out(run, cursor)
            archive(run, cursor, archived_only, lake)
            indexes_restore(run, cursor, indexes)
            sequences_set(run, cursor)
    seal(seal_workers, run.say)
    # as the checkpoint task would have, beat after beat over the years: the chains' heads in the data lake
    config_seal_all()
    checkpoint = checkpoint_write(full=True)
    run.say(f"checkpoint {checkpoint.number if checkpoint else '-'} written to the data lake")
    with connection.cursor() as cursor:  # as autovacuum would: statistics, and the visibility map
        for table in (*BIG_TABLES, "compliance_auditevent", "compliance_auditchainhead"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    run.say("vacuumed and analyzed; done")


def signature_base(cursor) -> int:
    """The base of the generated signature ids: past every signature already there (the routings'
    releases are signed through the services) and past what the table's sequence has handed out."""
    cursor.execute(
        "SELECT greatest(nextval(pg_get_serial_sequence('compliance_signature', 'id')), "
        "coalesce((SELECT max(id) FROM compliance_signature), 0) + 1)"
    )
    return cursor.fetchone()[0]


def indexes_drop(run: HistoryRun, cursor) -> list[str]:
    """Drop the big tables' secondary indexes (not those behind constraints); return their definitions."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                             WHERE c.conindid = (quote_ident(i.indexname))::regclass)""",
        [list(BIG_TABLES)],
    )
    rows = cursor.fetchall()
    for name, _ in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    run.say(f"dropped {len(rows)} secondary indexes for the load")
    return [definition for _, definition in rows]


def indexes_restore(run: HistoryRun, cursor, definitions: list[str]) -> None:
    """Rebuild the indexes `indexes_drop` dropped."""
    for definition in definitions:
        cursor.execute(definition)
    run.say(f"rebuilt {len(definitions)} secondary indexes")


def sequences_set(run: HistoryRun, cursor) -> None:
    """Move the id and number sequences past the generated rows."""
    for table in BIG_TABLES:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest((SELECT max(id) FROM {table}), 1))"
        )
    cursor.execute("SELECT setval('travelers_traveler_number_seq', greatest(%s, 1))", [run.traveler_count])
    cursor.execute(
        "SELECT setval('travelers_ncr_number_seq', greatest((SELECT count(*) FROM travelers_nonconformance), 1))"
    )
