"""NCR disposition on the quality screens: the form, rework rows, use-as-is with engineering, signed,
and a dispositioned NCR's signed disposition."""

from __future__ import annotations

import re

import pytest

from mes.compliance.models import SigningCredential
from tests.travelers.conftest import PASSWORD
from tests.travelers.quality_support import field_group, out_of_spec_ncr, signed_in
from travelers import services
from travelers.models import TravelerStep
from travelers.states import NcrStatus

pytestmark = pytest.mark.django_db


# --- NCR disposition ----------------------------------------------------------------------------------------


def disposition_data(**fields) -> dict:
    data = {
        "disposition": "rework",
        "notes": "re-bore to size",
        "username": "ines",
        "secret": PASSWORD,
        "rework-TOTAL_FORMS": "2",
        "rework-INITIAL_FORMS": "0",
        "rework-MIN_NUM_FORMS": "0",
        "rework-MAX_NUM_FORMS": "20",
        "rework-0-operation": "MACHINING",
        "rework-0-title": "Re-bore the housing",
        "rework-0-instructions": "Bore to 12.700 mm",
        "rework-0-work_center": "CELL-1",
        "rework-1-operation": "",
        "rework-1-title": "",
        "rework-1-instructions": "",
        "rework-1-work_center": "",
    }
    data.update(fields)
    return data


def test_the_disposition_form_offers_dispositions_operations_and_work_centers(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    r = signed_in(client, shop.inspector).get(f"/quality/ncrs/{ncr.number}/")
    assert r.status_code == 200
    html = r.content.decode()
    for value in ("use_as_is", "rework", "repair", "scrap", "rtv"):
        assert f'value="{value}"' in html
    assert 'value="MACHINING"' in html and 'value="CELL-1"' in html
    assert 'name="rework-1-title"' in html and 'type="password"' in html
    assert "I disposition this nonconformance" in html
    assert ncr.description in html and "12.750" in html


def test_a_rework_disposition_adds_the_steps_and_releases_the_hold(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    signed_in(client, shop.inspector)
    r = client.post(f"/quality/ncrs/{ncr.number}/", disposition_data())
    assert r.status_code == 302 and r["Location"] == f"/quality/travelers/{traveler.number}/"
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.CLOSED and ncr.disposition == "rework"
    assert ncr.disposition_signature.printed_name == "Ines Smith"
    added = list(traveler.steps.filter(origin=TravelerStep.Origin.REWORK))
    assert [(s.sequence, s.title, s.operation.code, s.work_center.code) for s in added] == [
        (11, "Re-bore the housing", "MACHINING", "CELL-1")
    ]
    assert added[0].characteristics.get().code == "BORE_DIA"  # measured again
    traveler.refresh_from_db()
    assert not traveler.on_hold
    html = client.get(r["Location"]).content.decode()
    assert "Rework steps added: 11." in html and ncr.disposition_signature.manifestation in html


def test_a_bad_rework_row_is_shown_beside_its_field(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    signed_in(client, shop.inspector)
    data = disposition_data(**{"rework-0-title": "", "rework-1-operation": "ASSEMBLY", "rework-1-title": "Refit"})
    r = client.post(f"/quality/ncrs/{ncr.number}/", data, HTTP_HX_REQUEST="true")
    assert r.status_code == 409
    html = r.content.decode()
    assert "<html" not in html and 'id="ncr-form"' in html
    assert "each rework step needs a title" in re.search(
        r'<label[^>]*for="id_rework-0-title".*?</textarea>', html, re.S
    ).group(0)
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN and not traveler.steps.filter(origin="rework").exists()


def test_a_rework_without_steps_says_so_above_the_rows(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    data = disposition_data(**{"rework-0-operation": "", "rework-0-title": "", "rework-0-instructions": ""})
    r = signed_in(client, shop.inspector).post(f"/quality/ncrs/{ncr.number}/", data)
    assert r.status_code == 409
    assert 'id="rework-error">a rework or repair needs at least one step<' in r.content.decode()


def test_a_wrong_secret_on_a_disposition_is_beside_the_secret_and_counted(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    r = signed_in(client, shop.inspector).post(f"/quality/ncrs/{ncr.number}/", disposition_data(secret="nope"))
    assert r.status_code == 403
    assert "wrong password or PIN" in field_group(r.content.decode(), "id_secret")
    assert SigningCredential.objects.get(user=shop.inspector).failed_attempts == 1
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN


def use_as_is(**fields) -> dict:
    data = disposition_data(disposition="use_as_is", notes="within the drawing's general tolerance", **fields)
    return {k: v for k, v in data.items() if not k.startswith("rework-0-")} | {"rework-TOTAL_FORMS": "0"}


@pytest.mark.regulation("21 CFR 11.10(g)")
def test_use_as_is_by_quality_alone_is_refused_beside_the_engineers_fields(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    inspector = signed_in(client, shop.inspector)

    r = inspector.post(f"/quality/ncrs/{ncr.number}/", use_as_is())

    assert r.status_code == 403
    assert "is a material review board decision" in field_group(r.content.decode(), "id_mrb_username")
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN and ncr.mrb_signature is None

    r = inspector.post(f"/quality/ncrs/{ncr.number}/", use_as_is(mrb_username="ines", mrb_secret=PASSWORD))
    assert r.status_code == 403 and "someone else than you" in field_group(r.content.decode(), "id_mrb_username")

    badge = shop.engineer.profile.employee_number  # the engineer scans their badge
    r = inspector.post(f"/quality/ncrs/{ncr.number}/", use_as_is(mrb_username=badge, mrb_secret=PASSWORD))
    assert r.status_code == 302
    ncr.refresh_from_db()
    assert ncr.mrb_signature.signer == shop.engineer
    assert (ncr.disposition_signature.signer, ncr.disposition) == (shop.inspector, "use_as_is")


def test_adding_a_rework_row_keeps_what_was_typed(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    r = signed_in(client, shop.inspector).post(f"/quality/ncrs/{ncr.number}/", disposition_data(add_row="1"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="rework-2-title"' in html and "Re-bore the housing" in html and "re-bore to size" in html
    ncr.refresh_from_db()
    assert ncr.status == NcrStatus.OPEN


def test_a_dispositioned_ncr_shows_its_signed_disposition(shop, traveler, client):
    ncr = out_of_spec_ncr(shop, traveler)
    services.ncr_disposition(
        ncr=ncr,
        disposition="use_as_is",
        notes="within drawing note 4",
        actor=shop.inspector,
        secret=PASSWORD,
        username=shop.inspector.get_username(),
        mrb_username=shop.engineer.get_username(),
        mrb_secret=PASSWORD,
    )
    html = signed_in(client, shop.inspector).get(f"/quality/ncrs/{ncr.number}/").content.decode()
    assert 'id="ncr-form"' not in html
    assert "Use as is" in html and "within drawing note 4" in html and "Ines Smith" in html and "Dispositioned" in html
