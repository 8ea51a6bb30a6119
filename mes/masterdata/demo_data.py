"""The demo factory: Meridian Aerostructures, three sites that name the same work differently.

Plain data only (no model imports); `manage.py seed_demo` loads it. Dates are offsets from the day the
demo is first loaded, so a fresh demo always has work due next week and one lapsed qualification.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from decimal import Decimal

# One password for every demo user. It passes the validators in settings (length, common, numeric,
# similarity to the usernames below); it is printed on the `make run` banner, so never reuse it.
DEMO_PASSWORD = "shopfloor-demo-2026"  # noqa: S105 - published on purpose, demo only

OPERATOR_SIGNS = "operator"
INSPECTOR_BUYS_OFF = "operator+inspector"


def md(text: str) -> str:
    """Work instructions written indented in this file, stored flush-left as Markdown."""
    return inspect.cleandoc(text)


# --- Sites and work centers -------------------------------------------------------------------------


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

# --- Canonical operations and what each site's legacy MES calls them --------------------------------

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

# --- Characteristics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CharSpec:
    code: str
    name: str
    kind: str = "numeric"
    unit: str = ""
    nominal: Decimal | None = None
    lower_limit: Decimal | None = None
    upper_limit: Decimal | None = None
    decimals: int = 3
    choices: tuple[str, ...] = ()
    required: bool = True
    on_out_of_spec: str = "hold"

    def as_kwargs(self) -> dict:
        """Keyword arguments for services.characteristic_add."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit,
            "nominal": self.nominal,
            "lower_limit": self.lower_limit,
            "upper_limit": self.upper_limit,
            "decimals": self.decimals,
            "choices": list(self.choices),
            "required": self.required,
            "on_out_of_spec": self.on_out_of_spec,
        }


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def num(
    code: str,
    name: str,
    unit: str,
    *,
    nominal: str | None = None,
    low: str | None = None,
    high: str | None = None,
    decimals: int = 3,
    warn: bool = False,
) -> CharSpec:
    return CharSpec(
        code=code,
        name=name,
        unit=unit,
        nominal=_dec(nominal),
        lower_limit=_dec(low),
        upper_limit=_dec(high),
        decimals=decimals,
        on_out_of_spec="warn" if warn else "hold",
    )


def pass_fail(code: str, name: str) -> CharSpec:
    return CharSpec(code=code, name=name, kind="pass_fail")


def choice(code: str, name: str, answers: tuple[str, ...]) -> CharSpec:
    return CharSpec(code=code, name=name, kind="choice", choices=answers)


def photo(code: str, name: str, *, required: bool = True) -> CharSpec:
    return CharSpec(code=code, name=name, kind="attachment", required=required)


def text(code: str, name: str) -> CharSpec:
    return CharSpec(code=code, name=name, kind="text")


BORE_12_700 = {"nominal": "12.700", "low": "12.687", "high": "12.713"}  # Ø 12.700 ±0.013 mm
PENETRANT_INDICATION = ("none", "linear", "rounded")


# --- Instruction drawings (generated, so no binary file lives in the repository) --------------------


@dataclass(frozen=True)
class DrawingSpec:
    title: str
    # At most 19 characters: StepAttachment.file keeps 100, of which the SHA-256 folder takes 81;
    # a longer name is truncated and given a random suffix by the storage.
    filename: str
    content: bytes
    content_type: str = "image/svg+xml"


