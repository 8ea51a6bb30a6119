"""The files the legacy MES exchanges through a file drop: the B2MML schedules it drops (V0401, V0500,
V0700, and Querétaro's ERP-style V0600), written under a temporary name then renamed, and the
performance documents Traveler leaves in the outbox, which it takes."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

from lxml import etree

from integrations import b2mml

from .orders import LegacyOrder

LEGACY_SYSTEM_NAME = "LEGACY-MES"
VERSIONS = ("V0401", "V0500", "V0700")


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def schedule_document(orders: list[LegacyOrder], version: str = "V0700", *, now: dt.datetime | None = None) -> bytes:
    """The B2MML schedule the legacy MES drops for `orders`, valid against the schema of its version:
    V0401/V0500 SyncProductionSchedule (MaterialProducedRequirement with a Revision property),
    V0700 SyncOperationsSchedule, or V0600 as a Querétaro-style ERP export — a bare ProductionSchedule,
    the route as segments nested in an order-level product segment, quantities in PCS and no revision
    (the part's current released revision applies)."""
    now = now or dt.datetime.now(dt.UTC)
    ns = b2mml.NAMESPACE_OF[version]
    production = version in ("V0401", "V0500", "V0600")
    family = "Production" if production else "Operations"
    erp_style = version == "V0600"

    def el(parent, name, text=None):
        node = etree.SubElement(parent, f"{{{ns}}}{name}")
        if text is not None:
            node.text = str(text)
        return node

    def scope(parent, plant):
        node = el(parent, "Location" if version in ("V0401", "V0500") else "HierarchyScope")
        el(node, "EquipmentID", plant)
        el(node, "EquipmentElementLevel", "Site")

    def produced(parent, order):
        material = el(parent, "MaterialProducedRequirement" if production else "MaterialRequirement")
        el(material, "MaterialDefinitionID", order.part)
        if not production:
            el(material, "MaterialUse", "Produced")
        quantity = el(material, "Quantity")
        el(quantity, "QuantityString", order.quantity)
        el(quantity, "DataType", "integer")
        el(quantity, "UnitOfMeasure", "PCS" if erp_style else "EA")
        if not erp_style:
            prop = el(material, f"{material.tag.split('}')[1]}Property")
            el(prop, "ID", "Revision")
            value = el(prop, "Value")
            el(value, "ValueString", order.revision)
            el(value, "DataType", "string")
            el(value, "UnitOfMeasure")

    if erp_style:
        root = schedule = etree.Element(f"{{{ns}}}ProductionSchedule", nsmap={None: ns})
        el(schedule, "ID", f"SCHED-{now:%Y%m%d%H%M%S}")
    else:
        root = etree.Element(f"{{{ns}}}Sync{family}Schedule", nsmap={None: ns}, releaseID=version.lstrip("V"))
        area = el(root, "ApplicationArea")
        el(el(area, "Sender"), "LogicalID", LEGACY_SYSTEM_NAME)
        el(area, "CreationDateTime", _iso(now))
        data_area = el(root, "DataArea")
        el(data_area, "Sync")
        schedule = el(data_area, f"{family}Schedule")
        el(schedule, "ID", f"SCHED-{now:%Y%m%d%H%M%S}")
    if not production or erp_style:
        el(schedule, "PublishedDate", _iso(now))
    for order in orders:
        request = el(schedule, f"{family}Request")
        el(request, "ID", order.number)
        el(request, "Description", f"{order.quantity} x {order.part} rev {order.revision}")
        scope(request, order.plant)
        el(request, "StartTime", _iso(now))
        el(request, "EndTime", f"{order.due.isoformat()}T16:00:00Z")
        if erp_style:  # the order itself is a product segment holding the route's operations
            top = el(request, "SegmentRequirement")
            el(top, "ID", "0000")
            el(top, "ProductSegmentID", order.part)
            produced(top, order)
            for index, code in enumerate(order.codes):
                segment = el(top, "SegmentRequirement")
                el(segment, "ID", f"{(index + 1) * 10:04d}")
                el(segment, "ProcessSegmentID", code)
            continue
        last = len(order.codes) - 1
        for index, code in enumerate(order.codes):
            segment = el(request, "SegmentRequirement")
            el(segment, "ID", f"{(index + 1) * 10:04d}")
            el(segment, "ProcessSegmentID" if production else "OperationsSegmentID", code)
            if index == last:
                produced(segment, order)
        if not order.codes:
            produced(el(request, "SegmentRequirement"), order)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def drop_file(folder: Path, name: str, data: bytes) -> Path:
    """Drop a file the way a careful legacy system does: written under a temporary name, then renamed."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    target = folder / name
    os.replace(tmp, target)
    return target


def performance_files_accept(outbox: Path) -> list[tuple[Path, list[str]]]:
    """Performance documents in the file-drop outbox: read (the travelers they report), then moved to
    outbox/accepted/ — nothing is deleted."""
    if not outbox.is_dir():
        return []
    accepted = []
    for path in sorted(outbox.glob("*.xml")):
        try:
            root = b2mml.parse_xml(path.read_bytes())
            ns = etree.QName(root).namespace
            responses = [f"{{{ns}}}OperationsResponse/{{{ns}}}ID", f"{{{ns}}}ProductionResponse/{{{ns}}}ID"]
            travelers = [e.text for xpath in responses for e in root.findall(f".//{xpath}") if e.text]
        except b2mml.B2mmlError as exc:
            travelers = [f"unreadable ({exc})"]
        (outbox / "accepted").mkdir(exist_ok=True)
        target = outbox / "accepted" / path.name
        shutil.move(str(path), str(target))
        accepted.append((target, travelers))
    return accepted
