"""Work orders reach the floor: releasing a work order's travelers (serials typed or from the site's
numbering rule, lots with quantities), the supervisor's release screen, and a scan of an order that has
no traveler yet."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mes.masterdata import services as md
from tests.factories import PartRevisionFactory, release_routing
from tests.travelers.support import HX, station_client, text
from travelers import selectors, services
from travelers.errors import NotAuthorized, ReleaseRefused
from travelers.models import Item, NumberingRule, Traveler, WorkOrder

pytestmark = pytest.mark.django_db


def rule(shop, pattern="{site}-{yy}-{seq:04d}", part=None, next_value=1):
    return NumberingRule.objects.create(site=shop.site, part=part, pattern=pattern, next_value=next_value)


def lot_order(shop, quantity=50, number="WO-L1"):
    routing = md.routing_create_draft(part_revision=shop.bush_part.revisions.get())
    md.routing_step_add(
        routing=routing, sequence=10, operation=shop.ops["machining"], work_center=shop.wc, title="Turn"
    )
    release_routing(routing=routing)
    return services.work_order_create(
        number=number, part_revision=shop.bush_part.revisions.get(), quantity=quantity, site=shop.site
    )


def numbers(order) -> list[str]:
    return sorted(Item.objects.filter(work_order=order).values_list("identifier", flat=True))


# --- The service -------------------------------------------------------------------------------------------


def test_a_work_order_is_released_whole_numbered_by_the_sites_rule(shop):
    rule(shop, next_value=7)
    Item.objects.create(
        part=shop.part_revision.part,
        part_revision=shop.part_revision,
        tracking="serial",
        identifier=f"WIC-{selectors_yy()}-0008",
        quantity=1,
        quantity_available=1,
    )  # taken
    travelers = services.work_order_release(work_order=shop.order, actor=shop.supervisor)
    yy = selectors_yy()
    assert [t.item.identifier for t in travelers] == [f"WIC-{yy}-0007", *(f"WIC-{yy}-{n:04d}" for n in range(9, 13))]
    assert NumberingRule.objects.get().next_value == 13
    assert all(t.steps.count() == 4 for t in travelers)  # each on the released routing
    with pytest.raises(ReleaseRefused, match="every traveler of work order WO-1 is released already"):
        services.work_order_release(work_order=shop.order, actor=shop.supervisor)


def selectors_yy() -> str:
    return f"{timezone.localdate().year % 100:02d}"


def test_a_part_rule_wins_over_the_site_rule(shop):
    rule(shop)
    rule(shop, pattern="H{seq:03d}", part=shop.part_revision.part)
    travelers = services.work_order_release(work_order=shop.order, actor=shop.supervisor, serials=None)
    assert travelers[0].item.identifier == "H001"


def test_serials_given_are_used_and_the_rest_waits(shop):
    travelers = services.work_order_release(work_order=shop.order, actor=shop.supervisor, serials=["A-1", "A-2"])
    assert [t.item.identifier for t in travelers] == ["A-1", "A-2"]
    assert selectors.released_quantity(shop.order) == 2


def test_a_refused_release_releases_nothing(shop):
    services.traveler_release(work_order=shop.order, identifier="A-2", actor=shop.supervisor)
    with pytest.raises(ReleaseRefused, match="serial number A-2 already exists"):
        services.work_order_release(work_order=shop.order, actor=shop.supervisor, serials=["A-1", "A-2"])
    assert numbers(shop.order) == ["A-2"]  # A-1 was not kept either
    with pytest.raises(ReleaseRefused, match="5 serial numbers, but only 4 EA remain"):
        services.work_order_release(work_order=shop.order, actor=shop.supervisor, serials=list("BCDEF"))
    with pytest.raises(ReleaseRefused, match="there is no numbering rule for HSG-1 at WIC: give the serial numbers"):
        services.work_order_release(work_order=shop.order, actor=shop.supervisor)
    with pytest.raises(NotAuthorized):
        services.work_order_release(work_order=shop.order, actor=shop.operator, serials=["X-1"])
    assert numbers(shop.order) == ["A-2"]


def test_lots_are_released_with_their_quantities(shop):
    order = lot_order(shop, quantity=50)
    rule(shop, pattern="L{seq:05d}")
    first, second = services.work_order_release(
        work_order=order, actor=shop.supervisor, lots=[("L-0412", Decimal(30)), (None, Decimal(15))]
    )
    assert (first.item.identifier, first.item.quantity, second.item.identifier, second.item.quantity) == (
        "L-0412",
        30,
        "L00001",
        15,
    )
    with pytest.raises(ReleaseRefused, match="the lots add up to 6 EA, but only 5 EA remain"):
        services.work_order_release(work_order=order, actor=shop.supervisor, lots=[("L-X", Decimal(6))])
    (last,) = services.work_order_release(work_order=order, actor=shop.supervisor)  # one lot of what remains
    assert (last.item.identifier, last.item.quantity) == ("L00002", 5)


def test_cancelled_travelers_do_not_count_as_released(shop):
    rule(shop)
    services.work_order_release(work_order=shop.order, actor=shop.supervisor, serials=["A-1", "A-2"])
    services.work_order_change(work_order=shop.order, quantity=1)  # A-2 cancelled
    services.work_order_change(work_order=shop.order, quantity=3)
    travelers = services.work_order_release(work_order=shop.order, actor=shop.supervisor)
    assert len(travelers) == 2 and selectors.released_quantity(WorkOrder.objects.get(pk=shop.order.pk)) == 3


# --- The supervisor's screen --------------------------------------------------------------------------------


def page(client, **params):
    return client.get("/supervisor/release/", params)


def test_released_orders_without_travelers_are_listed_and_released_there(shop, client):
    rule(shop)
    services.work_order_create(number="WO-2", part_revision=shop.part_revision, quantity=2, site=shop.site)
    client.force_login(shop.supervisor)
    response = page(client)
    assert response.status_code == 200
    shown = text(response)
    assert "WO-1" in shown and "WO-2" in shown and "0 / 5 EA" in shown
    response = client.post(
        "/supervisor/release/", {"work_order": "WO-2", f"wo-{WorkOrder.objects.get(number='WO-2').pk}-serials": ""}
    )
    assert response.status_code == 302
    follow = client.get(response["Location"])
    assert re.search(r"Work order WO-2: released T-\d+ \(WIC-\d\d-0001\), T-\d+ \(WIC-\d\d-0002\)", text(follow))
    assert "WO-2" not in text(follow).split("Waiting for travelers")[1]
    assert Traveler.objects.filter(work_order__number="WO-2").count() == 2


def test_a_refusal_is_shown_beside_the_order_and_nothing_is_released(shop, client):
    client.force_login(shop.supervisor)
    field = f"wo-{shop.order.pk}-serials"
    response = client.post("/supervisor/release/", {"work_order": "WO-1", field: ""})
    assert response.status_code == 409
    assert "there is no numbering rule for HSG-1 at WIC" in text(response)
    response = client.post("/supervisor/release/", {"work_order": "WO-1", field: "S1\nS2\nS3\nS4\nS5\nS6"})
    assert response.status_code == 409 and "6 serial numbers, but only 5 EA remain" in text(response)
    assert 'class="field-error"' in response.content.decode()
    assert "S1\nS2" in response.content.decode()  # what was typed is kept
    assert not Traveler.objects.exists()


def test_lots_typed_badly_are_refused_with_the_line(shop, client):
    order = lot_order(shop)
    client.force_login(shop.supervisor)
    response = client.post("/supervisor/release/", {"work_order": order.number, f"wo-{order.pk}-lots": "L-1 ten"})
    assert response.status_code == 422 and "Line 1: “ten” is not a positive quantity." in text(response)
    response = client.post("/supervisor/release/", {"work_order": order.number, f"wo-{order.pk}-lots": "L-1 20\n30"})
    assert response.status_code == 409 and "there is no numbering rule for BUSH-1" in text(response)
    assert not Traveler.objects.exists()


def test_the_route_difference_and_a_missing_routing_are_shown(shop, client):
    shop.order.ordered_operations = ["MACHINING", "INSPECTION"]
    shop.order.save()
    services.work_order_create(
        number="WO-NR",
        part_revision=PartRevisionFactory(part=shop.part_revision.part, revision="B"),
        quantity=1,
        site=shop.site,
    )
    client.force_login(shop.supervisor)
    shown = text(page(client))
    assert (
        "Route differs: the order lists MACHINING, INSPECTION; routing r1 has MACHINING, ASSEMBLY, MARKING, "
        "INSPECTION; not in the order: ASSEMBLY, MARKING" in shown
    )
    assert "No released routing" in shown


def test_only_supervisors_see_the_release_screen(shop, client):
    assert page(client)["Location"].startswith("/station/login/")
    client.force_login(shop.operator)
    assert page(client).status_code == 403
    assert client.post("/supervisor/release/", {"work_order": "WO-1"}).status_code == 403


def test_release_screen_queries_do_not_grow_with_the_orders(shop, client, django_assert_num_queries):
    client.force_login(shop.supervisor)
    page(client)
    with CaptureQueriesContext(connection) as one:
        page(client)
    for n in range(2, 8):
        services.work_order_create(number=f"WO-{n}", part_revision=shop.part_revision, quantity=n, site=shop.site)
    with django_assert_num_queries(len(one.captured_queries)):
        html = page(client).content.decode()
    assert html.count('name="work_order"') == 7


# --- The station ---------------------------------------------------------------------------------------------


def test_scanning_an_order_without_travelers_says_who_releases_them(shop):
    response = station_client(shop.operator).get("/station/scan/", {"code": "wo-1"}, **HX)
    assert response.status_code == 404
    assert "Work order WO-1 has no traveler yet: a supervisor releases its travelers" in text(response)
