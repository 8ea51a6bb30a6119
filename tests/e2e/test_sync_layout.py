"""The supervisor's integration screens at tablet width: the sync status page and the release screen keep
their tables inside their cards (text wraps; nothing scrolls sideways), with long errors and file names."""

from __future__ import annotations

import pytest

from integrations.models import Adapter, OutboxDelivery
from mes.events.models import OutboxMessage
from tests.e2e.screens import PORTRAIT, TABLET_SIZES, assert_fits, sign_in
from travelers import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Every table whose content is wider than the card it sits in (the card would scroll it sideways).
_TOO_WIDE = """() => [...document.querySelectorAll('.card table')]
  .filter(t => t.getClientRects().length && t.scrollWidth > t.parentElement.clientWidth + 1)
  .map(t => `${t.closest('section')?.id || t.className}: ${t.scrollWidth} > ${t.parentElement.clientWidth}`)"""


def tables_wider_than_their_cards(page) -> list[str]:
    found = []
    for width, height in TABLET_SIZES:
        page.set_viewport_size({"width": width, "height": height})
        found += [f"{width}x{height} {t}" for t in page.evaluate(_TOO_WIDE)]
    return found


def test_sync_status_and_release_tables_wrap_at_tablet_width(new_page, shop, traveler):
    drop = Adapter.objects.create(
        name="wic-file-drop-with-a-long-name",
        kind="file_drop",
        site=shop.site,
        source_system="legacy-wic",
        outbound=True,
        state="failing",
        last_error="FileNotFoundError: [Errno 2] No such file or directory: "
        "'/srv/traveler/var/dropbox/wic/outbox/WO-2026-000123_T-0000042_5b0e1c2d3e4f5a6b7c8d9e0f1a2b3c4d.xml'",
    )
    OutboxDelivery.objects.create(
        message=OutboxMessage.objects.order_by("id").first(), adapter=drop, attempts=4, last_error=drop.last_error
    )
    services.work_order_create(
        number="WO-2026-000123-LONG", part_revision=shop.part_revision, quantity=12, site=shop.site
    )
    page = new_page(PORTRAIT)
    sign_in(page, shop.supervisor, path="/integrations/status")
    assert "No such file or directory" in page.content()
    assert tables_wider_than_their_cards(page) == []
    assert_fits(page, "sync-status")
    page.goto("/supervisor/release/")
    assert tables_wider_than_their_cards(page) == []
    assert_fits(page, "release-travelers")
