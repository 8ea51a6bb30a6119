"""Every screen, in each language, at both tablet sizes: nothing scrolls sideways, axe finds no serious or
critical WCAG 2.2 AA violation, and a screenshot of each is saved (artifacts/e2e/screens/<lang>/).

A language is one more entry in LANGUAGES: the browser then asks for it (Accept-Language and
navigator.language) and every screen is walked again in it."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from integrations.models import Adapter, Checkpoint, InboxMessage, OutboxDelivery
from mes.compliance.roles import roles_sync
from mes.events.models import OutboxMessage
from mes.masterdata.models import RoutingStep
from tests.e2e.a11y import serious_violations
from tests.e2e.screens import ARTIFACTS, LANDSCAPE, PORTRAIT, horizontal_overflow, sign_in
from tests.factories import UserFactory
from tests.travelers.conftest import run_to_signoff
from travelers import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "fr", "es"]
SIZES = {"landscape": LANDSCAPE, "portrait": PORTRAIT}


@pytest.fixture
def tour(shop, traveler):
    """A shop with a traveler awaiting sign-off (quality review, trace), one waiting at the station, an
    administrator for the admin screens."""
    run_to_signoff(shop, traveler)
    waiting = services.traveler_release(work_order=shop.order, identifier="SN-0002", actor=shop.supervisor)
    roles_sync()
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin", is_staff=True, is_superuser=True)
    admin.groups.add(Group.objects.get(name="Administrator"))
    adapter = Adapter.objects.create(name="wic-legacy-db", kind="legacy_db", site=shop.site, source_system="legacy-wic")
    Checkpoint.objects.create(adapter=adapter, key="work_orders", value="2026-12-01T00:00:00+00:00")
    long_error = (
        "FileNotFoundError: [Errno 2] No such file or directory: "
        "'/srv/traveler/var/dropbox/wic/outbox/WO-2026-000123_T-0000042_5b0e1c2d3e4f5a6b7c8d9e0f1a2b3c4d.xml'"
    )
    InboxMessage.objects.create(
        adapter=adapter,
        idempotency_key="legacy-wic:WO-2026-000777-LONG-ORDER-NUMBER:1",
        source="wo_export_2026-12-01T21:11:31Z_batch-000042.csv",
        external_id="WO-2026-000777-LONG-ORDER-NUMBER",
        message_type="csv.work_orders",
        payload="number,part\nWO-2026-000777-LONG-ORDER-NUMBER,NOPE-1",
        payload_sha256="0" * 64,
        received_at=timezone.now(),
        status=InboxMessage.Status.DEAD,
        attempts=3,
        reason="unknown part NOPE-1 for site WIC: add it to the master data or map its code, then reprocess",
    )
    OutboxDelivery.objects.create(
        message=OutboxMessage.objects.order_by("id").first(),
        adapter=adapter,
        attempts=9,
        last_error=long_error,
        first_failed_at=timezone.now(),
        dead_at=timezone.now(),
    )
    return {"done": traveler, "waiting": waiting, "admin": admin, "adapter": adapter}


def check_screen(page, name: str, lang: str, problems: list[str]) -> None:
    """Save the screen and note what is wrong with it (sideways scroll, axe findings) into `problems`."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    folder = ARTIFACTS / "screens" / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}-{width}x{height}.png", full_page=True, animations="disabled")
    shown_in = page.evaluate("document.documentElement.lang")
    if "/admin/" not in page.url and shown_in != lang:  # the admin is Django's own page
        problems.append(f"{name}: the page is in {shown_in!r}, the browser asked for {lang!r}")
    wide = horizontal_overflow(page)
    if wide > 0:
        problems.append(f"{name} at {width}x{height}: scrolls sideways by {wide} px")
    problems += [f"{name} at {width}x{height}: {v}" for v in serious_violations(page)]


def visit(page, path: str, name: str, lang: str, problems: list[str]) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{name}: {path} answered {response and response.status}"
    check_screen(page, name, lang, problems)


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_screen_fits_the_tablet_and_passes_axe(new_page, shop, tour, lang, size):
    problems: list[str] = []
    done, waiting = tour["done"], tour["waiting"]

    operator = new_page(size, lang=lang)
    sign_in(operator, shop.operator)
    operator.get_by_role("button", name="CELL-1").click()
    check_screen(operator, "station-queue", lang, problems)
    visit(operator, f"/station/travelers/{waiting.number}/", "station-traveler", lang, problems)
    visit(operator, f"/station/travelers/{waiting.number}/steps/10/", "station-step", lang, problems)
    operator.locator("#start-form button[type=submit]").click()
    visit(operator, f"/station/travelers/{waiting.number}/steps/10/sign/", "station-sign", lang, problems)

    inspector = new_page(size, lang=lang)
    sign_in(inspector, shop.inspector, path="/quality/")
    check_screen(inspector, "quality-queue", lang, problems)
    visit(inspector, f"/quality/travelers/{done.number}/", "quality-review", lang, problems)
    visit(inspector, "/audit/", "audit-trail", lang, problems)
    visit(inspector, f"/trace/?q={done.item.identifier}", "trace-search", lang, problems)
    visit(inspector, f"/trace/items/{done.item_id}/", "trace-item", lang, problems)
    visit(inspector, "/trace/recall/?characteristic=BORE_DIA", "trace-recall", lang, problems)

    supervisor = new_page(size, lang=lang)
    sign_in(supervisor, shop.supervisor, path="/supervisor/")
    check_screen(supervisor, "supervisor-overview", lang, problems)
    visit(supervisor, "/supervisor/release/", "supervisor-release", lang, problems)
    visit(supervisor, "/supervisor/spc/", "supervisor-spc", lang, problems)
    visit(supervisor, "/integrations/status", "integrations-status", lang, problems)

    admin = new_page(size, lang=lang)
    sign_in(admin, tour["admin"], path="/audit/")
    visit(admin, "/admin/travelers/workorder/", "admin-work-orders", lang, problems)
    visit(admin, f"/admin/integrations/adapter/{tour['adapter'].pk}/change/", "admin-adapter", lang, problems)
    step = RoutingStep.objects.filter(characteristics__isnull=False).order_by("pk").first()
    visit(admin, f"/admin/masterdata/routing/{step.routing_id}/change/", "admin-routing", lang, problems)
    visit(admin, f"/admin/masterdata/routingstep/{step.pk}/change/", "admin-routing-step", lang, problems)

    assert not problems, "\n".join(problems)
