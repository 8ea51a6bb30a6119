"""What the legacy MES does in its tables: the plants it knows, the work orders it releases into
AUFTRAG and VORGANG, and the completions Traveler writes back into RUECKMELDUNG, which it takes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PLANTS = {"WIC": "US10", "TLS": "FR20", "QRO": "MX30"}  # the legacy system's plant codes


@dataclass
class LegacyOrder:
    number: str
    site: str  # Traveler's site code (the legacy system calls it PLANTS[site])
    part: str
    revision: str
    quantity: int
    due: dt.date
    codes: list[str]

    @property
    def plant(self) -> str:
        return PLANTS.get(self.site, self.site)


def next_number(conn) -> str:
    return str(conn.execute("""SELECT nextval('"AUFNR_SEQ"')""").fetchone()[0])


def order_release(conn, order: LegacyOrder) -> None:
    """Write a released order and its operations into the legacy tables, as the legacy MES does."""
    with conn.transaction():
        conn.execute(
            'INSERT INTO "AUFTRAG" ("AUFNR", "WERK", "MATNR", "REV", "MENGE", "ENDTERMIN", "STATUS") '
            "VALUES (%s, %s, %s, %s, %s, %s, 'FREI')",
            [order.number, order.plant, order.part, order.revision, order.quantity, order.due],
        )
        for index, code in enumerate(order.codes, start=1):
            conn.execute(
                'INSERT INTO "VORGANG" ("AUFNR", "VORNR", "ARBGANG") VALUES (%s, %s, %s)',
                [order.number, f"{index * 10:04d}", code],
            )


def completions_accept(conn) -> list[dict]:
    """The completions Traveler wrote back and the legacy MES has not taken yet; marks them taken."""
    with conn.transaction():
        rows = conn.execute(
            'SELECT "BEGLEIT", "AUFNR", "SERNR", "MENGE", "ENDE", "MSGID", '
            '(SELECT count(*) FROM "PRUEFWERT" p WHERE p."BEGLEIT" = r."BEGLEIT") '
            'FROM "RUECKMELDUNG" r WHERE "VERARB" IS NULL ORDER BY "ID" FOR UPDATE'
        ).fetchall()
        conn.execute('UPDATE "RUECKMELDUNG" SET "VERARB" = now() WHERE "VERARB" IS NULL')
    names = ("traveler", "order", "identifier", "quantity", "finished", "message_id", "results")
    return [dict(zip(names, row, strict=True)) for row in rows]
