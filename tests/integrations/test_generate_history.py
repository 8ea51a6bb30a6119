"""manage.py generate_history (integrations.traceability.history) into the test database, small: it makes
the travelers, values and signatures the options ask for, fills the columns the schema has grown as the
services would, draws signature ids past those already there, and what it writes verifies (manage.py
verify_audit's checks) and is found by the traceability search. bench/trace.py and bench/verify.py
--history depend on it; nothing else runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from integrations.archive.models import ArchiveRecord
from integrations.traceability.history.shape import BIG_TABLES, OPERATIONS
from integrations.traceability.selectors import search
from mes.compliance.models import AuditChainHead, Signature
from mes.compliance.verify import verify_records
from mes.masterdata.models import EACH
from travelers.models import Measurement, Traveler, TravelerCharacteristic, TravelerStep, WorkOrder

TRAVELERS = 60  # three blocks of 20: the newest in work, the others closed
VALUES = 5  # measurements per traveler, one a step


def null_counts(tables) -> dict[str, int]:
    """`table.column`: how many rows hold NULL in a NOT NULL column (none may; the triggers are off
    during the load, the constraints are not — this says which the generator left out, if any)."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name FROM information_schema.columns
               WHERE table_schema = current_schema() AND table_name = ANY(%s) AND is_nullable = 'NO'""",
            [list(tables)],
        )
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}" IS NULL')  # noqa: S608 - catalog names
            found[f"{table}.{column}"] = cursor.fetchone()[0]
    return found


@pytest.mark.django_db(transaction=True)  # the sealing processes read what the command committed
def test_generate_history_fills_the_current_schema_and_what_it_writes_verifies_and_is_found():
    lake = Path(settings.DATA_LAKE_URL)  # the test's own lake: the search reads the facts written there
    before = Signature.objects.count()
    call_command(
        "generate_history",
        travelers=TRAVELERS,
        measurements_per_traveler=VALUES,
        archived_only=0.1,
        seal_workers=1,
        lake=str(lake),
        years=6,
    )

    # as many as asked: travelers, a value per characteristic of each completed step (a few corrected)
    assert Traveler.objects.count() == TRAVELERS
    closed = Traveler.objects.filter(status="closed")
    assert closed.count() == 2 * TRAVELERS // 3 and Traveler.objects.filter(status="active").count() == 20
    assert TravelerCharacteristic.objects.count() == TRAVELERS * VALUES
    done = TravelerCharacteristic.objects.filter(step__status="completed")
    originals = Measurement.objects.filter(supersedes__isnull=True)
    assert originals.count() == done.count() == closed.count() * VALUES + 20 * 2
    assert ArchiveRecord.objects.filter(traveler__isnull=True).count() == TRAVELERS // 10
    assert list(lake.glob("facts/measurements/site=*/year=*/month=*/*.parquet"))

    # signatures: a performed one per completed step, an approval per closed traveler, ids past the
    # release signatures the master data made through the services (which are all still there)
    completed = TravelerStep.objects.filter(status="completed")
    assert completed.filter(performed_signature__isnull=True).count() == 0
    assert Signature.objects.filter(record_type="travelers.step", meaning="performed").count() == completed.count()
    assert Signature.objects.filter(record_type="travelers.traveler", meaning="approved").count() == closed.count()
    released = Signature.objects.exclude(record_type__startswith="travelers.")
    assert released.count() > before
    assert min(Signature.objects.filter(record_type__startswith="travelers.").values_list("pk", flat=True)) > max(
        released.values_list("pk", flat=True)
    )

    # the columns the schema grew, as the services fill them; and no NOT NULL column left NULL
    for order in WorkOrder.objects.select_related("part_revision__part"):
        assert order.ordered_operations == [code for code, *_ in OPERATIONS]
        part = order.part_revision.part
        assert order.quantity_unit == (EACH if part.tracking == "serial" else part.quantity_unit)
    assert not Measurement.objects.exclude(device_endpoint="", device_raw="").exists()  # keyed by hand
    generated = Signature.objects.filter(record_type__startswith="travelers.")
    assert set(generated.values_list("language", flat=True)) == {settings.LANGUAGE_CODE}
    nulls = null_counts((*BIG_TABLES, "compliance_auditevent", "compliance_auditchainhead"))
    assert nulls and not {column: n for column, n in nulls.items() if n}

    # the verifier (manage.py verify_audit's checks) finds every chain and signature intact
    report = verify_records()
    assert report.ok, [str(f) for f in report.findings]
    assert report.counts["chains"] >= AuditChainHead.objects.filter(chain__startswith="traveler:").count() == TRAVELERS
    assert report.counts["signatures"] >= Signature.objects.count()

    # and the traceability search finds a generated serial, live and archived
    serial = closed.filter(item__tracking="serial").order_by("pk").first()
    result = search.search(serial.item.identifier)
    assert [(h.source, h.traveler_number) for h in result.hits] == [("live", serial.number)]
    old = search.search("OLD-00000000")
    assert [h.source for h in old.hits] == ["archive"] and old.completeness.complete


@pytest.mark.django_db(transaction=True)
def test_generate_history_without_a_lake_writes_no_facts_and_still_verifies():
    call_command("generate_history", travelers=40, measurements_per_traveler=3, archived_only=0, seal_workers=2)
    assert Traveler.objects.count() == 40 and Measurement.objects.filter(supersedes__isnull=True).count() == (
        20 * 3 + 20 * 2  # one closed block (three values), one in work (first two steps)
    )
    assert not ArchiveRecord.objects.filter(traveler__isnull=True).exists()
    assert not list(Path(settings.DATA_LAKE_URL).glob("facts/**/*.parquet"))
    report = verify_records()
    assert report.ok, [str(f) for f in report.findings]
    serial = Traveler.objects.filter(status="active", item__tracking="serial").order_by("pk").first()
    assert [h.traveler_number for h in search.search(serial.item.identifier).hits] == [serial.number]