def section_drawing_svg(*, part_number: str, revision: str, view: str, bore_label: str, note: str) -> bytes:
    """A small, deterministic SVG section through a bored body, with the bore dimensioned."""
    svg = f"""<svg xmlns="http://www.w3.org/2000/svg" width="480" height="300" viewBox="0 0 480 300"
     font-family="DejaVu Sans, Arial, sans-serif" font-size="12">
  <title>{part_number} rev {revision} – {view}</title>
  <defs>
    <pattern id="hatch" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
      <line x1="0" y1="0" x2="0" y2="8" stroke="#333" stroke-width="1"/>
    </pattern>
    <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8"
            orient="auto-start-reverse">
      <path d="M0,0 L10,5 L0,10 z" fill="#000"/>
    </marker>
  </defs>
  <rect x="0.5" y="0.5" width="479" height="299" fill="#fff" stroke="#000"/>
  <rect x="120" y="50" width="240" height="65" fill="url(#hatch)" stroke="#000" stroke-width="2"/>
  <rect x="120" y="165" width="240" height="65" fill="url(#hatch)" stroke="#000" stroke-width="2"/>
  <line x1="100" y1="140" x2="380" y2="140" stroke="#000" stroke-dasharray="18 4 3 4"/>
  <line x1="360" y1="115" x2="415" y2="115" stroke="#000"/>
  <line x1="360" y1="165" x2="415" y2="165" stroke="#000"/>
  <line x1="405" y1="115" x2="405" y2="165" stroke="#000" marker-start="url(#arrow)" marker-end="url(#arrow)"/>
  <text x="412" y="144" font-weight="bold">{bore_label}</text>
  <text x="240" y="40" text-anchor="middle" font-weight="bold">{view}</text>
  <line x1="0" y1="250" x2="480" y2="250" stroke="#000"/>
  <text x="12" y="270">{part_number} rev {revision}</text>
  <text x="12" y="288" font-size="10">{note}</text>
  <text x="468" y="288" font-size="10" text-anchor="end">Dimensions in mm · Meridian Aerostructures</text>
</svg>
"""
    return svg.encode("utf-8")


HOUSING_BORE_DRAWING = DrawingSpec(
    title="Section A-A: actuator bore",
    filename="section-A-A.svg",
    content=section_drawing_svg(
        part_number="7420-101",
        revision="C",
        view="SECTION A-A",
        bore_label="Ø12.700 ±0.013",
        note="Bore Ra 0.8 max. Break edges 0.2–0.5. Remove all burrs.",
    ),
)
VALVE_SEAT_DRAWING = DrawingSpec(
    title="Section B-B: valve seat bore",
    filename="section-B-B.svg",
    content=section_drawing_svg(
        part_number="6630-050",
        revision="D",
        view="SECTION B-B",
        bore_label="Ø12.700 ±0.013",
        note="Seat bore concentric to datum A within 0.02. No tool marks across the seat.",
    ),
)


# --- Parts and their routings -----------------------------------------------------------------------


@dataclass(frozen=True)
class StepSpec:
    sequence: int
    operation: str  # canonical operation code
    work_center: str  # code of a work center at the part's site
    title: str
    instructions: str
    signoff: str = OPERATOR_SIGNS
    may_run_out_of_order: bool = False
    characteristics: tuple[CharSpec, ...] = ()
    drawings: tuple[DrawingSpec, ...] = ()
    consumes: tuple[tuple[str, str], ...] = ()  # (part number, quantity) this step installs


@dataclass(frozen=True)
class PartSpec:
    number: str
    name: str
    revision: str
    site: str  # where it is made: its routing uses that site's work centers
    description: str
    drawing_number: str
    routing_description: str
    steps: tuple[StepSpec, ...]
    tracking: str = "serial"
    customer: str = ""
    revision_note: str = ""  # what this engineering revision changed
    made_from: tuple[str, ...] = field(default=())  # part numbers consumed (an assembly)


