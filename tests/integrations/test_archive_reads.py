"""The archive's prepared reads of a closed traveler (integrations.archive.reads) make the very record that
travelers.records.traveler_record makes through travelers.selectors.traveler_detail, in one round trip."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.archive import package, reads, services
from integrations.models import WorkOrderProvenance
from mes.compliance.audit import audit_record
from mes.compliance.canonical import canonical_bytes, jsonable
from mes.compliance.models import AuditChainHead, AuditEvent, Signature
from tests.integrations.archive_support import closed, lake_dir, traveler  # noqa: F401 - fixtures
from tests.travelers.conftest import shop  # noqa: F401 - fixtures
from tests.travelers.test_printing import full_history
from travelers import records
from travelers import services as ts
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
    released = ts.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
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


def test_the_envelope_carries_each_related_chain_within_the_travelers_life(closed):  # noqa: F811 - the fixture
    signer = Signature.objects.filter(record_type="travelers.traveler").first().signer_id
    audit_record(  # after the closing: not part of the traveler's life
        chain=f"user:{signer}", action="signing.refused", object_type="auth.user", object_id=signer, changes={}
    )
    audit_record(chain=f"workorder:{closed.work_order_id}", action="note", object_type="x", object_id=1, changes={})
    rc = services.retention_class_for(closed.item.part)
    retention = package.Retention(rc.code, rc.name, rc.years, None)
    envelope = package.archive_envelope(closed, retention=retention)
    events = AuditEvent.objects.order_by("seq")
    own = f"traveler:{closed.pk}"
    assert [e["id"] for e in envelope["audit"]["events"]] == list(events.filter(chain=own).values_list("pk", flat=True))
    head = AuditChainHead.objects.get(chain=own)
    assert envelope["audit"]["head"] == {"seq": head.last_seq, "hash": head.last_hash}
    order, *users = envelope["related_audit"]
    assert (order["chain"], order["from_genesis"], order["head"]) == (f"workorder:{closed.work_order_id}", True, None)
    assert [e["id"] for e in order["events"]] == list(
        events.filter(chain=order["chain"], occurred_at__lte=closed.closed_at).values_list("pk", flat=True)
    )
    signers = sorted({s["signer_id"] for s in envelope["signatures"]})
    assert [u["chain"] for u in users] == [f"user:{pk}" for pk in signers] and len(users) >= 2
    during = events.filter(occurred_at__gte=closed.released_at, occurred_at__lte=closed.closed_at)
    for chain in users:
        assert not chain["from_genesis"] and chain["head"] is None
        assert [e["id"] for e in chain["events"]] == list(
            during.filter(chain=chain["chain"]).values_list("pk", flat=True)
        )
    # the window matters: what the signer's and the work order's chains got after the closing is left out
    carried = {e["id"] for chain in envelope["related_audit"] for e in chain["events"]}
    later = events.filter(occurred_at__gt=closed.closed_at, chain__in=[f"user:{signer}", order["chain"]])
    assert later.count() == 2 and not carried & set(later.values_list("pk", flat=True))
