"""The live board in Chromium: open on a wall screen, it shows a unit starting coating at Wichita
without anyone touching it — the event reaches the screen by itself."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.board import store as board_store
from tests.e2e.screens import sign_in
from tests.integrations.kaizen_support import coating, release  # noqa: F401 - the fixture
from travelers import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def in_process_board(settings):
    settings.BOARD_REDIS_URL, settings.CELERY_BROKER_URL = "", "amqp://guest@127.0.0.1//"
    board_store._memory.clear()
    yield
    board_store._memory.clear()


def test_board_updates_after_an_event_without_a_reload(new_page, coating, in_process_board):  # noqa: F811
    page = new_page((1920, 1080))
    sign_in(page, coating.operator, path="/board/WIC/")
    running = page.locator('[data-site="WIC"] [data-total="running"]')
    expect(running).to_have_text("0")
    traveler = release(coating, "WIC")
    queued = page.locator(f'[data-traveler="{traveler.number}"]')
    expect(queued).to_have_attribute("data-state", "waiting")
    services.step_start(step=traveler.steps.get(sequence=10), actor=coating.operator)
    expect(page.locator(f'td.st-running [data-traveler="{traveler.number}"]')).to_be_visible()
    expect(running).to_have_text("1")
    expect(page.locator('tr[data-work-center="FIN-01"]')).to_contain_text(traveler.item.identifier)
