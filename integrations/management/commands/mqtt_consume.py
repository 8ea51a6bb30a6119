"""Consume the legacy MES's MQTT topics (work-order releases, machine states) for every enabled inbound
MQTT adapter, until stopped (SIGINT/SIGTERM finish the message in hand, then disconnect).

    manage.py mqtt_consume [--adapter NAME ...] [--seconds N]

Each adapter keeps a persistent session at its broker (client id `traveler-<adapter>`), so messages
published while this command is down are delivered when it comes back; a message is acknowledged only
after it is stored in the inbox. Run one per broker and site (a second copy with the same client id
takes the session over from the first)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from integrations.adapters.mqtt.client import OFF, broker_url
from integrations.adapters.mqtt.consume import consume
from integrations.errors import DeliveryFailed
from integrations.models import Adapter


class Command(BaseCommand):
    help = "Consume work orders and machine states from MQTT (long-running)."

    def add_arguments(self, parser):
        parser.add_argument("--adapter", action="append", default=[], help="Only this adapter (repeatable).")
        parser.add_argument("--seconds", type=float, default=None, help="Stop after this long (for tests, demos).")

    def handle(self, *args, **options):
        adapters = Adapter.objects.select_related("site").filter(kind=Adapter.Kind.MQTT, enabled=True, inbound=True)
        if options["adapter"]:
            adapters = adapters.filter(name__in=options["adapter"])
        adapters = list(adapters.order_by("name"))
        if not adapters:
            raise CommandError("no enabled inbound MQTT adapter: add one in the admin (Integrations → Adapters)")
        off = [a.name for a in adapters if not broker_url(a)]
        if off:
            raise CommandError(f"{OFF} (adapters without a broker: {', '.join(off)})")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        if options["seconds"] is not None:
            timer = threading.Timer(options["seconds"], stop.set)
            timer.daemon = True
            timer.start()
        names = ", ".join(a.name for a in adapters)
        self.stdout.write(f"consuming MQTT for {names}; Ctrl+C stops")
        try:
            handled = consume(adapters, stop, on_outcome=lambda outcome: self.stdout.write(outcome))
        except DeliveryFailed as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"stopped after {handled} message(s)")
