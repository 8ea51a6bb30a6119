"""manage.py generate_history --travelers 1000000 --measurements-per-traveler 10 [--lake DIR]

A realistic large history for measuring the traceability search, in minutes, into an EMPTY scratch
database: it refuses the development database 'traveler' and any database that already has travelers
(bench/trace.py creates and drops one). What it generates, and how, is in integrations/traceability/
history/ (load.generate runs the stages); this command reads the options and checks the database.
--seal-shard i/n (internal) is one of the sealing processes the generator starts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from integrations.traceability.history.load import generate
from integrations.traceability.history.run import HistoryRun
from integrations.traceability.history.sealing import seal_shard
from integrations.traceability.history.shape import sizes
from travelers.models import Traveler


class Command(BaseCommand):
    help = "Generate a large, realistic traveler history into an empty scratch database (for bench/trace.py)."

    def add_arguments(self, parser):
        parser.add_argument("--travelers", type=int, default=100_000)
        parser.add_argument(
            "--seal-workers", type=int, default=2, help="Processes that seal signatures and audit chains (keyed)."
        )
        parser.add_argument("--seal-shard", default="", help=argparse.SUPPRESS)  # i/n: one sealing process
        parser.add_argument("--measurements-per-traveler", type=int, default=10)
        parser.add_argument(
            "--archived-only",
            type=float,
            default=0.1,
            help="Archived travelers no longer live, as a share of --travelers.",
        )
        parser.add_argument("--lake", default="", help="Write those travelers' measurement facts (Parquet) here.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--years", type=int, default=6, help="How far back the history goes.")

    def handle(self, *args, **opts):
        self.start = time.perf_counter()
        if opts["seal_shard"]:
            return seal_shard(opts["seal_shard"], self._say)
        name = connection.settings_dict["NAME"]
        if name == "traveler":
            raise CommandError("refusing to fill the development database 'traveler': use a scratch database")
        if Traveler.objects.exists():
            raise CommandError(f"database {name} already has travelers: generate into an empty scratch database")
        now = timezone.now().replace(microsecond=0)
        travelers, block, families = sizes(opts["travelers"])
        run = HistoryRun(
            n=travelers,
            block=block,
            families=families,
            m=max(1, min(opts["measurements_per_traveler"], 75)),  # at most 15 characteristics a step
            rng=random.Random(opts["seed"]),
            now=now,
            origin=now - dt.timedelta(days=365 * opts["years"]),
            say=self._say,
        )
        self._say(f"generating {run.n:,} travelers × {run.m} values into {name}")
        generate(run, archived_only=opts["archived_only"], lake=opts["lake"], seal_workers=opts["seal_workers"])

    def _say(self, text: str) -> None:
        self.stdout.write(f"[{time.perf_counter() - self.start:7.1f} s] {text}")
        self.stdout.flush()
