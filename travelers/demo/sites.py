"""The demo's sites with their work centers, the canonical operations, and what each site's legacy MES
calls them (plain data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    time_zone: str
    language: str  # what its people read when they chose no language themselves
    legacy_system: str
    work_centers: tuple[tuple[str, str], ...]  # (code, name)


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        code="WIC",
        name="Wichita – machining and assembly",
        time_zone="America/Chicago",
        language="en",
        legacy_system="legacy-wic",
        work_centers=(
            ("LATHE-01", "CNC lathe cell (Okuma LB3000)"),
            ("MILL-05", "5-axis machining center (DMG Mori)"),
            ("BENCH-02", "Deburr and assembly bench"),
            ("FIN-01", "Finishing line: clean, anodize, prime"),
            ("NDT-01", "Fluorescent penetrant line"),
            ("QC-CMM", "Quality lab, CMM room"),
        ),
    ),
    SiteSpec(
        code="TLS",
        name="Toulouse – pièces de précision",
        time_zone="Europe/Paris",
        language="fr",
        legacy_system="legacy-tls",
        work_centers=(
            ("TOUR-1", "Tour CN (Mazak QT-250)"),
            ("FRAIS-3", "Centre d'usinage 5 axes"),
            ("FOUR-1", "Four de traitement thermique"),
            ("TRAIT-S", "Traitement de surface"),
            ("CND-1", "Contrôle non destructif (ressuage)"),
            ("METRO-1", "Laboratoire de métrologie"),
        ),
    ),
    SiteSpec(
        code="QRO",
        name="Querétaro – componentes",
        time_zone="America/Mexico_City",
        language="es",
        legacy_system="legacy-qro",
        work_centers=(
            ("CNC-T1", "Torno CNC (Haas ST-20)"),
            ("CNC-F2", "Fresadora CNC (Haas VF-2)"),
            ("BANCO-1", "Banco de rebabeo, lavado y marcado"),
            ("REC-1", "Línea de recubrimiento"),
            ("INSP-1", "Laboratorio de inspección"),
        ),
    ),
)

# Canonical operations, and below what each site's legacy MES calls them.
OPERATIONS: tuple[tuple[str, str, str], ...] = (  # (code, name, description)
    ("TURNING", "Turning", "CNC turning of diameters, bores and faces."),
    ("MILLING", "Milling", "CNC milling of faces, pockets, ports and lugs."),
    ("DEBURR", "Deburr", "Removal of burrs and breaking of sharp edges, by hand or by tumbling."),
    ("HEAT-TREAT", "Heat treatment", "Hardening, tempering, ageing or stress relief in a controlled furnace."),
    ("CLEANING", "Cleaning", "Degreasing and washing before inspection or finishing."),
    ("COATING", "Coating", "Anodize, plating, primer or paint applied to a specification."),
    ("NDT-PT", "Penetrant inspection", "Fluorescent penetrant non-destructive testing (ASTM E1417)."),
    ("DIM-INSP", "Dimensional inspection", "Measurement against the drawing by gauge or CMM."),
    ("ASSEMBLY", "Assembly", "Joining components into an assembly."),
    ("TORQUE", "Torque", "Tightening fasteners to a specified torque with a calibrated wrench."),
    ("MARKING", "Marking", "Part number, serial or lot marking and labelling."),
    ("FINAL-INSP", "Final inspection", "Last check of the whole unit or lot before release."),
)

# The same operation, three legacy codes: (WIC, TLS, QRO), keyed by canonical code.
ALIASES: dict[str, tuple[str, str, str]] = {
    "TURNING": ("MC-10", "TOURN", "CNC-A"),
    "MILLING": ("MC-20", "FRAIS", "CNC-B"),
    "DEBURR": ("DB-30", "EBAV", "REBABEO"),
    "HEAT-TREAT": ("HT-40", "TTH", "TT-1"),
    "CLEANING": ("CL-50", "NETT", "LAVADO"),
    "COATING": ("CT1", "Coat1", "Coating-1"),
    "NDT-PT": ("PT-60", "RESS", "LP-1"),
    "DIM-INSP": ("QC-70", "CTRL-DIM", "INSP-DIM"),
    "ASSEMBLY": ("AS-80", "MONT", "ENS-1"),
    "TORQUE": ("TQ-85", "SERR", "APRIETE"),
    "MARKING": ("MK-90", "MARQ", "GRABADO"),
    "FINAL-INSP": ("QC-99", "CTRL-FIN", "INSP-FIN"),
}
ALIAS_SITE_ORDER = ("WIC", "TLS", "QRO")
