"""LegacySimulator: the legacy MES at work over time — it releases the demo's work orders through its
database (Toulouse), as B2MML files (Wichita) and as ERP exports (Querétaro), in turn, and takes the
completions that come back; bounded, it stops by itself (`manage.py legacy_sim`)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from travelers.demo.parts import PARTS
from travelers.demo.sites import ALIAS_SITE_ORDER, ALIASES

from .database import schema_create
from .documents import LEGACY_SYSTEM_NAME, VERSIONS, drop_file, performance_files_accept, schedule_document
from .orders import LegacyOrder, completions_accept, next_number, order_release

UNMAPPED_CODES = {"WIC": "CT2", "TLS": "Coat2", "QRO": "Coating-2"}  # codes nobody has mapped yet


def demo_orders_for(site: str) -> list[tuple[str, str, list[str]]]:
    """(part, revision, the site's operation codes along its routing) for each demo part made at `site`."""
    column = ALIAS_SITE_ORDER.index(site)
    return [
        (part.number, part.revision, [ALIASES[step.operation][column] for step in part.steps])
        for part in PARTS
        if part.site == site
    ]


class LegacySimulator:
    """Releases work orders over time — through the database for `db_site`, as B2MML files for
    `file_site` (V0401, V0500, V0700 in turn) and for each of `erp_sites` (site -> inbox folder: the
    V0600 ERP export, no revision) — and takes the completions that come back. The first round releases
    one order per channel at once, so every site has work within seconds; then one every interval.
    Bounded: `run` stops by itself."""

    def __init__(
        self,
        *,
        dsn: str,
        inbox: Path | None,
        outbox: Path | None,
        db_site: str | None = "TLS",
        file_site: str | None = "WIC",
        erp_sites: dict[str, Path] | None = None,
        versions: tuple[str, ...] = VERSIONS,
        unmapped_every: int = 0,
        seed: int | None = None,
        out: Callable[[str], None] = print,
    ):
        self.dsn, self.inbox, self.outbox = dsn, inbox, outbox
        self.db_site, self.file_site = db_site, (file_site if inbox is not None else None)
        self.erp_sites = dict(erp_sites or {})
        self.versions = versions
        self.unmapped_every = unmapped_every
        self.random = random.Random(seed)  # noqa: S311 - simulated data, not security
        self.out = out
        self.released = 0

    def setup(self) -> None:
        schema_create(self.dsn)

    def _order(self, conn, site: str) -> LegacyOrder:
        part, revision, codes = self.random.choice(demo_orders_for(site))
        codes = list(codes)
        if self.unmapped_every and (self.released + 1) % self.unmapped_every == 0:
            codes[self.random.randrange(len(codes))] = UNMAPPED_CODES.get(site, "XX-1")
        lot = part == "BU-0412-06"
        return LegacyOrder(
            number=next_number(conn),
            site=site,
            part=part,
            revision=revision,
            quantity=self.random.randint(50, 200) if lot else self.random.randint(1, 5),
            due=dt.date.today() + dt.timedelta(days=self.random.randint(5, 20)),
            codes=codes,
        )

    def channels(self) -> list[str]:
        """The sites orders are released for, in turn."""
        return [s for s in (self.db_site, self.file_site, *self.erp_sites) if s]

    def release_one(self) -> str:
        """Release the next work order, taking the channels in turn (database, file drop, ERP files)."""
        sites = self.channels()
        if not sites:
            raise ValueError("nothing to release: no database site and no file-drop inbox")
        site = sites[self.released % len(sites)]
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            order = self._order(conn, site)
            if site == self.db_site:
                order_release(conn, order)
                where = f"table AUFTRAG (plant {order.plant}, status FREI)"
            else:
                if site in self.erp_sites:
                    folder, version = self.erp_sites[site], "V0600"
                else:
                    folder, version = self.inbox, self.versions[(self.released // len(sites)) % len(self.versions)]
                name = f"{LEGACY_SYSTEM_NAME}_{order.plant}_{order.number}_{version}.xml"
                path = drop_file(folder, name, schedule_document([order], version))
                where = f"file {path}"
        self.released += 1
        self.out(
            f"legacy MES: released order {order.number}: {order.quantity} x {order.part} rev {order.revision}, "
            f"due {order.due}, operations {' '.join(order.codes)} -> {where}"
        )
        return order.number

    def accept(self) -> int:
        """Take the completions that came back; log them. Returns how many."""
        count = 0
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for c in completions_accept(conn):
                count += 1
                self.out(
                    f"legacy MES: completion of order {c['order']}: traveler {c['traveler']}, {c['identifier']}, "
                    f"qty {c['quantity']}, finished {c['finished']}, {c['results']} result(s), "
                    f"message {c['message_id']}"
                )
        if self.outbox is not None:
            for path, travelers in performance_files_accept(self.outbox):
                count += 1
                self.out(f"legacy MES: performance document {path.name}: traveler(s) {', '.join(travelers)}")
        return count

    def run(self, *, interval: float, count: int, duration: float | None, once: bool, stop_event) -> int:
        """Release up to `count` orders, one every `interval` seconds, accepting completions between;
        with `once`, release one order per channel and accept once; stops after `duration` seconds
        when given (still accepting completions after the last release), or at `stop_event`."""
        self.setup()
        if once:
            for _ in self.channels():
                self.release_one()
            self.accept()
            return self.released
        deadline = time.monotonic() + duration if duration else None
        first_round = len(self.channels())
        while not stop_event.is_set():
            if self.released < count:
                self.release_one()
                if self.released < min(first_round, count):
                    continue  # the first round: one order per channel at once
            self.accept()
            if deadline is None and self.released >= count:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            wait = interval if deadline is None else max(0.0, min(interval, deadline - time.monotonic()))
            stop_event.wait(wait)
        return self.released
