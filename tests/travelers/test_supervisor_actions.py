"""A supervisor's actions on screen: place and release a hold, skip a step, re-plan; each refused to whoever
lacks its permission, each refusal a page that names the error with nothing saved, each success audited."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mes.compliance.models import AuditEvent, Signature
from mes.masterdata.services import routing_new_revision
from tests.factories import release_routing
from tests.travelers.conftest import PASSWORD
from tests.travelers.support import station_client
from travelers import services
from travelers.models import Hold, Traveler, TravelerStep

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)  # django-axes is installed: never client.login
    return client


def url(traveler, tail: str = "") -> str:
    return f"/supervisor/travelers/{traveler.number}/{tail}"


def actions(traveler) -> list[str]:
    return list(
        AuditEvent.objects.filter(chain=f"traveler:{traveler.pk}")
        .exclude(action__startswith="signature.")
        .order_by("seq")
        .values_list("action", flat=True)
    )


def signed(user, **data) -> dict:
    """A signing form's fields: the first signing of the session gives the user id as well."""
    return {"username": user.get_username(), "secret": PASSWORD, **data}


# --- The page ------------------------------------------------------------------------------------------------


def test_the_traveler_page_offers_each_action_the_supervisor_may_take(shop, traveler, client):
    html = signed_in(client, shop.supervisor).get(url(traveler)).content.decode()
    assert f"Traveler {traveler.number}" in html
    assert "Place a hold" in html and "Sign: skip the step" in html
    assert html.count('action="/supervisor/travelers/' + traveler.number + "/steps/") == 4  # every pending step
    assert "Re-plan" not in html  # it follows the released routing already
    assert "/supervisor/signers/" in html


@pytest.mark.parametrize("user", ["operator", "inspector"])
def test_operators_and_inspectors_get_403_on_the_page_and_every_action(shop, traveler, client, user):
    signed_in(client, getattr(shop, user))
    hold = services.hold_place(traveler=traveler, reason="check", actor=shop.supervisor)
    assert client.get(url(traveler)).status_code == 403
    for tail in ("hold/", f"holds/{hold.pk}/release/", "steps/10/skip/", "replan/"):
        assert client.post(url(traveler, tail), {"reason": "x", "secret": PASSWORD}).status_code == 403
    assert Hold.objects.filter(traveler=traveler).count() == 1
    assert not TravelerStep.objects.filter(traveler=traveler, status="skipped").exists()


def test_an_engineer_may_look_but_not_hold_or_skip(shop, traveler, client):
    signed_in(client, shop.engineer)
    html = client.get(url(traveler)).content.decode()
    assert "Place a hold" not in html and "Sign: skip the step" not in html
    assert client.post(url(traveler, "hold/"), {"reason": "look"}).status_code == 403
    assert client.post(url(traveler, "steps/10/skip/"), signed(shop.engineer, reason="x")).status_code == 403
    assert not Hold.objects.exists()


def test_anonymous_goes_to_sign_in_and_an_unknown_traveler_is_404(shop, traveler, client):
    assert client.get(url(traveler))["Location"].startswith("/station/login/")
    assert client.post(url(traveler, "hold/"), {"reason": "x"})["Location"].startswith("/station/login/")
    signed_in(client, shop.supervisor)
    assert client.get("/supervisor/travelers/T-9999999/").status_code == 404
    assert client.post("/supervisor/travelers/T-9999999/hold/", {"reason": "x"}).status_code == 404
    assert client.post(url(traveler, "holds/999999/release/"), signed(shop.supervisor, reason="x")).status_code == 404
    assert client.post(url(traveler, "steps/99/skip/"), signed(shop.supervisor, reason="x")).status_code == 404


def test_a_traveler_is_found_by_its_number(shop, traveler, client):
    signed_in(client, shop.supervisor)
    response = client.get("/supervisor/travelers/", {"number": f" {traveler.number.lower()} "})
    assert response["Location"] == url(traveler)
    assert client.get("/supervisor/travelers/")["Location"] == "/supervisor/"


# --- Holds -----------------------------------------------------------------------------------------------------


