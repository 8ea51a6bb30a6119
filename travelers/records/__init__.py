"""The as-built record of one traveler, as plain JSON types.

`traveler_record(traveler)` is the one read-model of a whole traveler for people and for the archive: the
printable traveler (HTML and PDF) renders it, the quality review screen reads it, and the archive stores
it as traveler.json. It holds the routing bound at release, every step as snapshotted (with the specs its
values were judged against), every value — superseded ones too, each correction with its reason and
signature —, every signature with its manifestation (printed name, meaning, UTC time) and content hash,
NCRs with their dispositions, holds, the genealogy (components consumed and removed) and attachments
with their SHA-256.

Conventions (the same as the JSON API and mes.compliance.canonical): times are UTC ISO 8601 strings
ending in "Z"; decimals are strings, so no value loses a digit; users are {username, printed_name}.
The `*_display` strings are the human labels of coded values, as shown on the screens.

Building it costs a fixed number of queries whatever the number of steps (reports.traveler_for_record).

build: the record itself; text: how its values read (times, counts, values in units); review: what the
quality review puts first. The names below are the package's public API.
"""

from .build import RECORD_FORMAT, build_record, iso, person, signature_data, traveler_record
from .review import corrections, is_closed, out_of_spec_values, signoff_blockers
from .text import (
    fixed,
    measurement_in_units,
    parse_time,
    site_time,
    site_zone,
    summary_text,
    utc_time,
    value_in_units,
)

__all__ = [
    "RECORD_FORMAT",
    "build_record",
    "corrections",
    "fixed",
    "is_closed",
    "iso",
    "measurement_in_units",
    "out_of_spec_values",
    "parse_time",
    "person",
    "signature_data",
    "signoff_blockers",
    "site_time",
    "site_zone",
    "summary_text",
    "traveler_record",
    "utc_time",
    "value_in_units",
]
