"""Indexes for the traceability search paths, on tables this app reads but does not own (travelers,
archive): created here so those apps stay untouched. CONCURRENTLY, so a large shop's tables stay
writable while they build (hence atomic = False); IF NOT EXISTS, so a re-run after an interrupted build
is harmless (an interrupted CONCURRENTLY build leaves an INVALID index: drop it and migrate again).

- pg_trgm GIN on serial/lot numbers (live and archived): partial-text search, ILIKE '%…%';
- (released_at DESC, number DESC): the keyset order of every result page;
- characteristic code, and out-of-spec values per characteristic: searches by measured value;
- values by time: a recall of what one characteristic measured in a window (a gauge out of calibration);
- active consumptions by component (with the traveler they went into): the genealogy walk upwards."""

from django.db import migrations

INDEXES = [
    ("trace_item_identifier_trgm", "travelers_item USING gin (identifier gin_trgm_ops)"),
    ("trace_archive_identifier_trgm", "archive_archiverecord USING gin (identifier gin_trgm_ops)"),
    ("trace_traveler_released_idx", "travelers_traveler (released_at DESC, number DESC)"),
    ("trace_archive_released_idx", "archive_archiverecord (released_at DESC, traveler_number DESC)"),
    ("trace_travelerchar_code_idx", "travelers_travelercharacteristic (code, id)"),
    (
        "trace_measurement_oos_idx",
        "travelers_measurement (characteristic_id) INCLUDE (step_id) WHERE judgment = 'out_of_spec'",
    ),
    ("trace_consumption_up_idx", "travelers_consumption (component_id, traveler_id) WHERE active"),
    ("trace_measurement_recorded_idx", "travelers_measurement (recorded_at) INCLUDE (characteristic_id, judgment)"),
]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("travelers", "0007_travelerstep_operation_alias"),
        ("archive", "0001_archive_index_and_retention"),
    ]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm", migrations.RunSQL.noop),
        *(
            migrations.RunSQL(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {definition}",
                f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
            )
            for name, definition in INDEXES
        ),
    ]
