"""The shape of the generated factory: its size per block of travelers, the kinds of part and their share,
the sites and operations (with each site's own code), the characteristics per operation, and the big
tables the load fills."""

from __future__ import annotations

BLOCK = 1000
KINDS = (("lot", 100), ("pin", 450), ("sub", 300), ("asm", 150))  # per BLOCK travelers
SMALLEST_BLOCK = 20  # every kind at least once a block, and pins enough for the sub-assemblies and assemblies
FAMILIES = 20
SITES = (
    ("WIC", "Wichita", "America/Chicago"),
    ("TLS", "Toulouse", "Europe/Paris"),
    ("HAM", "Hamburg", "Europe/Berlin"),
)
OPERATIONS = (  # code, name, alias at WIC, TLS, HAM
    ("MACHINING", "Machining", "MC-10", "Usin", "Fraes-1"),
    ("COATING", "Coating", "CT1", "Coat1", "Coating-1"),
    ("ASSEMBLY", "Assembly", "AS-1", "Assy", "Montage"),
    ("INSPECTION", "Inspection", "IN-1", "Insp", "Pruef"),
    ("MARKING", "Marking", "MK-1", "Marq", "Beschr"),
)
CHARACTERISTICS = {  # per operation: (code, nominal, tolerance ±, unit)
    "MACHINING": [("BORE_DIA", "12.700", "0.013", "mm"), ("LENGTH", "80.00", "0.10", "mm")],
    "COATING": [("THICK", "30", "10", "um"), ("ADHESION", "12", "3", "MPa")],
    "ASSEMBLY": [("TORQUE", "25", "2", "N*m"), ("GAP", "0.50", "0.10", "mm")],
    "INSPECTION": [("FLATNESS", "0.020", "0.020", "mm"), ("ROUGHNESS", "0.8", "0.4", "um")],
    "MARKING": [("MARK_DEPTH", "0.15", "0.05", "mm"), ("MARK_WIDTH", "0.30", "0.10", "mm")],
}


def sizes(travelers: int) -> tuple[int, int, int]:
    """(travelers, block size, part families) of a run asked for `travelers`: blocks of BLOCK, or for
    fewer than ten blocks' worth ten smaller blocks (SMALLEST_BLOCK at least), so that a small run too
    has its newest block in work and the older ones closed, consumed and archived; FAMILIES part families,
    or one a block when there are fewer blocks (a block is of one family: the others would go unused)."""
    block = max(SMALLEST_BLOCK, min(BLOCK, travelers // 10))
    travelers = max(block, travelers // block * block)
    return travelers, block, min(FAMILIES, travelers // block)


def kind_counts(block: int) -> tuple[tuple[str, int], ...]:
    """How many travelers of each kind a block of `block` holds: KINDS' shares, the remainder pins."""
    counts = [(kind, count * block // BLOCK) for kind, count in KINDS]
    rest = block - sum(count for _, count in counts)
    return tuple((kind, count + rest if kind == "pin" else count) for kind, count in counts)


BIG_TABLES = (
    "travelers_item",
    "travelers_traveler",
    "travelers_workorder",
    "travelers_travelerstep",
    "travelers_travelercharacteristic",
    "travelers_measurement",
    "travelers_consumption",
    "travelers_nonconformance",
    "compliance_signature",
    "archive_archiverecord",
)
