"""Switching operators on a shared tablet: badge + password or signing PIN (counted and locked by
django-axes, saying nothing about whether a badge exists), the idle lock, and the lock button."""

from __future__ import annotations

import time

import pytest
from django.core.signing import get_cookie_signer
from django.test import Client

from mes.compliance import credentials
from mes.compliance.credentials import signing_pin_set
from mes.compliance.errors import SignatureRefused
from mes.compliance.sessions import SEEN_KEY
from tests.travelers.conftest import PASSWORD, step_of
from tests.travelers.support import HX, station_client, text
from travelers import services
from travelers.views.station_common import STATION_COOKIE, STATION_COOKIE_SALT

pytestmark = pytest.mark.django_db

PIN = "482913"


def tablet(work_center: str = "WIC/CELL-1") -> Client:
    """A tablet standing at `work_center`, nobody signed in."""
    client = Client()
    client.cookies[STATION_COOKIE] = get_cookie_signer(salt=STATION_COOKIE + STATION_COOKIE_SALT).sign(work_center)
    return client


def badge_in(client, user_or_badge, secret, *, page="/station/login/", next_url="/"):
    badge = user_or_badge if isinstance(user_or_badge, str) else user_or_badge.profile.employee_number
    return client.post(page, {"badge": badge, "secret": secret, "next": next_url})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_badge_and_signing_pin_open_the_station(shop, traveler):
    signing_pin_set(user=shop.operator, current_password=PASSWORD, new_pin=PIN)
    client = tablet()
    assert client.get("/")["Location"] == "/station/login/?next=%2F"
    page = client.get("/station/login/?next=%2F")
    assert (
        page.status_code == 200 and "Scan your badge" in text(page) and "This tablet stands at WIC/CELL-1" in text(page)
    )
    response = badge_in(client, shop.operator, PIN)
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_user_id(client) == str(shop.operator.pk)
    assert client.session["site_time_zone"] == "America/Chicago"
    # the first signing of this session will ask the user id
    assert not credentials.session_continues(client.session.session_key, shop.operator)
    queue = client.get("/")
    assert queue.status_code == 200 and "SN-0001" in text(queue) and "Olga Smith" in text(queue)


def test_badge_and_password_open_the_station_too(shop):
    client = tablet()
    response = badge_in(client, shop.operator, PASSWORD)
    assert response.status_code == 302 and signed_in_user_id(client) == str(shop.operator.pk)


def test_a_badge_is_read_whatever_case_the_scanner_types(shop):
    client = tablet()
    badge = shop.operator.profile.employee_number.lower()
    assert badge_in(client, badge, PASSWORD).status_code == 302


def test_a_wrong_secret_and_an_unknown_badge_read_the_same(shop):
    signing_pin_set(user=shop.operator, current_password=PASSWORD, new_pin=PIN)
    wrong = badge_in(tablet(), shop.operator, "999999")
    unknown = badge_in(tablet(), "NO-SUCH-BADGE", "999999")
    assert wrong.status_code == unknown.status_code == 403
    assert "Badge or password/PIN not recognised" in text(wrong)
    assert text(wrong).replace(shop.operator.profile.employee_number, "X") == text(unknown).replace(
        "NO-SUCH-BADGE", "X"
    )
    assert 'class="field-error"' in wrong.content.decode()


def test_repeated_wrong_secrets_lock_the_badge_even_for_the_right_pin(shop, settings):
    settings.AXES_FAILURE_LIMIT = 3
    signing_pin_set(user=shop.operator, current_password=PASSWORD, new_pin=PIN)
    client = tablet()
    statuses = [badge_in(client, shop.operator, f"00000{n}").status_code for n in range(3)]
    assert statuses == [403, 403, 429]
    locked = badge_in(client, shop.operator, PIN)
    assert locked.status_code == 429 and "Too many wrong attempts" in text(locked)
    assert "<form" in locked.content.decode()  # our page, not axes' bare lockout text
    assert badge_in(client, shop.operator, PASSWORD).status_code == 429
    assert signed_in_user_id(client) is None
    # an unknown badge locks alike, so the lock tells nothing either
    assert [badge_in(client, "NOBODY-1", "x").status_code for _ in range(4)] == [403, 403, 429, 429]


def test_an_inactive_user_cannot_sign_in_with_their_pin(shop):
    signing_pin_set(user=shop.operator, current_password=PASSWORD, new_pin=PIN)
    shop.operator.is_active = False
    shop.operator.save()
    assert badge_in(tablet(), shop.operator, PIN).status_code == 403


def test_the_next_page_must_be_on_this_site(shop):
    response = badge_in(tablet(), shop.operator, PASSWORD, next_url="https://evil.example/x")
    assert response.status_code == 302 and response["Location"] == "/"


def test_an_idle_session_is_signed_out_and_sent_to_the_lock_page(shop, traveler, settings):
    settings.STATION_IDLE_SECONDS = 60
    client = station_client(shop.operator)
    assert client.get("/").status_code == 200
    session = client.session
    session[SEEN_KEY] = time.time() - 120
    session.save()
    page = f"/station/travelers/{traveler.number}/"
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"] == f"/station/lock/?next=%2Fstation%2Ftravelers%2F{traveler.number}%2F&idle=1"
    assert signed_in_user_id(client) is None
    lock = client.get(response["Location"])
    assert lock.status_code == 200 and "Station locked" in text(lock) and "1 minute without use" in text(lock)
    back = badge_in(client, shop.operator, PASSWORD, page="/station/lock/", next_url=page)
    assert back.status_code == 302 and back["Location"] == page
    assert client.get(page).status_code == 200


