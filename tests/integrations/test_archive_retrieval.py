"""Reading the data-lake archive back: an archived traveler opens from its package alone (for those
allowed to see it), and a package is disposed of only after its retention, with a signed approval."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.archive import services
from integrations.archive.errors import DisposalRefused
from integrations.archive.models import ArchiveRecord, Disposal, RetentionClass
from mes.compliance.models import AuditEvent
from mes.compliance.signing import signature_verify
from tests.factories import UserFactory
from tests.integrations.archive_support import (  # noqa: F401 - fixtures
    closed,
    lake_dir,
    pdf_text,
    traveler,
)
from tests.tampering import as_superuser
from tests.travelers.conftest import PASSWORD, shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


# --- Retrieval from the package -----------------------------------------------------------------------------


@pytest.mark.regulation("Annex 11 §17", "21 CFR 11.10(b)")
def test_archived_traveler_opens_from_its_package_alone(closed, lake_dir, client, shop, monkeypatch):  # noqa: F811 - the fixture
    record = services.traveler_archive(traveler_id=closed.pk)
    ArchiveRecord.objects.filter(pk=record.pk).update(traveler=None)  # its rows may leave the live database

    def no_live_record(*args, **kwargs):
        raise AssertionError("the archive view read the live traveler")

    monkeypatch.setattr("travelers.records.traveler_record", no_live_record)
    monkeypatch.setattr("travelers.reports.traveler_for_record", no_live_record)
    client.force_login(shop.inspector)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/archive/{closed.number}/")
    assert page.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "travelers_" in q["sql"]]
    html = page.content.decode()
    assert "Archived copy" in html and closed.number in html and "misread the dial" in html
    assert "Ines Smith" in html and "Approved" in html and "12.701" in html
    assert f"/archive/{closed.number}/traveler.pdf" in html and f"/archive/{closed.number}/package.tar" in html

    pdf = client.get(f"/archive/{closed.number}/traveler.pdf")
    assert pdf["Content-Type"] == "application/pdf" and "Ines Smith" in pdf_text(pdf.content)
    tar = client.get(f"/archive/{closed.number}/package.tar")
    body = b"".join(tar.streaming_content)
    assert tar["Content-Type"] == "application/x-tar" and len(body) == record.size
    assert closed.number in tar["Content-Disposition"]

    listing = client.get("/archive/", {"q": "SN-0001"})
    assert listing.status_code == 200 and closed.number in listing.content.decode()


def test_archive_pages_need_login_and_view_permission(closed, lake_dir, client):  # noqa: F811 - the fixtures
    services.traveler_archive(traveler_id=closed.pk)
    assert client.get(f"/archive/{closed.number}/").status_code == 302
    client.force_login(UserFactory(username="nobody"))
    assert client.get(f"/archive/{closed.number}/").status_code == 403
    assert client.get(f"/archive/{closed.number}/package.tar").status_code == 403


# --- Retention and disposal ---------------------------------------------------------------------------------


def records_manager(user):
    """`user`, allowed to approve disposals (a fresh instance: permissions are cached per instance)."""
    user.user_permissions.add(Permission.objects.get(codename="dispose_package"))
    return type(user).objects.get(pk=user.pk)


@pytest.mark.regulation("21 CFR 11.10(c)")
def test_disposal_refused_before_retain_until_and_recorded_with_a_signature_after(closed, lake_dir, shop):  # noqa: F811 - the fixture
    record = services.traveler_archive(traveler_id=closed.pk)
    approver = records_manager(shop.supervisor)
    with pytest.raises(DisposalRefused, match="must be kept until"):
        services.archive_dispose(
            record=record, actor=approver, secret=PASSWORD, username=approver.get_username(), reason="retention over"
        )
    assert Path(record.uri).exists() and not Disposal.objects.exists()

    yesterday = timezone.now().date() - dt.timedelta(days=1)
    # thirty years later, as it were (the database lets no one shorten a retention)
    as_superuser("UPDATE archive_archiverecord SET retain_until = %s WHERE id = %s", [yesterday, record.pk])
    record.refresh_from_db()
    with pytest.raises(DisposalRefused, match="may not approve"):
        services.archive_dispose(
            record=record,
            actor=shop.operator,
            secret=PASSWORD,
            username=shop.operator.get_username(),
            reason="retention over",
        )
    disposal = services.archive_dispose(
        record=record, actor=approver, secret=PASSWORD, username=approver.get_username(), reason="retention over"
    )
    record.refresh_from_db()
    assert record.disposed_at == disposal.disposed_at and not Path(record.uri).exists()
    assert not Path(record.index_uri).exists() and not Path(record.facts_uri).exists()
    signature = disposal.approval_signature
    assert (signature.meaning, signature.printed_name, signature.record_id) == (
        "disposed",
        "Sam Smith",
        str(record.pk),
    )
    assert signature_verify(signature)
    actions = list(AuditEvent.objects.filter(chain=f"archive:{closed.number}").values_list("action", flat=True))
    assert actions == ["archive.written", "signature.signed", "archive.disposed"]
    with pytest.raises(DisposalRefused, match="already"):
        services.archive_dispose(
            record=record, actor=approver, secret=PASSWORD, username=approver.get_username(), reason="again"
        )


def test_retention_class_for_part_wins_over_customer_and_life_of_product_has_no_end(closed, lake_dir, shop):  # noqa: F811 - the fixture
    part = shop.part_revision.part
    part.customer = "Airframer"
    part.save()
    RetentionClass.objects.create(code="airframer-10y", name="Airframer 10 years", years=10, customer="Airframer")
    assert services.retention_class_for(part).code == "airframer-10y"
    RetentionClass.objects.create(code="hsg-life", name="Housing: life of product", years=None, part=part)
    assert services.retention_class_for(part).code == "hsg-life"
    record = services.traveler_archive(traveler_id=closed.pk)
    assert record.retain_until is None and record.retention.code == "hsg-life"
    with pytest.raises(DisposalRefused, match="life of the product"):
        services.archive_dispose(
            record=record,
            actor=records_manager(shop.supervisor),
            secret=PASSWORD,
            username=records_manager(shop.supervisor).get_username(),
            reason="x",
        )
