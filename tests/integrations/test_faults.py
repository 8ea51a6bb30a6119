"""Faults, with the real services of this machine (Mosquitto, Redis, PostgreSQL; skipped on a laptop
without them, required under CI):

- the MQTT broker is down (a dead port): events wait in the outbox; pointed at the live broker, every
  one arrives, once (counted by event id at a subscriber);
- a Celery worker is SIGKILLed in the middle of a work-order import: the import's transaction rolls
  back, the message is handed out again (acks_late), a restarted worker imports it, with no duplicate;
- a Celery worker is SIGKILLed while archiving ten travelers: a restarted worker packages each once, and
  every package verifies.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.conf import settings as django_settings
from django.db import connection

from integrations.archive.models import ArchiveRecord
from integrations.archive.services import archive_verify_many
from integrations.formats.json_orders import MESSAGE_TYPE
from integrations.inbox import inbox_receive
from integrations.models import Adapter, InboxMessage, OutboxDelivery, WorkOrderProvenance
from integrations.relay import relay_drain
from mes.events.models import OutboxMessage
from tests.integrations.sync_support import (
    Subscriber,
    free_port,
    mqtt_adapter,
    require_broker,
    require_redis,
    unique_prefix,
    wait_for,
)
from tests.travelers import conftest as travelers_conftest
from tests.travelers.conftest import PASSWORD, run_to_signoff
from travelers import services
from travelers.models import WorkOrder

shop, traveler = travelers_conftest.shop, travelers_conftest.traveler
ROOT = Path(django_settings.BASE_DIR)


# --- The broker is down ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_faults_mqtt_broker_down_events_wait_then_all_arrive_once(shop, traveler, settings):
    live = require_broker()
    prefix = unique_prefix()
    settings.MQTT_URL = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    adapter = mqtt_adapter(url="", prefix=prefix)  # no URL of its own: MQTT_URL is used
    before = OutboxMessage.objects.count()
    with Subscriber(f"{prefix}/#", url=live) as subscriber:
        down = relay_drain()
        assert down.delivered == 0 and down.failed == before
        services.step_start(step=traveler.steps.get(sequence=10), actor=shop.operator)  # the shop goes on
        assert relay_drain().delivered == 0
        total = OutboxMessage.objects.count()
        assert total > before and OutboxMessage.objects.filter(delivered_at__isnull=True).count() == total
        adapter.refresh_from_db()
        assert adapter.state == "failing" and "unreachable" in adapter.last_error
        assert subscriber.messages == []

        settings.MQTT_URL = live  # the broker is back
        time.sleep(2.1)  # the first retry's backoff (2 s) passes
        up = relay_drain()
        events = subscriber.wait_count(total)
        assert up.delivered == total
        assert relay_drain().delivered == 0  # nothing left to send again
    ids = Counter(event["id"] for event in subscriber.events())
    assert set(ids) == {str(m) for m in OutboxMessage.objects.values_list("message_id", flat=True)}
    assert len(events) == total and set(ids.values()) == {1}  # each event once
    assert OutboxMessage.objects.filter(delivered_at__isnull=True).count() == 0
    assert set(OutboxDelivery.objects.values_list("attempts", flat=True)) == {2}  # refused once, then delivered
    adapter.refresh_from_db()
    assert adapter.state == "ok"


# --- A worker killed mid-import ----------------------------------------------------------------------------

ORDERS = 600


def database_url() -> str:
    """The test database, as a URL the worker subprocess can use (a TCP server or the private one's socket)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{quote(db['NAME'])}"


class Worker:
    """A real Celery worker process (solo pool) on a queue of its own."""

    def __init__(self, broker_url: str, queue: str, log: Path, env: dict | None = None):
        self.broker_url, self.queue, self.log, self.extra_env = broker_url, queue, log, env or {}
        self.process: subprocess.Popen | None = None

    def start(self) -> Worker:
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "DJANGO_SETTINGS_MODULE": "mes.settings",
            "LOG_LEVEL": "WARNING",
            **self.extra_env,
        }
        env.pop("TEST_DATABASE_NAME", None)
        command = [sys.executable, "-m", "celery", "-A", "tests.integrations.fault_worker", "worker"]
        command += ["--pool", "solo", "-Q", self.queue, "--without-gossip", "--without-mingle", "-l", "warning"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


def importing_now() -> bool:
    """True while another session holds work-order rows it inserted but has not committed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'travelers_workorder' AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_faults_worker_killed_mid_import_finishes_after_restart_without_duplicates(shop, tmp_path):
    redis = require_redis()
    adapter = Adapter.objects.create(
        name="legacy-push", kind=Adapter.Kind.REST_INBOUND, site=shop.site, source_system="legacy-wic"
    )
    line = {"part_number": "HSG-1", "part_revision": "A", "quantity": 2, "operations": ["MC-10"]}
    orders = [{"number": f"WO-K{n:05d}", **line} for n in range(ORDERS)]
    payload = json.dumps({"external_id": "REL-BIG", "version": "1", "work_orders": orders})
    message, _ = inbox_receive(
        adapter=adapter, source="test", external_id="REL-BIG", version="1", message_type=MESSAGE_TYPE, payload=payload
    )
    broker_url = f"{redis}/0"
    queue = f"test-faults-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    sender = Celery("test-faults", broker=broker_url)
    first = Worker(broker_url, queue, log).start()
    second = None
    try:
        sender.send_task("integrations.tasks.inbox_process_task", args=[message.pk], queue=queue)
        assert wait_for(importing_now, timeout=60, interval=0.01), log.read_text()[-3000:]
        first.kill()  # SIGKILL in the middle of the import's transaction
        message.refresh_from_db()
        assert message.status == InboxMessage.Status.PENDING and message.attempts == 1
        assert not WorkOrder.objects.filter(number__startswith="WO-K").exists()  # rolled back, all of it

        second = Worker(broker_url, queue, log).start()  # the task comes back: acks_late, never acked

        def processed():
            message.refresh_from_db()
            return message.status == InboxMessage.Status.PROCESSED

        assert wait_for(processed, timeout=120, interval=0.2), log.read_text()[-3000:]
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        sender.close()
    numbers = list(WorkOrder.objects.filter(number__startswith="WO-K").values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == ORDERS
    assert WorkOrderProvenance.objects.filter(message=message).count() == ORDERS
    assert message.attempts == 2 and len(message.produced["work_orders"]) == ORDERS


# --- A worker killed mid-archive ---------------------------------------------------------------------------

ARCHIVED = 10


@pytest.mark.django_db(transaction=True)
def test_faults_worker_killed_mid_archive_leaves_every_traveler_packaged_once(shop, tmp_path, settings):
    """Ten closed travelers go to the data lake through a real worker, SIGKILLed while a package is being
    built; a restarted worker finishes: every traveler has exactly one package, each verifies, nothing
    partial is visible."""
    redis = require_redis()
    lake = tmp_path / "lake"
    settings.DATA_LAKE_URL = str(lake)
    order = services.work_order_create(
        number="WO-ARC", part_revision=shop.part_revision, quantity=ARCHIVED, site=shop.site
    )
    closed = []
    for n in range(ARCHIVED):
        unit = services.traveler_release(work_order=order, identifier=f"SN-A{n:02d}", actor=shop.supervisor)
        run_to_signoff(shop, unit)
        services.traveler_signoff(
            traveler=unit, approve=True, actor=shop.inspector, secret=PASSWORD, username=shop.inspector.username
        )
        closed.append(unit.pk)
    broker_url = f"{redis}/0"
    queue = f"test-archive-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    env = {"DATA_LAKE_URL": str(lake)}
    sender = Celery("test-faults-archive", broker=broker_url)
    first = Worker(broker_url, queue, log, env).start()
    second = None
    try:
        for pk in closed:
            sender.send_task("integrations.archive.tasks.archive_traveler", args=[pk], queue=queue)

        def under_way():  # a package being written aside, or the first one done: the next is being built
            writing = (lake / "_tmp").is_dir() and any((lake / "_tmp").iterdir())
            return writing or (lake / "travelers").is_dir() and any((lake / "travelers").rglob("*.tar"))

        assert wait_for(under_way, timeout=90, interval=0.005), log.read_text()[-3000:]
        first.kill()  # SIGKILL in the middle of the archiving
        killed_at = ArchiveRecord.objects.count()
        second = Worker(broker_url, queue, log, env).start()
        assert wait_for(lambda: ArchiveRecord.objects.count() == ARCHIVED, timeout=180, interval=0.2), log.read_text()[
            -3000:
        ]
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.stop()
        sender.close()
    print(f"killed with {killed_at} of {ARCHIVED} archived")  # for the note
    assert sorted(ArchiveRecord.objects.values_list("traveler_id", flat=True)) == sorted(closed)  # each once
    visible = sorted((lake / "travelers").rglob("*.tar"))
    assert len(visible) == ARCHIVED  # no partial or second package where readers look
    assert all(check.ok for check in archive_verify_many())
