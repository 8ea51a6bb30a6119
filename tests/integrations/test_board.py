"""The live board: rebuilt from the database, then kept current from the outbox's events, in Redis when
configured and in this process otherwise."""

from __future__ import annotations

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.board import store as board_store_module
from integrations.board.projection import board_rebuild, board_sync
from integrations.board.store import MemoryStore, RedisStore
from tests.conftest import require_service
from tests.integrations.kaizen_support import coat, coating, release  # noqa: F401 - the fixture
from travelers import services

pytestmark = pytest.mark.django_db
REDIS_URL = "redis://127.0.0.1:6379/7"


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        yield MemoryStore()
        return
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping()
    except redis.RedisError:
        require_service("Redis is not on 127.0.0.1:6379")
    s = RedisStore(REDIS_URL)
    s.clear()
    yield s
    s.clear()


def states(store, site) -> dict[str, str]:
    return {row["identifier"]: row["state"] for row in store.site_rows(site)}


def test_board_follows_events_from_release_to_running_to_held(store, coating):  # noqa: F811
    board_rebuild(store)
    assert states(store, "WIC") == {}
    traveler = release(coating, "WIC")
    assert board_sync(store) >= 1
    assert states(store, "WIC") == {traveler.item.identifier: "waiting"}
    step = services.step_start(step=traveler.steps.get(sequence=10), actor=coating.operator)
    board_sync(store)
    assert states(store, "WIC") == {traveler.item.identifier: "running"}
    (row,) = store.site_rows("WIC")
    assert (row["work_center"], row["operation"], row["alias"]) == ("FIN-01", "COATING", "CT1")
    services.measurement_record(step=step, characteristic="COAT_THK", value="40", unit="um", actor=coating.operator)
    board_sync(store)
    assert states(store, "WIC") == {traveler.item.identifier: "held"}
    assert board_sync(store) == 0  # nothing new


def test_an_empty_store_is_rebuilt_from_the_database(store, coating):  # noqa: F811
    coat(coating, "TLS", "9.0")
    assert store.get_cursor() is None
    board_sync(store)
    assert list(states(store, "TLS").values()) == ["running"]
    assert store.get_cursor() is not None


def test_scheduled_next_lists_the_legacy_orders_not_started(store, coating):  # noqa: F811
    site = coating.sites["WIC"]
    services.work_order_create(
        number="WO-LEG-2",
        part_revision=site.order.part_revision,
        quantity=3,
        site=site.site,
        source_system="legacy-wic",
        external_id="10002",
        ordered_operations=["CT1"],
        due_date=site.order.due_date,
    )
    board_rebuild(store)
    assert [o["number"] for o in store.get_next("WIC")] == ["WO-LEG-2"]
    assert store.get_next("WIC")[0]["operations"] == ["CT1"]


def test_the_board_store_is_redis_when_configured_and_in_process_otherwise(settings):
    settings.BOARD_REDIS_URL = ""
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"
    assert board_store_module.board_store().kind == "in-process"
    settings.BOARD_REDIS_URL = REDIS_URL
    assert board_store_module.board_store().kind == "redis"


def test_board_page_renders_work_centers_and_counts(client, coating, settings):  # noqa: F811
    settings.BOARD_REDIS_URL = ""
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"
    board_store_module._memory.clear()
    coat(coating, "WIC", "12.0")
    client.force_login(coating.operator)
    response = client.get("/board/WIC/")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-work-center="FIN-01"' in page and 'data-total="running">1<' in page
    assert client.get("/board/NOPE/").status_code == 404
    partial = client.get("/board/WIC/", headers={"HX-Request": "true"})
    assert "<html" not in partial.content.decode() and 'data-state="running"' in partial.content.decode()


def test_board_page_queries_do_not_grow_with_the_travelers(client, coating, settings):  # noqa: F811

    settings.BOARD_REDIS_URL = ""
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"
    board_store_module._memory.clear()
    client.force_login(coating.operator)
    client.get("/board/")  # builds the store

    def queries_after(releases: int) -> int:
        for _ in range(releases):
            release(coating, "WIC")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/board/", headers={"HX-Request": "true"}).status_code == 200
        return len(ctx)

    one, twelve, none = queries_after(1), queries_after(12), queries_after(0)
    assert one == twelve  # the changed travelers are read in one query, their steps in another
    assert none < one  # nothing new: no traveler is read