def test_a_supervisor_places_a_hold_and_releases_it_signed(shop, traveler, client):
    signed_in(client, shop.supervisor)
    response = client.post(url(traveler, "hold/"), {"reason": "  burr on the flange  "})
    assert response.status_code == 302 and response["Location"] == url(traveler)
    traveler.refresh_from_db()
    hold = traveler.holds.get()
    assert traveler.on_hold and hold.reason == "burr on the flange" and hold.placed_by == shop.supervisor
    page = client.get(url(traveler)).content.decode()
    assert "is on hold" in page and "burr on the flange" in page and "Release this hold" in page
    assert "cannot be skipped" in page and "Sign: skip the step" not in page

    response = client.post(url(traveler, f"holds/{hold.pk}/release/"), signed(shop.supervisor, reason="deburred"))
    assert response.status_code == 302
    hold.refresh_from_db()
    traveler.refresh_from_db()
    assert not traveler.on_hold and hold.released_by == shop.supervisor and hold.release_reason == "deburred"
    assert hold.release_signature.meaning == Signature.Meaning.RELEASED
    assert hold.release_signature.signer == shop.supervisor
    assert actions(traveler)[-2:] == ["traveler.held", "traveler.hold_released"]
    page = client.get(url(traveler)).content.decode()
    assert "Hold released. Signed:" in page and hold.release_signature.manifestation in page


def test_a_hold_without_a_reason_is_refused_beside_the_field(shop, traveler, client):
    response = signed_in(client, shop.supervisor).post(url(traveler, "hold/"), {"reason": "   "})
    assert response.status_code == 422
    assert "This field is required." in response.content.decode()
    traveler.refresh_from_db()
    assert not traveler.on_hold and not Hold.objects.exists()


