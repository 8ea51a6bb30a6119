"""`manage.py legacy_sim`: run the legacy MES simulator (integrations/sim/legacy/) for a while.

It creates its database (legacy_mes on Traveler's PostgreSQL server, or $LEGACY_DB_URL), releases work
orders — Toulouse's into its tables, Wichita's as B2MML files in the file-drop inbox, Querétaro's as
V0600 ERP exports in Querétaro's file-drop inbox when that adapter exists — one per site at once, then
one every --interval seconds, takes the completions Traveler sends back, and stops by itself: after --count
releases, after --duration seconds, or at once with --once. It runs the OPC UA gauge and machine
simulators alongside (machines only when MQTT_URL is set).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import threading
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from psycopg import conninfo

from integrations.adapters.file_drop import Impl
from integrations.models import Adapter
from integrations.sim.gauges import serve_gauges
from integrations.sim.legacy.database import LEGACY_ENV, legacy_dsn, schema_create
from integrations.sim.legacy.history import history_generate
from integrations.sim.legacy.orders import PLANTS
from integrations.sim.legacy.simulator import LegacySimulator
from integrations.sim.machines import publish_machine_states

DEFAULT_GAUGES_ENDPOINT = "opc.tcp://127.0.0.1:4840/traveler/gauges"


def _thread(target, *args) -> threading.Thread:
    def run():
        result = target(*args)
        if inspect.isawaitable(result):
            asyncio.run(result)

    thread = threading.Thread(target=run, name=getattr(target, "__name__", "sim"), daemon=True)
    thread.start()
    return thread


def file_drop_folders(site: str) -> tuple[Path, Path]:
    """(inbox, outbox) of the site's file-drop adapter, else var/dropbox/<site>/{inbox,outbox}."""
    adapter = Adapter.objects.filter(kind=Adapter.Kind.FILE_DROP, site__code=site).order_by("pk").first()
    root = Path(settings.VAR_DIR) / "dropbox" / site.lower()
    if adapter is None:
        return root / "inbox", root / "outbox"
    impl = Impl(adapter)
    return impl.folder("inbox", root / "inbox"), impl.folder("outbox", root / "outbox")


class Command(BaseCommand):
    help = "Run the legacy MES simulator: release work orders over time, take completions back."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=20.0, help="seconds between releases (20)")
        parser.add_argument("--count", type=int, default=10, help="work orders to release, then stop (10)")
        parser.add_argument("--duration", type=float, help="run this many seconds, then stop")
        parser.add_argument("--once", action="store_true", help="release one order per channel, take completions, stop")
        parser.add_argument("--inbox", help="file-drop inbox folder (default: the WIC file-drop adapter's)")
        parser.add_argument("--outbox", help="file-drop outbox folder to take performance documents from")
        parser.add_argument("--no-files", action="store_true", help="release through the database only")
        parser.add_argument("--no-db", action="store_true", help="release B2MML files only")
        parser.add_argument("--unmapped-every", type=int, default=0, help="every Nth order carries an unmapped code")
        parser.add_argument("--seed", type=int, help="random seed (repeatable runs)")
        parser.add_argument(
            "--history",
            type=int,
            metavar="N",
            help="write N historical inspection results per site into PRUEFHIST (the legacy MES's own history, "
            "read by manage.py warehouse_refresh), then stop",
        )
        parser.add_argument("--no-gauges", action="store_true", help="do not start the OPC UA gauge simulator")
        parser.add_argument("--no-machines", action="store_true", help="do not start the MQTT machine simulator")
        parser.add_argument(
            "--gauges-endpoint",
            default=os.environ.get("OPCUA_GAUGES_ENDPOINT", DEFAULT_GAUGES_ENDPOINT),
            help="OPC UA endpoint of the simulated gauges",
        )

    def handle(self, *args, **options):
        if options["no_files"] and options["no_db"]:
            raise CommandError("--no-files and --no-db leave nothing to release")
        dsn = legacy_dsn()
        where = conninfo.conninfo_to_dict(dsn)
        self.stdout.write(
            f"legacy MES database: {where.get('dbname')} on {where.get('host') or 'localhost'} (${LEGACY_ENV})"
        )
        if options["history"] is not None:
            schema_create(dsn)
            with psycopg.connect(dsn, autocommit=True) as conn:
                for site in PLANTS:
                    written = history_generate(conn, site=site, count=options["history"], seed=options["seed"] or 17)
                    self.stdout.write(f"legacy MES: {written} historical result(s) of {site} in PRUEFHIST")
            return
        inbox, outbox = file_drop_folders("WIC")
        inbox = Path(options["inbox"]) if options["inbox"] else inbox
        outbox = Path(options["outbox"]) if options["outbox"] else outbox
        erp_sites = {}
        if not options["no_files"] and Adapter.objects.filter(kind=Adapter.Kind.FILE_DROP, site__code="QRO").exists():
            erp_sites["QRO"] = file_drop_folders("QRO")[0]
        simulator = LegacySimulator(
            dsn=dsn,
            inbox=None if options["no_files"] else inbox,
            outbox=outbox,
            erp_sites=erp_sites,
            db_site=None if options["no_db"] else "TLS",
            unmapped_every=options["unmapped_every"],
            seed=options["seed"],
            out=self.stdout.write,
        )
        stop = threading.Event()
        previous = self._on_signals(stop)
        threads = self._peripherals(stop, options)
        try:
            released = simulator.run(
                interval=options["interval"],
                count=options["count"],
                duration=options["duration"],
                once=options["once"],
                stop_event=stop,
            )
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        self.stdout.write(f"legacy MES simulator stopped: {released} work order(s) released.")

    def _on_signals(self, stop: threading.Event) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.getsignal(sig)
            signal.signal(sig, lambda *_: stop.set())
        return previous

    def _peripherals(self, stop: threading.Event, options) -> list[threading.Thread]:
        threads = []
        if not options["no_gauges"]:
            threads.append(_thread(serve_gauges, options["gauges_endpoint"], stop))
            self.stdout.write(f"OPC UA gauges at {options['gauges_endpoint']}")
        if not options["no_machines"]:
            mqtt_url = os.environ.get("MQTT_URL", "")
            if not mqtt_url:
                self.stdout.write("machine states not published: MQTT_URL is not set")
            else:
                threads.append(_thread(publish_machine_states, mqtt_url, list(PLANTS), stop))
                self.stdout.write(f"machine states published to {mqtt_url}")
        return threads
