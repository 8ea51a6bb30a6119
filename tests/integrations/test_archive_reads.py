"""The archive's prepared reads of a closed traveler (integrations.archive.reads) make the very record that
travelers.records.traveler_record makes through travelers.selectors.traveler_detail, in one round trip."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.archive import package, reads
from integrations.models import WorkOrderProvenance
from mes.compliance.canonical import canonical_bytes, jsonable
from mes.compliance.models import Signature
from tests.integrations.archive_support import closed, lake_dir, traveler  # noqa: F401 - fixtures
from tests.travelers.conftest import shop  # noqa: F401 - fixtures
from tests.travelers.test_printing import full_history
from travelers import records, services
from travelers.models import Traveler
from travelers.records import build_record

pytestmark = pytest.mark.django_db


def same_record(closed_traveler) -> dict:
    """The archive's record of `closed_traveler`, checked byte for byte against traveler_record's."""
    loaded = reads.loaded_traveler(closed_traveler.pk)
    ours = build_record(loaded.traveler, loaded.on_traveler, now=closed_traveler.closed_at)
    theirs = records.traveler_record(closed_traveler, now=closed_traveler.closed_at)
    assert canonical_bytes(jsonable(ours)) == canonical_bytes(jsonable(theirs))
    return ours


def test_the_archives_reads_make_the_record_of_every_kind_of_history(shop):  # noqa: F811 - the fixture
    released = services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    record = same_record(full_history(shop, released))
    # the history has every list the reads fill in: corrections, attachments, holds, NCRs, consumptions
    assert [c["identifier"] for c in record["genealogy"]["consumed"]] == ["PIN-0001", "PIN-0002"]
    assert len(record["holds"]) == 2 and len(record["ncrs"]) == 1 and record["attachments"]
    assert any(m["supersedes"] for s in record["steps"] for m in s["measurements"])
    assert [s["origin"] for s in record["steps"]][-1] == "rework"


def test_the_archives_reads_are_one_round_trip_and_the_record_needs_no_other_query(closed):  # noqa: F811
    with CaptureQueriesContext(connection) as first:
        loaded = reads.loaded_traveler(closed.pk)
    assert len(first.captured_queries) == 1  # ten prepared reads in psycopg's pipeline
    with CaptureQueriesContext(connection) as building:
        build_record(loaded.traveler, loaded.on_traveler, now=closed.closed_at)
        held = loaded.signatures()
    assert building.captured_queries == []
    # every signature of the record is in the loaded graph, the traveler's own approval included
    on_record = Signature.objects.filter(pk__in=[s["id"] for s in same_record(closed)["signatures"]])
    assert set(held) == set(on_record.values_list("pk", flat=True)) and len(held) == 8
    assert [p.pk for p in loaded.provenance] == list(
        WorkOrderProvenance.objects.filter(work_order_id=closed.work_order_id).values_list("pk", flat=True)
    )


def test_the_archives_reads_work_without_prepared_statements(closed, settings):  # noqa: F811 - the fixtures
    settings.DATABASE_PREPARED_STATEMENTS = False
    same_record(closed)


def test_a_signature_missing_from_the_loaded_graph_is_read_by_id(closed):  # noqa: F811 - the fixture
    ids = list(Signature.objects.order_by("signed_at", "id").values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        found = package._signatures(ids, {})
    assert [s.pk for s in found] == ids and len(queries.captured_queries) == 1
    assert [s.pk for s in package._signatures([ids[-1], ids[0]], {})] == [ids[0], ids[-1]]  # signing order


def test_reading_a_traveler_that_is_gone_says_so():
    with pytest.raises(Traveler.DoesNotExist):
        reads.loaded_traveler(987654)