def test_an_htmx_request_after_the_idle_time_moves_the_whole_page_to_the_lock(shop, traveler, settings):
    settings.STATION_IDLE_SECONDS = 60
    client = station_client(shop.operator)
    session = client.session
    session[SEEN_KEY] = time.time() - 120
    session.save()
    response = client.get("/station/queue/", HTTP_HX_CURRENT_URL="http://testserver/", **HX)
    assert response["HX-Redirect"] == "/station/lock/?next=%2F&idle=1"
    assert signed_in_user_id(client) is None


def test_the_queue_polling_does_not_keep_an_idle_session_awake(shop, traveler, settings):
    settings.STATION_IDLE_SECONDS = 60
    client = station_client(shop.operator)
    seen = int(time.time()) - 30
    session = client.session
    session[SEEN_KEY] = seen
    session.save()
    assert client.get("/station/queue/", **HX).status_code == 200
    assert client.session[SEEN_KEY] == seen
    assert client.post("/station/alive/").status_code == 204  # the page says the operator is busy on it
    assert client.session[SEEN_KEY] > seen


def test_the_page_carries_the_idle_timer_and_the_lock_button(shop, traveler):
    body = station_client(shop.operator).get("/").content.decode()
    assert 'data-idle-seconds="300"' in body and 'data-alive-url="/station/alive/"' in body
    assert 'id="station-lock-form"' in body and 'action="/station/lock/"' in body


def test_the_idle_timer_lock_says_it_locked_for_want_of_use(shop, traveler):
    client = station_client(shop.operator)
    response = client.post("/station/lock/", {"next": "/", "idle": "1"})
    assert response["Location"] == "/station/lock/?next=%2F&idle=1"
    assert "minutes without use" in text(client.get(response["Location"]))


def test_the_lock_button_signs_out_and_the_tablet_keeps_its_work_center(shop, traveler):
    client = station_client(shop.operator)
    page = f"/station/travelers/{traveler.number}/"
    response = client.post("/station/lock/", {"next": page})
    assert response.status_code == 302
    assert response["Location"] == f"/station/lock/?next=%2Fstation%2Ftravelers%2F{traveler.number}%2F"
    assert signed_in_user_id(client) is None
    lock = client.get(response["Location"])
    assert "This tablet stands at WIC/CELL-1" in text(lock)
    assert "locked and its operator signed out" in text(lock) and "without use" not in text(lock)
    # the next operator badges in and lands where the tablet was
    assert badge_in(client, shop.operator2, PASSWORD, page="/station/lock/", next_url=page)["Location"] == page
    assert signed_in_user_id(client) == str(shop.operator2.pk)


def test_a_new_operator_signs_their_first_step_with_their_user_id(shop, traveler):
    client = station_client(shop.operator)
    step = services.step_start(step=step_of(traveler, 30), actor=shop.operator)  # may run out of order
    services.measurement_record(step=step, characteristic="MARK_OK", value="pass", actor=shop.operator)
    services.step_perform(
        step=step,
        actor=shop.operator,
        secret=PASSWORD,
        username=shop.operator.get_username(),
        session_key=client.session.session_key,
    )
    assert credentials.session_continues(client.session.session_key, shop.operator)
    client.post("/station/lock/")
    badge_in(client, shop.operator2, PASSWORD)
    assert not credentials.session_continues(client.session.session_key, shop.operator2)
    step = services.step_start(step=step_of(traveler, 10), actor=shop.operator2)
    services.measurement_record(step=step, characteristic="BORE_DIA", value="12.7", unit="mm", actor=shop.operator2)
    services.measurement_record(step=step, characteristic="SURFACE", value="pass", actor=shop.operator2)
    with pytest.raises(SignatureRefused, match="type your user id") as refused:
        services.step_perform(
            step=step, actor=shop.operator2, secret=PASSWORD, session_key=client.session.session_key
        )  # the service itself asks, whatever screen or API calls it
    assert refused.value.field == "username"


def test_guesses_at_one_tablet_lock_the_badge_there_only_and_a_guessing_tablet_pauses(shop, settings):
    # Observed: any badge could be locked out by five guesses from any tablet.
    settings.AXES_FAILURE_LIMIT, settings.TABLET_LOGIN_GUESS_LIMIT = 3, 5
    guessing, other = tablet(), Client(REMOTE_ADDR="10.0.0.42")
    other.post("/station/work-center/", {"work_center": "WIC/CELL-1"})
    assert [badge_in(guessing, shop.operator, f"guess-{n}").status_code for n in range(3)] == [403, 403, 429]
    # Her badge still opens every other tablet.
    assert badge_in(other, shop.operator, PASSWORD).status_code == 302
    # The guessing tablet, having run out of guesses over several badges, is paused for any badge.
    assert badge_in(guessing, shop.operator2, "guess-x").status_code == 403
    assert badge_in(guessing, shop.inspector, "guess-y").status_code == 403
    paused = badge_in(guessing, shop.supervisor, PASSWORD)
    assert paused.status_code == 429 and "sign-in is paused here" in text(paused)