ACTUATOR_HOUSING = PartSpec(
    number="7420-101",
    revision_note="Rev C: bore tolerance tightened to ±0.013, primer added.",
    name="Actuator housing",
    revision="C",
    site="WIC",
    customer="Aerolis Aircraft",
    description="Flap actuator housing, 7075-T7351 aluminium plate, anodized and primed.",
    drawing_number="D7420-101",
    routing_description="Machine, penetrant-inspect and finish the actuator housing.",
    steps=(
        StepSpec(
            sequence=10,
            operation="TURNING",
            work_center="LATHE-01",
            title="Turn OD and finish the actuator bore",
            instructions=md("""
                1. Load the blank in the soft jaws; indicate the OD within **0.01 mm**.
                2. Run program `O7420` (rough, then finish with a fresh insert).
                3. Measure the bore with the **air gauge** at three depths; record the largest reading.

                See *Section A-A* attached for the bore dimension and finish.
            """),
            characteristics=(
                num("BORE_DIA", "Actuator bore Ø", "mm", **BORE_12_700),
                num("OD_DIA", "Outside Ø", "mm", nominal="38.100", low="38.075", high="38.125"),
            ),
            drawings=(HOUSING_BORE_DRAWING,),
        ),
        StepSpec(
            sequence=20,
            operation="MILLING",
            work_center="MILL-05",
            title="Mill mounting flange and hydraulic ports",
            instructions=md("""
                - Fixture on pallet **P-12**, bore on the locating pin.
                - Program `O7421`: flange, two ports, lightening pockets.
                - Check the flange with the micrometer at four places.
            """),
            characteristics=(
                num("FLANGE_THK", "Flange thickness", "mm", nominal="6.350", low="6.300", high="6.400"),
                num("SURF_RA", "Flange surface roughness Ra", "um", high="1.6", decimals=2, warn=True),
            ),
        ),
        StepSpec(
            sequence=30,
            operation="DEBURR",
            work_center="BENCH-02",
            title="Deburr and break edges",
            instructions=md("""
                Break all edges **0.2–0.5 mm**. Port intersections: use the ball-end deburr tool only.
                No burrs, raised metal or scratches in the bore.
            """),
            characteristics=(pass_fail("EDGES_OK", "All edges broken, no burrs"),),
        ),
        StepSpec(
            sequence=40,
            operation="NDT-PT",
            work_center="NDT-01",
            title="Fluorescent penetrant inspection",
            instructions=md("""
                Per ASTM E1417, Type I, Method C, sensitivity level 3.

                1. Dwell **20 min** minimum, remove excess with solvent wipe.
                2. Develop 10 min; inspect under UV-A in the booth (≥ 1000 µW/cm²).
                3. Record any indication and photograph it with the scale.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                choice("PT_INDICATION", "Penetrant indication", PENETRANT_INDICATION),
                photo("PT_PHOTO", "Photo under UV light", required=False),
            ),
        ),
        StepSpec(
            sequence=50,
            operation="CLEANING",
            work_center="FIN-01",
            title="Alkaline clean before anodize",
            instructions=md("""
                Alkaline clean tank 2, rinse, deoxidize tank 4. Do the **water-break test**: a continuous film for
                30 s means the surface is clean.
            """),
            characteristics=(pass_fail("WATER_BREAK", "Water-break free surface"),),
        ),
        StepSpec(
            sequence=60,
            operation="COATING",
            work_center="FIN-01",
            title="Anodize and prime",
            instructions=md("""
                - Sulfuric acid anodize, Type II, seal in dilute dichromate-free seal.
                - One coat of epoxy primer within **16 h** of anodize.
                - Measure total coating thickness with the eddy-current gauge at five spots; record the lowest.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("COAT_THK", "Coating thickness (anodize + primer)", "um", low="25", high="50", decimals=1),
                text("BATH_LOT", "Anodize bath batch number"),
            ),
        ),
        StepSpec(
            sequence=70,
            operation="MARKING",
            work_center="BENCH-02",
            title="Mark part number and serial",
            instructions=md("""
                Ink-stamp `7420-101 REV C` and the serial number in the marking area shown on the drawing.
                May be done while the part waits for the CMM.
            """),
            may_run_out_of_order=True,
            characteristics=(
                pass_fail("MARK_OK", "Marking legible and in place"),
                photo("MARK_PHOTO", "Photo of the marking"),
            ),
        ),
        StepSpec(
            sequence=80,
            operation="DIM-INSP",
            work_center="QC-CMM",
            title="CMM inspection",
            instructions=md("""
                Run CMM program `7420-101C.prg`. Attach the CMM report (PDF or photo of the summary page).
                Any value out of tolerance: stop, the traveler goes on hold.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("BORE_DIA_CMM", "Actuator bore Ø (CMM)", "mm", **BORE_12_700),
                num("FLATNESS", "Flange flatness", "mm", high="0.050"),
                photo("CMM_REPORT", "CMM report"),
            ),
        ),
        StepSpec(
            sequence=90,
            operation="FINAL-INSP",
            work_center="QC-CMM",
            title="Final inspection",
            instructions=md("""
                Visual check of the whole part: coating continuous, no handling damage, marking present.
                Cap the ports and bag the part.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(pass_fail("VISUAL", "Visual inspection"),),
        ),
    ),
)

LANDING_GEAR_BRACKET = PartSpec(
    number="5517-210",
    revision_note="Rev B: lug radii increased, penetrant at sensitivity level 4.",
    name="Main landing-gear bracket",
    revision="B",
    site="TLS",
    customer="Aerolis Aircraft",
    description="Main landing-gear side-brace bracket, 15-5PH stainless forging, condition H1025.",
    drawing_number="D5517-210",
    routing_description="Machine the bracket from the forging, age to H1025, inspect and prime.",
    steps=(
        StepSpec(
            sequence=10,
            operation="MILLING",
            work_center="FRAIS-3",
            title="Rough mill from forging",
            instructions=md("""
                Forging on fixture **F-210**. Program `P5517-R`. Leave 0.5 to 1.0 mm on every finished face
                for the finish pass after ageing.
            """),
            characteristics=(
                num("STOCK_LEFT", "Stock left on lug faces", "mm", low="0.5", high="1.0", decimals=2, warn=True),
                text("FORGING_HEAT", "Forging heat number"),
            ),
        ),
        StepSpec(
            sequence=20,
            operation="HEAT-TREAT",
            work_center="FOUR-1",
            title="Age to condition H1025",
            instructions=md("""
                Per AMS 2759/3: load with the thermocouples on the heaviest section.

                | parameter | value |
                | --- | --- |
                | temperature | 552 °C ± 8 |
                | soak | 4 h |
                | cooling | air |

                Record the furnace load number from the chart recorder.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("HT_TEMP", "Ageing temperature", "degC", nominal="552", low="544", high="560", decimals=0),
                num("HT_SOAK", "Soak time", "h", nominal="4.0", low="4.0", high="4.5", decimals=2),
                text("HEAT_LOT", "Furnace load number"),
            ),
        ),
        StepSpec(
            sequence=30,
            operation="MILLING",
            work_center="FRAIS-3",
            title="Finish mill lugs and bores",
            instructions=md("""
                Program `P5517-F`. Finish-bore both lugs with the boring head; check with the bore gauge
                set on the ring gauge **25.400**.
            """),
            characteristics=(
                num("LUG_BORE", "Lug bore Ø", "mm", nominal="25.410", low="25.400", high="25.421"),
                num("SURF_RA", "Lug bore roughness Ra", "um", high="0.8", decimals=2),
            ),
        ),
        StepSpec(
            sequence=40,
            operation="DEBURR",
            work_center="FRAIS-3",
            title="Deburr",
            instructions=md(
                "Break all edges 0.2–0.5 mm. Blend tool marks at the lug radii with 240-grit, no undercut."
            ),
            characteristics=(pass_fail("EDGES_OK", "All edges broken, no burrs"),),
        ),
        StepSpec(
            sequence=50,
            operation="NDT-PT",
            work_center="CND-1",
            title="Penetrant inspection",
            instructions=md("""
                ASTM E1417, Type I, Method D, sensitivity level 4 (rotating part family).
                **Linear indications at the lug radii reject the part.**
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                choice("PT_INDICATION", "Penetrant indication", PENETRANT_INDICATION),
                photo("PT_PHOTO", "Photo under UV light", required=False),
            ),
        ),
        StepSpec(
            sequence=60,
            operation="DIM-INSP",
            work_center="METRO-1",
            title="Hardness and dimensional check",
            instructions=md("""
                Rockwell C on the test boss (not on a finished face), three readings, record the average.
                Re-measure the lug bores at 20 °C.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                # pint has no Rockwell scale; a hardness number is recorded as a plain number.
                num("HARDNESS", "Hardness, HRC", "dimensionless", low="35", high="42", decimals=1),
                num("LUG_BORE_FINAL", "Lug bore Ø (final)", "mm", nominal="25.410", low="25.400", high="25.421"),
            ),
        ),
        StepSpec(
            sequence=70,
            operation="COATING",
            work_center="TRAIT-S",
            title="Passivate and prime",
            instructions=md("""
                Passivate per AMS 2700 Method 1, then one coat of epoxy primer, masking the lug bores.
                Primer thickness with the gauge at four spots.
            """),
            characteristics=(num("PRIMER_THK", "Primer thickness", "um", low="15", high="30", decimals=1, warn=True),),
        ),
        StepSpec(
            sequence=80,
            operation="MARKING",
            work_center="FRAIS-3",
            title="Dot-peen part and serial number",
            instructions=md(
                "Dot-peen `5517-210 B` and the serial number in the boxed area. May be done before priming."
            ),
            may_run_out_of_order=True,
            characteristics=(pass_fail("MARK_OK", "Marking legible and in place"),),
        ),
        StepSpec(
            sequence=90,
            operation="FINAL-INSP",
            work_center="METRO-1",
            title="Final inspection",
            instructions=md(
                "Visual check: primer continuous, masking removed, no handling damage. Bag with desiccant."
            ),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(pass_fail("VISUAL", "Visual inspection"),),
        ),
    ),
)

HINGE_PIN = PartSpec(
    number="5517-305",
    name="Hinge pin",
    revision="A",
    site="TLS",
    customer="Aerolis Aircraft",
    description="Actuator hinge pin, 4340 steel bar, hardened and zinc-nickel plated.",
    drawing_number="D5517-305",
    routing_description="Turn, harden, hard-turn and plate the hinge pin.",
    steps=(
        StepSpec(
            sequence=10,
            operation="TURNING",
            work_center="TOUR-1",
            title="Turn pin blank",
            instructions=md("Bar 4340 Ø16. Program `P5517-305-E`. Leave 0.2 mm on the diameter for hard turning."),
            characteristics=(
                num("PIN_DIA_ROUGH", "Pin Ø before heat treat", "mm", nominal="12.900", low="12.850", high="12.950"),
            ),
        ),
        StepSpec(
            sequence=20,
            operation="HEAT-TREAT",
            work_center="FOUR-1",
            title="Harden and temper",
            instructions=md("""
                Austenitize **845 °C**, oil quench, temper **425 °C** for 2 h.
                Record the furnace load number; put one test coupon in the load.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("HT_TEMP", "Austenitizing temperature", "degC", nominal="845", low="835", high="855", decimals=0),
                num("TEMPER_TEMP", "Tempering temperature", "degC", nominal="425", low="415", high="435", decimals=0),
                text("HEAT_LOT", "Furnace load number"),
            ),
        ),
        StepSpec(
            sequence=30,
            operation="TURNING",
            work_center="TOUR-1",
            title="Hard-turn pin to size",
            instructions=md(
                "CBN insert, program `P5517-305-F`. Measure the diameter with the bench micrometer at both ends."
            ),
            characteristics=(
                num("PIN_DIA", "Pin Ø", "mm", nominal="12.675", low="12.667", high="12.683"),
                num("SURF_RA", "Pin surface roughness Ra", "um", high="0.4", decimals=2),
            ),
        ),
        StepSpec(
            sequence=40,
            operation="DIM-INSP",
            work_center="METRO-1",
            title="Hardness check",
            instructions=md("Rockwell C on the coupon from the same furnace load, three readings, record the average."),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(num("HARDNESS", "Hardness, HRC", "dimensionless", low="40", high="45", decimals=1),),
        ),
        StepSpec(
            sequence=50,
            operation="CLEANING",
            work_center="TRAIT-S",
            title="Degrease",
            instructions=md("Vapour degrease, then water-break test."),
            characteristics=(pass_fail("WATER_BREAK", "Water-break free surface"),),
        ),
        StepSpec(
            sequence=60,
            operation="COATING",
            work_center="TRAIT-S",
            title="Zinc-nickel plate and bake",
            instructions=md("""
                Zinc-nickel per AMS 2417 Type 2. **Start the embrittlement-relief bake within 4 h** of plating
                (190 °C, 23 h). Measure thickness with the XRF gauge.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("COAT_THK", "Plating thickness", "um", low="8", high="15", decimals=1),
                num("BAKE_DELAY", "Plating to bake delay", "h", high="4", decimals=1),
            ),
        ),
        StepSpec(
            sequence=70,
            operation="MARKING",
            work_center="TOUR-1",
            title="Laser-mark serial",
            instructions=md("Laser-mark `5517-305 A` and the serial number on the head face."),
            may_run_out_of_order=True,
            characteristics=(pass_fail("MARK_OK", "Marking legible and in place"),),
        ),
        StepSpec(
            sequence=80,
            operation="FINAL-INSP",
            work_center="METRO-1",
            title="Final inspection",
            instructions=md(
                "Visual: plating continuous, no blisters, no damage on the bearing diameter. Oil and sleeve."
            ),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(pass_fail("VISUAL", "Visual inspection"),),
        ),
    ),
)

FUEL_VALVE_BODY = PartSpec(
    number="6630-050",
    revision_note="Rev D: seat bore masked during anodize.",
    name="Fuel valve body",
    revision="D",
    site="QRO",
    customer="Northwind Aero Engines",
    description="Fuel shut-off valve body, 6061-T6 aluminium bar, anodized.",
    drawing_number="D6630-050",
    routing_description="Machine, clean, penetrant-inspect and anodize the valve body.",
    steps=(
        StepSpec(
            sequence=10,
            operation="TURNING",
            work_center="CNC-T1",
            title="Turn body and valve seat bore",
            instructions=md("""
                Program `O6630`. Finish the seat bore last, with coolant on.
                Measure the seat bore with the bore gauge (see *Section B-B*).
            """),
            characteristics=(num("SEAT_BORE", "Valve seat bore Ø", "mm", **BORE_12_700),),
            drawings=(VALVE_SEAT_DRAWING,),
        ),
        StepSpec(
            sequence=20,
            operation="MILLING",
            work_center="CNC-F2",
            title="Mill ports and mounting face",
            instructions=md("Fixture **QF-06**. Program `O6631`: inlet, outlet and drain ports, mounting face."),
            characteristics=(
                num("PORT_POS", "Inlet port position", "mm", high="0.100"),
                num("SURF_RA", "Mounting face roughness Ra", "um", high="1.6", decimals=2, warn=True),
            ),
        ),
        StepSpec(
            sequence=30,
            operation="DEBURR",
            work_center="BANCO-1",
            title="Deburr port intersections",
            instructions=md(
                "Deburr the intersecting ports and check them with the borescope. Photograph the drain port."
            ),
            characteristics=(
                pass_fail("BURR_FREE", "Port intersections free of burrs"),
                photo("BORESCOPE_PHOTO", "Borescope photo, drain port"),
            ),
        ),
        StepSpec(
            sequence=40,
            operation="CLEANING",
            work_center="BANCO-1",
            title="Ultrasonic clean",
            instructions=md("Ultrasonic tank, 10 min, then rinse in DI water and blow dry with filtered air."),
            characteristics=(pass_fail("CLEAN_OK", "No residue or chips"),),
        ),
        StepSpec(
            sequence=50,
            operation="NDT-PT",
            work_center="INSP-1",
            title="Penetrant inspection",
            instructions=md(
                "ASTM E1417, Type I, Method C, sensitivity level 3. Record any indication and photograph it."
            ),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                choice("PT_INDICATION", "Penetrant indication", PENETRANT_INDICATION),
                photo("PT_PHOTO", "Photo under UV light", required=False),
            ),
        ),
        StepSpec(
            sequence=60,
            operation="COATING",
            work_center="REC-1",
            title="Anodize, Type II",
            instructions=md("""
                Mask the seat bore. Sulfuric anodize Type II, Class 1 (clear), hot-water seal.
                Measure thickness with the eddy-current gauge at five spots; record the lowest.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("COAT_THK", "Anodize thickness", "um", low="8", high="18", decimals=1),
                text("BATH_LOT", "Anodize bath batch number"),
            ),
        ),
        StepSpec(
            sequence=70,
            operation="DIM-INSP",
            work_center="INSP-1",
            title="Dimensional inspection",
            instructions=md("Re-measure the seat bore after anodize (masked, so it must not move)."),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(num("SEAT_BORE_FINAL", "Valve seat bore Ø (final)", "mm", **BORE_12_700),),
        ),
        StepSpec(
            sequence=80,
            operation="MARKING",
            work_center="BANCO-1",
            title="Electro-etch part and serial number",
            instructions=md("Electro-etch `6630-050 D` and the serial number on the flat. May run before inspection."),
            may_run_out_of_order=True,
            characteristics=(pass_fail("MARK_OK", "Marking legible and in place"),),
        ),
        StepSpec(
            sequence=90,
            operation="FINAL-INSP",
            work_center="INSP-1",
            title="Final inspection",
            instructions=md("Visual: anodize uniform, no masking residue, ports capped."),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(pass_fail("VISUAL", "Visual inspection"),),
        ),
    ),
)

FLANGED_BUSHING = PartSpec(
    number="BU-0412-06",
    name="Flanged bushing",
    revision="A",
    site="QRO",
    tracking="lot",
    customer="Aerolis Aircraft",
    description="Flanged bushing, aluminium-nickel-bronze AMS 4640, made and released by the lot.",
    drawing_number="DBU-0412",
    routing_description="Turn, tumble, wash and sample-inspect a lot of bushings.",
    steps=(
        StepSpec(
            sequence=10,
            operation="TURNING",
            work_center="CNC-T1",
            title="Turn bushings from bar",
            instructions=md("""
                Bar feeder, program `O0412`. Measure the **first, middle and last** piece of the lot and record
                the worst of each.
            """),
            characteristics=(
                num("BUSH_OD", "Bushing outside Ø", "mm", nominal="15.900", low="15.892", high="15.908"),
                num("BUSH_ID", "Bushing bore Ø", "mm", **BORE_12_700),
            ),
        ),
        StepSpec(
            sequence=20,
            operation="DEBURR",
            work_center="BANCO-1",
            title="Tumble deburr",
            instructions=md("Vibratory tumbler with ceramic media, 30–45 min."),
            characteristics=(num("TUMBLE_TIME", "Tumbling time", "min", low="30", high="45", decimals=0, warn=True),),
        ),
        StepSpec(
            sequence=30,
            operation="CLEANING",
            work_center="BANCO-1",
            title="Wash and dry",
            instructions=md("Wash in the basket washer, dry, keep the lot in its tote."),
            characteristics=(pass_fail("CLEAN_OK", "No residue or media in the bores"),),
        ),
        StepSpec(
            sequence=40,
            operation="DIM-INSP",
            work_center="INSP-1",
            title="Sample inspection (AQL 1.0)",
            instructions=md("Sample per ANSI Z1.4, general level II, AQL 1.0. Record the worst measured value."),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num(
                    "BUSH_OD_SAMPLE", "Bushing outside Ø (sample)", "mm", nominal="15.900", low="15.892", high="15.908"
                ),
                num("BUSH_ID_SAMPLE", "Bushing bore Ø (sample)", "mm", **BORE_12_700),
            ),
        ),
        StepSpec(
            sequence=50,
            operation="MARKING",
            work_center="BANCO-1",
            title="Bag and tag the lot",
            instructions=md(
                "Bag by 50, label each bag with part number, lot number and quantity. Photograph one label."
            ),
            may_run_out_of_order=True,
            characteristics=(photo("LABEL_PHOTO", "Photo of a lot label"),),
        ),
        StepSpec(
            sequence=60,
            operation="FINAL-INSP",
            work_center="INSP-1",
            title="Lot release",
            instructions=md("Check the count and the labels; record the material certificate number of the bar."),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                pass_fail("VISUAL", "Lot visual and count"),
                text("MATERIAL_CERT", "Material certificate number"),
            ),
        ),
    ),
)

