"""The printable traveler: the read-model (travelers.records), the print page and the PDF."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader
from reportlab import platypus, rl_config
from reportlab.pdfgen import canvas as pdf_canvas

from mes.compliance.models import Signature
from tests.factories import UserFactory
from tests.travelers.conftest import PASSWORD, do_step, run_to_signoff, step_of
from tests.travelers.support import long_traveler
from travelers import printing, qr, records, services
from travelers.models import Item, Traveler
from travelers.printing import document, kit, sections
from travelers.states import TravelerStatus

pytestmark = pytest.mark.django_db

NOTE = b"torque wrench TW-118, calibrated 2026-01-10"


def signed_in(client, user):
    client.force_login(user)  # django-axes is installed: never client.login
    return client


def received_pin(shop, serial: str) -> Item:
    """A purchased hinge pin, received and available (no traveler of its own)."""
    return Item.objects.create(
        part=shop.pin_part,
        part_revision=shop.pin_rev,
        tracking="serial",
        identifier=serial,
        status=Item.Status.AVAILABLE,
    )


def full_history(shop, traveler) -> Traveler:
    """Every kind of record on one traveler: a corrected value, an attachment, a component installed,
    removed (signed) and replaced, a manual hold released (signed), a rejection at sign-off whose NCR is
    reworked, and the final approval."""
    received_pin(shop, "PIN-0001")
    received_pin(shop, "PIN-0002")
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    first = services.measurement_record(step=step, characteristic="BORE_DIA", value="12.702", actor=shop.operator)
    services.measurement_correct(
        measurement=first,
        value="12.701",
        reason="misread the dial",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator)
    services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    step = services.step_start(step=step_of(traveler, 20), actor=shop.operator)
    services.attachment_add(
        step=step, filename="wrench.txt", content=NOTE, content_type="text/plain", actor=shop.operator
    )
    bent = services.component_consume(step=step, identifier="PIN-0001", actor=shop.operator)
    services.component_remove(
        consumption=bent,
        reason="pin bent on insertion",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
    )
    services.component_consume(step=step, identifier="PIN-0002", actor=shop.operator)
    services.measurement_record(step=step, characteristic="TORQUE", value="25.0", unit="N*m", actor=shop.operator)
    step = services.step_perform(step=step, actor=shop.operator, secret=PASSWORD, username=shop.operator.get_username())
    services.step_inspect(step=step, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username())
    hold = services.hold_place(traveler=traveler, reason="gauge out for calibration", actor=shop.operator)
    services.hold_release(
        hold=hold, reason="gauge back", actor=shop.supervisor, secret=PASSWORD, username=shop.supervisor.get_username()
    )
    do_step(shop, traveler, 30, {"MARK_OK": ("pass", "")})
    do_step(shop, traveler, 40, {})
    services.traveler_signoff(
        traveler=traveler,
        approve=False,
        reason="marking faint",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
    )
    ncr = traveler.ncrs.get()
    services.ncr_disposition(
        ncr=ncr,
        disposition="rework",
        notes="re-mark deeper",
        rework_steps=[{"operation": "MARKING", "title": "Re-mark the serial"}],
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
    )
    rework = traveler.steps.get(origin="rework")
    do_step(shop, traveler, rework.sequence, {})
    services.traveler_signoff(
        traveler=traveler, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.get_username()
    )
    traveler.refresh_from_db()
    assert traveler.status == TravelerStatus.CLOSED
    return traveler


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


# --- The record ---------------------------------------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.10(b)")
def test_the_record_is_complete_and_plain_json(shop, traveler):
    traveler = full_history(shop, traveler)
    record = records.traveler_record(traveler)
    again = json.loads(json.dumps(record))  # plain JSON types only: it becomes the archive's traveler.json
    assert again == record
    assert record["format"] == records.RECORD_FORMAT
    assert record["traveler"]["number"] == traveler.number and record["traveler"]["status"] == "closed"
    assert record["traveler"]["qr_payload"] == f"TRAVELER:{traveler.number}"
    assert record["routing"]["revision"] == traveler.routing.revision
    assert record["item"] == record["item"] | {"part_number": "HSG-1", "revision": "A", "identifier": "SN-0001"}
    # the snapshot: every step with the specs its values were judged against
    bore = next(s for s in record["steps"] if s["sequence"] == 10)
    spec = next(c for c in bore["characteristics"] if c["code"] == "BORE_DIA")
    assert (spec["lower_limit"], spec["upper_limit"], spec["nominal"], spec["unit"]) == (
        "12.687",
        "12.713",
        "12.7",
        "mm",
    )
    # every value, the superseded one too, with its correction
    original, corrected = [m for m in bore["measurements"] if m["characteristic"] == "BORE_DIA"]
    assert (original["entered_value"], original["current"], original["superseded_by"]) == (
        "12.702",
        False,
        corrected["id"],
    )
    assert (corrected["supersedes"], corrected["correction_reason"]) == (original["id"], "misread the dial")
    assert corrected["correction_signature"]["meaning"] == "corrected"
    assert corrected["spec"] == {
        "lower": "12.687",
        "upper": "12.713",
        "nominal": "12.7",
        "unit": "mm",
        "revision": spec["spec_revision"],
    }
    # genealogy: installed, removed (signed), replaced
    consumed = record["genealogy"]["consumed"]
    assert [(c["identifier"], c["active"]) for c in consumed] == [("PIN-0001", False), ("PIN-0002", True)]
    assert consumed[0]["removal_reason"] == "pin bent on insertion"
    assert consumed[0]["removal_signature"]["meaning"] == "removed"
    # attachments with their SHA-256
    assert [(a["filename"], a["sha256"]) for a in record["attachments"]] == [
        ("wrench.txt", hashlib.sha256(NOTE).hexdigest())
    ]
    # holds, NCRs and dispositions
    assert [(h["kind"], h["open"]) for h in record["holds"]] == [("manual", False), ("ncr", False)]
    assert record["holds"][0]["release_signature"]["meaning"] == "released"
    (ncr,) = record["ncrs"]
    assert (ncr["disposition"], ncr["disposition_notes"]) == ("rework", "re-mark deeper")
    assert ncr["rework_steps"] == [s["sequence"] for s in record["steps"] if s["origin"] == "rework"]
    assert ncr["disposition_signature"]["meaning"] == "dispositioned"
    # every signature made on this traveler, once, with its manifestation and content hash
    assert sorted(s["id"] for s in record["signatures"]) == sorted(
        Signature.objects.exclude(record_type="masterdata.routingchange").values_list("pk", flat=True)
    )
    assert sorted(s["meaning"] for s in record["signatures"]) == sorted(
        ["performed"] * 5
        + ["inspected"] * 2
        + ["corrected", "cosigned", "removed", "released", "rejected", "dispositioned", "approved"]
    )
    for sig in record["signatures"]:
        row = Signature.objects.get(pk=sig["id"])
        assert sig["content_hash"] == row.content_hash and sig["manifestation"] == row.manifestation
        assert sig["signed_at"].endswith("Z") and sig["on"]
    assert record["traveler"]["final_signature"]["printed_name"] == "Ines Smith"


def test_the_review_sections_are_derived_from_the_record(shop, traveler):
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator)
    m = services.measurement_record(step=step, characteristic="SURFACE", value="fail", actor=shop.operator)
    services.measurement_correct(
        measurement=m,
        value="pass",
        reason="wrong button",
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        cosigner_username=shop.inspector.get_username(),
        cosigner_secret=PASSWORD,
    )
    record = records.traveler_record(traveler)
    assert [(v["characteristic"], v["current"]) for v in records.out_of_spec_values(record)] == [("SURFACE", False)]
    (pair,) = records.corrections(record)
    assert (pair["original"]["entered_value"], pair["correction"]["entered_value"]) == ("fail", "pass")
    assert records.signoff_blockers(record) == ["The traveler is in work, not awaiting final sign-off."]


# --- The print page ---------------------------------------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.50", "Annex 11 §8", "Annex 11 §14")
def test_the_print_page_shows_every_signature_with_name_meaning_and_time(shop, traveler, client):
    traveler = full_history(shop, traveler)
    r = signed_in(client, shop.operator).get(f"/travelers/{traveler.number}/print/")
    assert r.status_code == 200
    html = r.content.decode()
    signatures = list(Signature.objects.exclude(record_type="masterdata.routingchange"))
    assert len(signatures) == 14  # the correction's co-signature included
    register = html[html.index('<table class="register">') :]
    rows = re.findall(r"<tr>.*?</tr>", register, re.S)
    for sig in signatures:  # each on a row of its own: printed name, meaning, time at the site and in UTC
        shown = (
            sig.printed_name,
            f"<td>{sig.get_meaning_display()}</td>",
            records.site_time(sig.signed_at, "America/Chicago"),
            records.utc_time(sig.signed_at),
        )
        assert any(all(part in row for part in shown) for row in rows), sig
    # and beside what they signed: each step's signatures under the step
    step_10 = html[html.index('id="step-10"') : html.index('id="step-20"')]
    assert step_10.count('class="manifestation"') == 3  # performed, the correction of BORE_DIA and its co-signature
    assert '<del class="superseded">12.702 mm</del>' in html and "misread the dial" in html
    assert "PIN-0001" in html and "pin bent on insertion" in html and "PIN-0002" in html
    assert hashlib.sha256(NOTE).hexdigest() in html
    assert "<svg" in html and f"TRAVELER:{traveler.number}" in html  # the QR code and its payload
    assert f'href="/travelers/{traveler.number}/print.pdf"' in html
    assert r["Cache-Control"] == "private, no-store" or "no-store" in r["Cache-Control"]


def test_print_page_queries_do_not_grow_with_the_steps(shop, client, django_assert_num_queries):
    small = long_traveler(shop, 5, "SMALL-1", worked=2)
    large = long_traveler(shop, 50, "LARGE-1", worked=20)
    signed_in(client, shop.operator)
    client.get(f"/travelers/{small.number}/print/")  # warm the per-process caches
    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(f"/travelers/{small.number}/print/").status_code == 200
    with django_assert_num_queries(len(small_queries.captured_queries)):
        r = client.get(f"/travelers/{large.number}/print/")
    assert r.status_code == 200 and r.content.decode().count('class="step"') == 50
    with django_assert_num_queries(len(small_queries.captured_queries)):
        assert client.get(f"/travelers/{large.number}/print.pdf").status_code == 200


@pytest.mark.regulation("21 CFR 11.10(d)")
def test_printing_needs_the_view_permission(shop, traveler, client):
    assert client.get(f"/travelers/{traveler.number}/print/")["Location"].startswith("/station/login/")
    assert client.get(f"/travelers/{traveler.number}/print.pdf")["Location"].startswith("/station/login/")
    signed_in(client, UserFactory(username="visitor"))
    assert client.get(f"/travelers/{traveler.number}/print/").status_code == 403
    assert client.get(f"/travelers/{traveler.number}/print.pdf").status_code == 403
    signed_in(client, shop.operator)
    assert client.get("/travelers/T-9999999/print/").status_code == 404
    assert client.get("/travelers/T-9999999/print.pdf").status_code == 404


# --- The PDF ----------------------------------------------------------------------------------------------------


@pytest.mark.regulation("21 CFR 11.10(b)", "21 CFR 11.50", "Annex 11 §8")
def test_the_pdf_carries_the_signers_names_meanings_and_page_numbers(shop, traveler, client):
    traveler = full_history(shop, traveler)
    r = signed_in(client, shop.inspector).get(f"/travelers/{traveler.number}/print.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"] == f'inline; filename="{traveler.number}.pdf"'
    assert r.content.startswith(b"%PDF-")
    pages = pdf_pages(r.content)
    text = "\n".join(pages)
    for name in ("Olga Smith", "Ines Smith", "Sam Smith"):
        assert name in text
    for meaning in (
        "Performed",
        "Inspected",
        "Corrected",
        "Removed a component",
        "Released a hold",
        "Rejected",
        "Dispositioned",
        "Approved",
    ):
        assert meaning in text, meaning
    assert "Page 1 of" in pages[0]
    total = len(pages)
    for number, page in enumerate(pages, 1):
        assert f"Page {number} of {total}" in page
        assert traveler.number in page and f"TRAVELER:{traveler.number}" in page  # header and QR on each page
    approval = traveler.final_signature
    assert records.site_time(approval.signed_at, "America/Chicago") in text
    assert records.utc_time(approval.signed_at) in text
    assert (
        "misread the dial" in text and "PIN-0001" in text and hashlib.sha256(NOTE).hexdigest() in text.replace("\n", "")
    )


def test_a_long_traveler_runs_over_several_numbered_pages(shop):
    traveler = long_traveler(shop, 50, "LARGE-1", worked=20)
    pages = pdf_pages(printing.traveler_pdf(traveler))  # the archive calls it so, without a request
    assert len(pages) > 3
    assert f"Page {len(pages)} of {len(pages)}" in pages[-1]
    assert "Step 500" in "\n".join(pages)


def test_the_qr_code_is_a_regular_qr_code_with_the_traveler_payload(shop, traveler):
    code = qr.qr_code(f"TRAVELER:{traveler.number}")
    assert not code.is_micro  # tablet scanners read QR codes; many cannot read Micro QR
    assert code.error == "M"
    svg = qr.qr_svg(f"TRAVELER:{traveler.number}")
    assert svg.startswith("<svg") and f"TRAVELER:{traveler.number}" in svg


def test_a_traveler_in_work_prints_too(shop, traveler, client):
    run_to_signoff(shop, traveler)
    r = signed_in(client, shop.operator).get(f"/travelers/{traveler.number}/print/")
    assert r.status_code == 200 and b"not signed" in r.content
    assert "Page 1 of" in pdf_pages(printing.traveler_pdf(traveler))[0]


def test_an_open_traveler_is_marked_not_final_on_every_page_and_a_closed_one_is_not(shop):
    traveler = long_traveler(shop, 50, "LARGE-2", worked=20)
    record = records.traveler_record(traveler)
    pages = pdf_pages(printing.record_pdf(record))
    assert len(pages) > 3 and all("NOT FINAL" in page for page in pages)
    record["traveler"]["status"] = TravelerStatus.CLOSED
    assert not any("NOT FINAL" in page for page in pdf_pages(printing.record_pdf(record)))


def test_the_pdf_renders_the_instructions_markdown_escaped(shop, traveler):
    record = records.traveler_record(traveler)
    record["steps"][0]["instructions"] = (
        "# Set-up\nClamp **firmly**, then *check*.\n\n- gauge `G-12`\n- torque <b>25</b> N·m\n\n1. bore\n2. deburr"
    )
    text = pdf_pages(printing.record_pdf(record))[0]
    assert "Set-up" in text and "Clamp firmly, then check." in text
    assert "gauge G-12" in text and "torque <b>25</b> N·m" in text  # the author's markup stays text
    assert "1. bore" in text and "2. deburr" in text
    assert "**" not in text and "`" not in text and "# Set-up" not in text


def test_the_summary_line_says_each_count_with_its_own_plural():
    summary = {"steps": 1, "steps_done": 1, "values": 3, "out_of_spec": 0, "corrections": 1, "ncrs": 1}
    line = records.summary_text({**summary, "signatures": 2}, done=True)
    assert line == "1 step (1 done) · 3 values · 0 out of spec · 1 correction · 1 NCR · 2 signatures"
    assert "2 NCRs" in records.summary_text({**summary, "ncrs": 2})


def test_the_pdf_is_the_same_bytes_as_with_reportlabs_own_paragraph(shop, traveler, monkeypatch):
    """kit.Paragraph breaks a paragraph's lines once per width; the document must not change by a byte,
    over pages, tables split across them with their header rows repeated, and every kind of record."""
    full_history(shop, traveler)
    long = long_traveler(shop, 50, "LARGE-3", worked=20, drawings=True)
    made = []
    monkeypatch.setattr(rl_config, "invariant", 1)  # no creation time nor random id, as the archive makes it
    for paragraph in (kit.Paragraph, platypus.Paragraph):
        monkeypatch.setattr(sections, "Paragraph", paragraph)
        monkeypatch.setattr(document, "Paragraph", paragraph)
        made.append([printing.record_pdf(records.traveler_record(t, now=t.released_at)) for t in (traveler, long)])
    assert made[0] == made[1] and len(pdf_pages(made[0][1])) > 3


def test_a_paragraph_breaks_its_lines_again_only_at_another_width_or_once_drawn(monkeypatch):
    broken = []
    original = platypus.Paragraph.breakLines
    monkeypatch.setattr(platypus.Paragraph, "breakLines", lambda self, w: broken.append(w) or original(self, w))
    p = kit.Paragraph("a few words to break over lines " * 5, kit.styles()["cell"])
    first = p.wrap(100, 1000)
    assert p.wrap(100, 500) == first and len(broken) == 1  # a table's second wrap, to draw the cell
    assert p.wrap(200, 1000) != first and len(broken) == 2  # another width
    del p.blPara  # as reportlab's split drops the lines when the paragraph moves on
    assert p.wrap(200, 1000) and len(broken) == 3
    canvas = pdf_canvas.Canvas(io.BytesIO())
    p.drawOn(canvas, 0, 0)
    assert p.wrap(200, 1000) and len(broken) == 4  # drawn: wrapped afresh, as reportlab does
