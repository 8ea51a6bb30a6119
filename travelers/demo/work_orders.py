"""The demo's work orders, as the site's legacy MES released them or as created in Traveler; due dates
are days after the demo is first loaded (plain data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkOrderSpec:
    number: str
    site: str
    part: str
    quantity: int
    due_in_days: int
    external_id: str = ""  # its id in the site's legacy MES; empty when created in Traveler

    @property
    def from_legacy(self) -> bool:
        return bool(self.external_id)


WORK_ORDERS: tuple[WorkOrderSpec, ...] = (
    WorkOrderSpec("WO-WIC-10021", "WIC", "7420-101", 8, 7, external_id="10021"),
    WorkOrderSpec("WO-WIC-10022", "WIC", "7420-101", 4, 21, external_id="10022"),
    WorkOrderSpec("WO-WIC-10035", "WIC", "7420-100", 2, 28, external_id="10035"),
    WorkOrderSpec("WO-WIC-90001", "WIC", "7420-100", 1, 14),
    WorkOrderSpec("WO-TLS-20417", "TLS", "5517-210", 6, 10, external_id="OF-20417"),
    WorkOrderSpec("WO-TLS-20418", "TLS", "5517-305", 12, 5, external_id="OF-20418"),
    WorkOrderSpec("WO-TLS-90002", "TLS", "5517-210", 2, 35),
    WorkOrderSpec("WO-QRO-30102", "QRO", "6630-050", 5, 12, external_id="OT-30102"),
    WorkOrderSpec("WO-QRO-30103", "QRO", "BU-0412-06", 500, 4, external_id="OT-30103"),
    WorkOrderSpec("WO-QRO-90003", "QRO", "BU-0412-06", 1000, 30),
)