ACTUATOR_ASSEMBLY = PartSpec(
    number="7420-100",
    revision_note="Rev B: retaining-nut torque raised to 25 N·m.",
    name="Flap actuator assembly",
    revision="B",
    site="WIC",
    customer="Aerolis Aircraft",
    description="Flap actuator: housing 7420-101, hinge pin 5517-305 and two flanged bushings BU-0412-06.",
    drawing_number="D7420-100",
    routing_description="Kit, press, assemble, torque and test the flap actuator.",
    made_from=("7420-101", "5517-305", "BU-0412-06"),
    steps=(
        StepSpec(
            sequence=10,
            operation="CLEANING",
            work_center="BENCH-02",
            title="Kit and clean components",
            instructions=md("""
                Kit one housing **7420-101**, one hinge pin **5517-305** and two bushings **BU-0412-06**.
                Wipe with IPA. Scan each serial and the bushing lot as you kit them: they make the unit's
                genealogy.
            """),
            characteristics=(pass_fail("KIT_CLEAN", "Components clean and free of handling damage"),),
            consumes=(("7420-101", "1"), ("5517-305", "1"), ("BU-0412-06", "2")),
        ),
        StepSpec(
            sequence=20,
            operation="ASSEMBLY",
            work_center="BENCH-02",
            title="Press bushings into housing",
            instructions=md("Arbor press with fixture **AF-7420**. Record the peak press force of each bushing."),
            characteristics=(
                num("PRESS_FORCE", "Peak press force", "kN", low="2.0", high="4.5", decimals=2),
                pass_fail("BUSH_SEATED", "Both bushings seated on their flange"),
            ),
        ),
        StepSpec(
            sequence=30,
            operation="DIM-INSP",
            work_center="QC-CMM",
            title="Check bushing bore after pressing",
            instructions=md("Bore gauge in both bushings; pressing must not close the bore below the limit."),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(num("BUSH_ID_PRESSED", "Bushing bore Ø after pressing", "mm", **BORE_12_700),),
        ),
        StepSpec(
            sequence=40,
            operation="ASSEMBLY",
            work_center="BENCH-02",
            title="Install hinge pin and rod end",
            instructions=md("Grease the pin (MIL-PRF-23827), install it through both bushings, fit the rod end."),
            characteristics=(pass_fail("PIN_FREE", "Pin rotates freely, no binding"),),
        ),
        StepSpec(
            sequence=50,
            operation="TORQUE",
            work_center="BENCH-02",
            title="Torque retaining nut",
            instructions=md("""
                Torque the retaining nut to **25 N·m ± 2** with a calibrated click wrench, then fit the cotter pin.
                Record the wrench's asset number.
            """),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("NUT_TORQUE", "Retaining nut torque", "N*m", nominal="25.0", low="23.0", high="27.0", decimals=1),
                text("TORQUE_WRENCH", "Torque wrench asset number"),
            ),
        ),
        StepSpec(
            sequence=60,
            operation="MARKING",
            work_center="BENCH-02",
            title="Apply data plate",
            instructions=md(
                "Rivet the data plate; engrave the assembly serial. Can be done any time before final inspection."
            ),
            may_run_out_of_order=True,
            characteristics=(photo("PLATE_PHOTO", "Photo of the data plate"),),
        ),
        StepSpec(
            sequence=70,
            operation="FINAL-INSP",
            work_center="QC-CMM",
            title="Functional test and final inspection",
            instructions=md(
                "Cycle the actuator five times on the test stand; measure the stroke. Visual check, cap ports."
            ),
            signoff=INSPECTOR_BUYS_OFF,
            characteristics=(
                num("STROKE", "Actuator stroke", "mm", nominal="50.0", low="49.5", high="50.5", decimals=2),
                pass_fail("VISUAL", "Visual inspection"),
            ),
        ),
    ),
)

