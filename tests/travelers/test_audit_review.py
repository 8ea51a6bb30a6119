"""Audit-trail review (Annex 11 §9; 21 CFR 11.10(e)): QA reads, filters and exports the trail in plain words
with times at the site, signs a review of it, and the printed traveler carries its own trail. Reproduces the
review's finding: QA had no screen to read, filter or export the trail, and the print had no audit section."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from mes.compliance.models import AuditReview, Signature
from mes.compliance.signing import signature_verify
from mes.masterdata import services as md
from mes.masterdata.change_control import routing_change_approve, routing_change_request
from mes.masterdata.models import Characteristic
from tests.travelers.conftest import PASSWORD, do_step

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.regulation("21 CFR 11.10(e)", "21 CFR 11.10(b)", "Annex 11 §9", "Annex 11 §8"),
]


def signed_in(client, user):
    client.force_login(user)
    return client


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def tightened(shop):
    """The bore's upper limit tightened through a new revision, released by erin (engineering) and ines
    (quality): two signatures by two people."""
    draft = md.routing_new_revision(routing=shop.routing, actor=shop.engineer)
    Characteristic.objects.filter(step__routing=draft, code="BORE_DIA").update(upper_limit=Decimal("12.705"))
    change = routing_change_request(
        routing=draft, action="release", reason="capability study CS-7", reference="ECO-118", actor=shop.engineer
    )
    for role, signer in (("engineering", shop.engineer), ("quality", shop.inspector)):
        routing_change_approve(change=change, role=role, actor=signer, secret=PASSWORD, username=signer.username)
    return change


def test_a_limit_change_released_by_two_people_reads_in_the_trail_and_its_csv(shop, tightened, client):
    qa = signed_in(client, shop.inspector)
    query = {"object_type": "masterdata.routingchange", "object_id": str(tightened.pk)}

    page = qa.get("/audit/", query)

    assert page.status_code == 200
    html = page.content.decode()
    assert "Routing change asked for" in html and "capability study CS-7" in html
    assert "12.713" in html and "12.705" in html
    assert "Routing change signed by engineering" in html and "Routing change signed by quality" in html
    assert "Erin Smith" in html and "Ines Smith" in html
    rows = csv_rows(qa.get("/audit/export.csv", query))
    limit = [r for r in rows if r["field"].endswith("BORE_DIA · upper_limit")]
    assert [(r["old"], r["new"], r["reason"], r["who"]) for r in limit] == [
        ("12.713", "12.705", "capability study CS-7", "Erin Smith")
    ]
    signers = {r["who"] for r in rows if r["action"].startswith("routing_change.signed_")}
    assert signers == {"Erin Smith", "Ines Smith"}


def test_a_travelers_trail_is_in_plain_words_at_the_sites_time(shop, traveler, client):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})

    html = signed_in(client, shop.inspector).get("/audit/", {"traveler": traveler.number}).content.decode()

    assert "Step performed" in html and "Measurement recorded" in html and "Signed" in html
    assert "Times at America/Chicago" in html
    assert "Olga Smith" in html


def test_filters_by_user_action_and_dates(shop, traveler, client):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    qa = signed_in(client, shop.inspector)

    by_operator = csv_rows(qa.get("/audit/export.csv", {"traveler": traveler.number, "user": "olga"}))
    by_inspector = csv_rows(qa.get("/audit/export.csv", {"traveler": traveler.number, "user": "ines"}))
    performed = csv_rows(qa.get("/audit/export.csv", {"traveler": traveler.number, "action": "step.performed"}))
    tomorrow = csv_rows(qa.get("/audit/export.csv", {"traveler": traveler.number, "date_from": "2999-01-01"}))

    assert by_operator and {r["who"] for r in by_operator} == {"Olga Smith"}
    assert by_inspector == []  # step 10 needs no inspection
    assert {r["action"] for r in performed} == {"step.performed"}
    assert tomorrow == []


def test_bad_filters_are_named_on_the_page_and_in_the_export(shop, client):
    qa = signed_in(client, shop.inspector)

    page = qa.get("/audit/", {"date_from": "31/02/2026", "traveler": "T-NOPE"})
    export = qa.get("/audit/export.csv", {"date_to": "yesterday"})

    assert page.status_code == 400
    html = page.content.decode()
    assert "There is no traveler, serial or lot number T-NOPE." in html and "Enter a valid date." in html
    assert export.status_code == 400 and export.content.decode().startswith("bad filter: date_to")


def test_without_filters_the_last_week_is_shown(shop, client):
    response = signed_in(client, shop.inspector).get("/audit/")
    assert response.status_code == 302 and "date_from=" in response["Location"]


def test_operators_cannot_read_the_trail(shop, client):
    operator = signed_in(client, shop.operator)
    assert operator.get("/audit/?date_from=2026-01-01").status_code == 403
    assert operator.get("/audit/export.csv").status_code == 403


def test_the_pdf_export_has_the_events(shop, traveler, client):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})

    pdf = signed_in(client, shop.inspector).get("/audit/export.pdf", {"traveler": traveler.number})

    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Step performed" in text and f"traveler {traveler.number}" in text


def test_a_signed_review_names_exactly_the_events_read(shop, traveler, client):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    qa = signed_in(client, shop.inspector)
    scope = {"traveler": traveler.number}
    shown = len(csv_rows(qa.get("/audit/export.csv", scope)))

    refused = qa.post("/audit/review/", {**scope, "username": "ines", "secret": "nope"}, follow=True)
    assert "wrong password or PIN" in refused.content.decode() and not AuditReview.objects.exists()

    done = qa.post("/audit/review/", {**scope, "username": "ines", "secret": PASSWORD, "comment": "ok"}, follow=True)

    assert "reviewed" in done.content.decode()
    review = AuditReview.objects.get()
    assert review.scope == scope and 0 < review.events <= shown
    assert review.signature.meaning == Signature.Meaning.REVIEWED and signature_verify(review.signature)


def test_a_review_covers_a_traveler_a_work_order_or_a_period(shop, client):
    qa = signed_in(client, shop.inspector)
    response = qa.post("/audit/review/", {"user": "olga", "username": "ines", "secret": PASSWORD}, follow=True)
    assert "a review covers a traveler, a work order or a period" in response.content.decode()
    assert not AuditReview.objects.exists()


def test_the_printed_traveler_has_its_audit_trail_as_an_appendix(shop, traveler, client):
    do_step(shop, traveler, 10, {"BORE_DIA": ("12.701", "mm"), "SURFACE": ("pass", "")})
    viewer = signed_in(client, shop.operator)

    html = viewer.get(f"/travelers/{traveler.number}/print/").content.decode()
    pdf = viewer.get(f"/travelers/{traveler.number}/print.pdf")

    appendix = html[html.index("Appendix: audit trail") :]
    assert "Step performed" in appendix and "Olga Smith" in appendix
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Appendix: audit trail" in text and "Step performed" in text


def test_a_traveler_is_found_by_the_serial_on_the_part_too(shop, traveler, client):
    # Walking the demo, QA typed the serial on the part (H-24-0005) and was told there is no such traveler.
    client.force_login(shop.inspector)
    by_serial = client.get("/audit/", {"traveler": traveler.item.identifier})
    by_number = client.get("/audit/", {"traveler": traveler.number})
    assert by_serial.status_code == by_number.status_code == 200
    rows = [response.content.decode().count("<tr") for response in (by_serial, by_number)]
    assert rows[0] == rows[1] > 1  # the same trail, the header row and the traveler's events
