"""The parts Wichita makes: the actuator housing (machined, penetrant-inspected, anodized and primed)
and the flap actuator assembly that consumes a housing, a hinge pin and two bushings (plain data)."""

from __future__ import annotations

from ..characteristics import BORE_12_700, PENETRANT_INDICATION, choice, num, pass_fail, photo, text
from ..pictures import HOUSING_BORE_DRAWING
from ..routings import INSPECTOR_BUYS_OFF, PartSpec, StepSpec, md

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