# Components before the assembly that consumes them.
PARTS: tuple[PartSpec, ...] = (
    ACTUATOR_HOUSING,
    LANDING_GEAR_BRACKET,
    HINGE_PIN,
    FUEL_VALVE_BODY,
    FLANGED_BUSHING,
    ACTUATOR_ASSEMBLY,
)

# --- People -----------------------------------------------------------------------------------------


# Shown on the `make run` banner; the role is the name of the group roles_sync creates.
def _person(username: str, role: str, employee_number: str, printed_name: str, site: str) -> dict[str, str]:
    return {
        "username": username,
        "role": role,
        "employee_number": employee_number,
        "printed_name": printed_name,
        "site": site,
    }


DEMO_USERS: list[dict[str, str]] = [
    _person("maria", "Operator", "W-10421", "Maria Delgado", "WIC"),
    _person("tom", "Operator", "W-10587", "Tom Becker", "WIC"),
    _person("luc", "Operator", "T-20133", "Luc Moreau", "TLS"),
    _person("lupita", "Operator", "Q-30078", "Guadalupe Ramírez", "QRO"),
    _person("dwight", "Inspector", "W-10212", "Dwight Olsen", "WIC"),
    _person("ines", "Inspector", "T-20051", "Inès Laurent", "TLS"),
    _person("rosa", "Inspector", "Q-30019", "Rosa Hernández", "QRO"),
    _person("sandra", "Supervisor", "W-10090", "Sandra Kim", "WIC"),
    _person("camille", "Engineer", "T-20007", "Camille Durand", "TLS"),
    _person("alex", "Administrator", "W-10001", "Alex Novak", "WIC"),
]

