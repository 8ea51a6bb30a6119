"""Quality screens: the sign-off queue, who may open the quality pages, and the review of a traveler
(out-of-spec values, corrections and NCRs first, then every signature, verified). The signed approval
or rejection is in test_quality_signoff_views, NCR dispositions in test_ncr_disposition_views."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import Signature
from tests.factories import UserFactory
from tests.tampering import as_superuser
from tests.travelers.conftest import PASSWORD, run_to_signoff
from tests.travelers.quality_support import out_of_spec_ncr, signed_in, worked
from tests.travelers.support import long_traveler
from travelers import records, services

pytestmark = pytest.mark.django_db


# --- The queue ----------------------------------------------------------------------------------------------


def test_the_queue_lists_travelers_awaiting_approval_and_ncrs_awaiting_disposition(shop, traveler, client):
    run_to_signoff(shop, traveler)
    other = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    ncr = out_of_spec_ncr(shop, other)
    r = signed_in(client, shop.inspector).get("/quality/")
    assert r.status_code == 200
    html = r.content.decode()
    assert traveler.number in html and f"/quality/travelers/{traveler.number}/" in html
    assert ncr.number in html and f"/quality/ncrs/{ncr.number}/" in html
    assert other.number in html  # the NCR row names its traveler


def test_the_queue_refresh_returns_only_the_lists(shop, traveler, client):
    run_to_signoff(shop, traveler)
    r = signed_in(client, shop.inspector).get("/quality/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    assert b"<html" not in r.content and traveler.number.encode() in r.content


def test_queue_queries_do_not_grow_with_the_travelers_waiting(shop, client, django_assert_num_queries):
    signed_in(client, shop.inspector)
    first = services.traveler_release(work_order=shop.order, identifier="SN-0001", actor=shop.supervisor)
    run_to_signoff(shop, first)
    out_of_spec_ncr(shop, services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor))
    client.get("/quality/")
    with CaptureQueriesContext(connection) as one:
        client.get("/quality/")
    for n in (3, 4):
        run_to_signoff(
            shop, services.traveler_release(work_order=shop.order, identifier=f"SN-000{n}", actor=shop.supervisor)
        )
    out_of_spec_ncr(shop, services.traveler_release(work_order=shop.order, identifier="SN-0005", actor=shop.supervisor))
    with django_assert_num_queries(len(one.captured_queries)):
        r = client.get("/quality/")
    assert r.content.decode().count("/quality/travelers/T-") == 3


# --- Access -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/quality/"),
        ("get", "/quality/travelers/{t}/"),
        ("get", "/quality/travelers/{t}/signatures/"),
        ("get", "/quality/travelers/{t}/signoff/?decision=approve"),
        ("post", "/quality/travelers/{t}/signoff/"),
        ("get", "/quality/ncrs/{n}/"),
        ("post", "/quality/ncrs/{n}/"),
    ],
)
@pytest.mark.regulation("21 CFR 11.10(d)", "21 CFR 11.10(g)")
def test_an_operator_is_refused_every_quality_page(shop, traveler, client, method, path):
    ncr = out_of_spec_ncr(shop, traveler)
    url = path.format(t=traveler.number, n=ncr.number)
    r = getattr(signed_in(client, shop.operator), method)(url, {"decision": "approve", "secret": PASSWORD})
    assert r.status_code == 403
    assert (
        Signature.objects.exclude(record_type="masterdata.routingchange")
        .filter(meaning__in=["approved", "dispositioned"])
        .count()
        == 0
    )


def test_signing_in_is_asked_first(shop, traveler, client):
    r = client.get(f"/quality/travelers/{traveler.number}/")
    assert r.status_code == 302
    assert r["Location"].startswith("/station/login/?next=/quality/travelers/")


def test_an_unknown_traveler_or_ncr_is_not_found(shop, client):
    signed_in(client, shop.inspector)
    assert client.get("/quality/travelers/T-9999999/").status_code == 404
    assert client.get("/quality/travelers/T-9999999/signatures/").status_code == 404
    assert client.post("/quality/travelers/T-9999999/signoff/", {"secret": PASSWORD}).status_code == 404
    assert client.get("/quality/ncrs/NCR-999999/").status_code == 404


def test_an_inspector_without_disposition_right_still_reviews(shop, traveler, client):
    """The queue shows what the user may act on: sign-off only, here."""
    run_to_signoff(shop, traveler)
    signer = UserFactory(username="quinn")
    signer.user_permissions.add(*Group.objects.get(name="Inspector").permissions.exclude(codename="disposition_ncr"))
    r = signed_in(client, signer).get("/quality/")
    assert r.status_code == 200 and traveler.number.encode() in r.content
    assert b"Nonconformances awaiting disposition" not in r.content


# --- The review ---------------------------------------------------------------------------------------------


def test_the_review_puts_out_of_spec_values_corrections_and_ncrs_before_the_signatures(shop, traveler, client):
    traveler = worked(shop, traveler)
    r = signed_in(client, shop.inspector).get(f"/quality/travelers/{traveler.number}/")
    assert r.status_code == 200
    html = r.content.decode()
    order = [html.index(f'id="{section}"') for section in ("out-of-spec", "corrections", "ncrs", "signatures")]
    assert order == sorted(order)
    out_of_spec = html[order[0] : order[1]]
    assert "TORQUE" in out_of_spec and "28.0" in out_of_spec
    corrections = html[order[1] : order[2]]
    assert '<del class="superseded">12.710 mm</del>' in corrections
    assert "12.701" in corrections and "digits transposed" in corrections
    assert "Olga Smith" in corrections and "Corrected" in corrections  # who, and the signature's meaning
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d C[SD]T", corrections)  # when, at the Wichita site
    assert " UTC" in corrections
    ncrs = html[order[2] : order[3]]
    assert "scuff on the flange" in ncrs and "Use as is" in ncrs and "cosmetic only" in ncrs


@pytest.mark.regulation("21 CFR 11.50")
def test_the_review_lists_every_signature_with_name_meaning_and_both_times(shop, traveler, client):
    traveler = worked(shop, traveler)
    html = signed_in(client, shop.inspector).get(f"/quality/travelers/{traveler.number}/").content.decode()
    section = html[html.index('id="signatures"') : html.index('id="steps"')]
    record = records.traveler_record(traveler)
    # 4 performed, 1 inspected, 1 correction and its co-signature, 1 disposition "use as is" (which also
    # released the NCR's hold) and engineering's signature of it (material review board)
    assert len(record["signatures"]) == 9
    assert {"cosigned", "engineering_approved"} <= {s["meaning"] for s in record["signatures"]}
    for sig in record["signatures"]:
        assert sig["printed_name"] in section
        assert sig["meaning_display"] in section
        assert records.site_time(sig["signed_at"], "America/Chicago") in section
        assert records.utc_time(sig["signed_at"]) in section
    # the flags come from their own request, which the page loads (and links to, without JavaScript)
    assert f'hx-get="/quality/travelers/{traveler.number}/signatures/"' in section
    assert f'href="/quality/travelers/{traveler.number}/signatures/"' in section


@pytest.mark.regulation("21 CFR 11.70", "AC 120-78B signatures")
def test_signatures_are_verified_and_an_altered_record_shows_broken(shop, traveler, client):
    traveler = run_to_signoff(shop, traveler)
    signed_in(client, shop.inspector)
    url = f"/quality/travelers/{traveler.number}/signatures/"
    r = client.get(url, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"<html" not in r.content
    html = r.content.decode()
    assert html.count(">verified<") == 5 and ">BROKEN<" not in html
    # Someone with full database rights edits a signed step behind the application's back (the guards
    # refuse it to anyone else): its signatures no longer match.
    as_superuser(
        "UPDATE travelers_travelerstep SET title = 'Torque the lid' WHERE traveler_id = %s AND sequence = 20",
        [traveler.pk],
    )
    html = client.get(url).content.decode()
    assert "<html" in html  # without htmx, a page of its own
    assert html.count(">BROKEN<") == 2 and html.count(">verified<") == 3  # step 20: performed and inspected


def test_review_queries_do_not_grow_with_the_steps(shop, client, django_assert_num_queries):
    small = long_traveler(shop, 5, "SMALL-1", worked=2)
    large = long_traveler(shop, 50, "LARGE-1", worked=20)
    signed_in(client, shop.inspector)
    client.get(f"/quality/travelers/{small.number}/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as small_queries:
        r = client.get(f"/quality/travelers/{small.number}/")
    assert r.status_code == 200
    with django_assert_num_queries(len(small_queries.captured_queries)):
        r = client.get(f"/quality/travelers/{large.number}/")
    assert r.status_code == 200
    assert r.content.decode().count(">Performed<") == 2 * 20  # in the signature list and beside each step