def test_a_wrong_secret_releases_nothing_and_says_why(shop, traveler, client):
    hold = services.hold_place(traveler=traveler, reason="check", actor=shop.supervisor)
    signed_in(client, shop.supervisor)
    response = client.post(
        url(traveler, f"holds/{hold.pk}/release/"), {**signed(shop.supervisor, reason="ok"), "secret": "wrong"}
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert 'role="alert"' in html and f'id="hold-{hold.pk}"' in html
    hold.refresh_from_db()
    assert hold.released_at is None and not Signature.objects.filter(meaning="released").exists()


def test_a_release_without_a_reason_is_refused_and_the_form_stays_open(shop, traveler, client):
    hold = services.hold_place(traveler=traveler, reason="check", actor=shop.supervisor)
    response = signed_in(client, shop.supervisor).post(
        url(traveler, f"holds/{hold.pk}/release/"), signed(shop.supervisor, reason="")
    )
    assert response.status_code == 422
    assert "<details open>" in response.content.decode()
    hold.refresh_from_db()
    assert hold.released_at is None


def test_an_ncr_hold_is_not_released_here_it_points_to_the_disposition(shop, traveler, client):
    ncr = services.ncr_raise(traveler=traveler, description="dent", actor=shop.operator)
    hold = ncr.holds.get()
    signed_in(client, shop.supervisor)
    html = client.get(url(traveler)).content.decode()
    assert f"This hold ends when {ncr.number} is dispositioned." in html and "Release this hold" not in html
    response = client.post(url(traveler, f"holds/{hold.pk}/release/"), signed(shop.supervisor, reason="fine"))
    assert response.status_code == 409
    assert f"this hold ends when {ncr.number} is dispositioned" in response.content.decode()
    hold.refresh_from_db()
    assert hold.released_at is None


# --- Skipping and re-planning ------------------------------------------------------------------------------


def test_a_supervisor_skips_a_step_with_a_reason_and_a_signature(shop, traveler, client):
    signed_in(client, shop.supervisor)
    response = client.post(url(traveler, "steps/30/skip/"), signed(shop.supervisor, reason="marked at the vendor"))
    assert response.status_code == 302
    step = traveler.steps.get(sequence=30)
    assert step.status == "skipped" and step.skip_reason == "marked at the vendor"
    assert step.skip_signature.meaning == Signature.Meaning.SKIPPED and step.skip_signature.signer == shop.supervisor
    assert actions(traveler)[-1] == "step.skipped"
    html = client.get(url(traveler)).content.decode()
    assert "Step 30 skipped. Signed:" in html
    assert all(f"/steps/{n}/skip/" in html for n in (10, 20, 40)) and "/steps/30/skip/" not in html


def test_a_skip_without_a_reason_or_of_a_done_step_is_refused(shop, traveler, client):
    signed_in(client, shop.supervisor)
    response = client.post(url(traveler, "steps/10/skip/"), signed(shop.supervisor, reason=" "))
    assert response.status_code == 422 and traveler.steps.get(sequence=10).status == "pending"
    client.post(url(traveler, "steps/10/skip/"), signed(shop.supervisor, reason="not needed"))
    response = client.post(url(traveler, "steps/10/skip/"), {"secret": PASSWORD, "reason": "again"})
    assert response.status_code == 409
    assert "step 10 is skipped; it cannot become skipped" in response.content.decode()
    assert actions(traveler).count("step.skipped") == 1


def test_a_held_travelers_step_is_not_skipped(shop, traveler, client):
    services.hold_place(traveler=traveler, reason="check", actor=shop.supervisor)
    response = signed_in(client, shop.supervisor).post(
        url(traveler, "steps/20/skip/"), signed(shop.supervisor, reason="x")
    )
    assert response.status_code == 409 and "is on hold" in response.content.decode()
    assert traveler.steps.get(sequence=20).status == "pending"


def new_revision(shop):
    return release_routing(routing=routing_new_revision(routing=shop.routing))


def test_a_supervisor_replans_onto_the_new_released_routing_signed(shop, traveler, client):
    new = new_revision(shop)
    signed_in(client, shop.supervisor)
    html = client.get(url(traveler)).content.decode()
    assert f"Re-plan onto r{new.revision}" in html
    response = client.post(url(traveler, "replan/"), signed(shop.supervisor, reason="new fixture", routing=new.pk))
    assert response.status_code == 302
    traveler = Traveler.objects.get(pk=traveler.pk)
    assert traveler.routing == new
    assert traveler.replans.get().signature.meaning == Signature.Meaning.REPLANNED
    assert "traveler.replanned" in actions(traveler)
    assert f"re-planned onto routing r{new.revision}" in client.get(url(traveler)).content.decode()


def test_a_replan_is_refused_without_a_reason_or_onto_a_routing_not_shown(shop, traveler, client):
    new = new_revision(shop)
    signed_in(client, shop.supervisor)
    response = client.post(url(traveler, "replan/"), signed(shop.supervisor, reason="", routing=new.pk))
    assert response.status_code == 422
    response = client.post(url(traveler, "replan/"), signed(shop.supervisor, reason="x", routing=shop.routing.pk))
    assert response.status_code == 409 and "Another routing was released" in response.content.decode()
    response = client.post(url(traveler, "replan/"), signed(shop.supervisor, reason="x", routing="abc"))
    assert response.status_code == 422
    assert Traveler.objects.get(pk=traveler.pk).routing == shop.routing
    assert not traveler.replans.exists()


def test_a_replan_with_nothing_to_replan_onto_is_refused(shop, traveler, client):
    response = signed_in(client, shop.supervisor).post(
        url(traveler, "replan/"), signed(shop.supervisor, reason="x", routing=shop.routing.pk)
    )
    assert response.status_code == 409
    assert "no other released routing" in response.content.decode()


def test_the_page_queries_do_not_grow_with_the_holds(shop, traveler, client, django_assert_num_queries):
    signed_in(client, shop.supervisor)
    services.hold_place(traveler=traveler, reason="first", actor=shop.supervisor)
    client.get(url(traveler))
    with CaptureQueriesContext(connection) as one:
        client.get(url(traveler))
    for n in range(4):
        services.hold_place(traveler=traveler, reason=f"more {n}", actor=shop.supervisor)
    with django_assert_num_queries(len(one.captured_queries)):
        html = client.get(url(traveler)).content.decode()
    assert html.count("Release this hold") == 5


def test_the_station_screen_leads_a_supervisor_to_the_actions(shop, traveler):
    link = f'href="{url(traveler)}"'
    assert link in station_client(shop.supervisor).get(f"/station/travelers/{traveler.number}/").content.decode()
    assert link not in station_client(shop.operator).get(f"/station/travelers/{traveler.number}/").content.decode()
