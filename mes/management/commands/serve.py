"""`make run`: migrate, load the demo factory, then serve with gunicorn beside a Celery worker and beat.

Ctrl-C (or SIGTERM) stops every process this command started, the private PostgreSQL included when
this command was the one that started it."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from mes import embedded
from mes.compliance import keys

BANNER_AGAIN_AFTER = 12.0  # seconds: the worker, beat and simulator print their start-up lines by then


def gauges_endpoint(port: int) -> str:
    """The demo's OPC UA gauges: OPCUA_GAUGES_ENDPOINT, else a port that moves with the web port (4840 beside
    8000, 4841 beside 8001…), so two `make run PORT=…` on one machine do not fight over 4840."""
    if os.environ.get("OPCUA_GAUGES_ENDPOINT"):
        return os.environ["OPCUA_GAUGES_ENDPOINT"]
    opcua_port = 4840 + port - 8000
    if not 1024 < opcua_port < 65536 or opcua_port == port:
        opcua_port = 4840
    return f"opc.tcp://127.0.0.1:{opcua_port}/traveler/gauges"


class Command(BaseCommand):
    help = "Migrate, seed the demo factory and serve the app with a Celery worker and beat (make run)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--no-seed", action="store_true", help="Skip loading the demo factory.")
        parser.add_argument("--no-simulator", action="store_true", help="Do not run the legacy MES simulator.")
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", 2)))
        parser.add_argument(
            "--log-level",
            default=os.environ.get("LOG_LEVEL", "WARNING"),
            help="worker, beat and web server log level (default WARNING; INFO shows every task and request)",
        )

    def handle(self, *args, **opts):
        started_db = embedded.started_here
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        call_command("collectstatic", interactive=False, verbosity=0)
        if not opts["no_seed"]:
            call_command("seed_demo")
            call_command("seed_adapters")  # the demo's file drop and legacy-database adapters

        env = os.environ.copy()
        env["DATABASE_URL"] = self._database_url()
        env.update(keys.child_environment())  # the same integrity key in every process
        env.setdefault("TRAVELER_HTTPS", "false")
        python = sys.executable
        bind = f"{opts['host']}:{opts['port']}"
        level = opts["log_level"].upper()
        chatty = level in ("DEBUG", "INFO")
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "mes.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(opts["web_workers"]),
                "--threads",
                "4",
                "--log-level",
                level.lower(),
                *(["--access-logfile", "-"] if chatty else []),  # one line per request only when asked
                "--graceful-timeout",
                "10",
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "mes",
                *([] if chatty else ["--quiet"]),  # celery's own option: no start-up banner unless asked
                "worker",
                "--loglevel",
                level,
                "--concurrency",
                "2",
                "--hostname",
                "traveler@%h",
            ],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "mes",
                "beat",
                "--loglevel",
                level,
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        if settings.MQTT_URL:
            commands["mqtt"] = [python, "manage.py", "mqtt_consume"]
        if not opts["no_simulator"] and not opts["no_seed"]:
            # The legacy MES beside Traveler: releases work orders for a while, then stops by itself.
            commands["simulator"] = [
                *[python, "manage.py", "legacy_sim", "--interval", "30", "--count", "20"],
                *["--gauges-endpoint", gauges_endpoint(opts["port"])],
            ]
        finishes_by_itself = {"simulator"}
        reported: set[str] = set()
        procs: dict[str, subprocess.Popen] = {}
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        # Ctrl-C stops everything even when this was started from a script in the background, which
        # hands its children SIGINT ignored (Python then installs no KeyboardInterrupt of its own).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            for name, cmd in commands.items():
                procs[name] = subprocess.Popen(cmd, env=env, start_new_session=True)
            shown_host = "localhost" if opts["host"] in ("127.0.0.1", "0.0.0.0") else opts["host"]  # noqa: S104
            url = f"http://{shown_host}:{opts['port']}"
            self._wait_until_up(url, procs["web"])
            self._banner(url)
            again_at = time.monotonic() + BANNER_AGAIN_AFTER  # once the workers' start-up lines have passed
            while not stopping:
                if again_at and time.monotonic() >= again_at:
                    again_at = 0.0
                    self._banner(url)
                for name, proc in procs.items():
                    if proc.poll() is None or name in reported:
                        continue
                    if name in finishes_by_itself:  # the demo's simulator is an extra: its end stops nothing
                        reported.add(name)
                        self.stdout.write(f"{name} finished (exit code {proc.returncode}); the app keeps running")
                        continue
                    self.stderr.write(f"{name} exited with code {proc.returncode}; stopping the rest")
                    stopping = True
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stdout.write("stopping web, worker and beat…")
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            if started_db and settings.DATABASE_SOURCE == "embedded":
                connections.close_all()
                embedded.stop()
                self.stdout.write("private PostgreSQL stopped")
        failed = [name for name, proc in procs.items() if proc.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            sys.exit(1)

    def _database_url(self) -> str:
        if settings.DATABASE_SOURCE == "embedded":
            return embedded.ensure_running()
        return os.environ["DATABASE_URL"]

    def _wait_until_up(self, url: str, web: subprocess.Popen) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise SystemExit(f"the web server exited with code {web.returncode}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 - our own loopback URL
                    return
            except OSError as exc:
                if getattr(exc, "code", None):  # an HTTP answer (503): up, but a dependency is down
                    return
                time.sleep(0.5)

    def _banner(self, url: str) -> None:
        logins = io.StringIO()  # the demo lives above mes: it is asked by command name, never imported
        call_command("seed_demo", "--logins", stdout=logins)
        lines = [
            "",
            f"Traveler is running at {url}/  (admin: {url}/admin/, health: {url}/healthz)",
            logins.getvalue().rstrip("\n"),
            f"MQTT: {'on, ' + settings.MQTT_URL if settings.MQTT_URL else 'off (set MQTT_URL to publish events)'}",
            f"Integrations status: {url}/integrations/status   Station: {url}/   Quality: {url}/quality/",
            "Press Ctrl-C to stop the web server, the Celery worker and beat"
            + (" and the private PostgreSQL." if settings.DATABASE_SOURCE == "embedded" else "."),
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()  # a pipe (a script, a test) is block-buffered: the banner must not wait there