STAFF_ROLES = {"Supervisor", "Engineer", "Administrator"}  # may reach the admin
SUPERUSER_ROLES = {"Administrator"}
ROUTING_AUTHOR = "camille"  # the engineer who drafts the demo routings and signs their release for engineering
ROUTING_QUALITY = "dwight"  # the inspector who signs their release for quality (a release takes two people)

# Qualifications: operators may perform every operation on their site's routings, inspectors may inspect
# every operation. Valid from QUALIFIED_SINCE_DAYS ago for QUALIFIED_FOR_DAYS.
QUALIFIED_SINCE_DAYS = 180
QUALIFIED_FOR_DAYS = 2 * 365


@dataclass(frozen=True)
class ExpiredQualificationSpec:
    username: str
    operation: str
    kind: str
    certificate: str
    valid_for_days: int
    expired_days_ago: int


# Tom's coating certificate lapsed: he may not perform coating (and holds no other coating qualification).
EXPIRED_QUALIFICATIONS: tuple[ExpiredQualificationSpec, ...] = (
    ExpiredQualificationSpec(
        username="tom",
        operation="COATING",
        kind="perform",
        certificate="TRN-COAT-2291",
        valid_for_days=365,
        expired_days_ago=12,
    ),
)

# --- Work orders, as the legacy MES released them (or as created in Traveler) -----------------------


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
