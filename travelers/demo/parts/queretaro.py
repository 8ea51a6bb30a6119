"""The parts Querétaro makes: the fuel valve body (machined and anodized, seat bore masked) and the
flanged bushing, made and released by the lot (plain data)."""

from __future__ import annotations

from ..characteristics import BORE_12_700, PENETRANT_INDICATION, choice, num, pass_fail, photo, text
from ..pictures import VALVE_SEAT_DRAWING
from ..routings import INSPECTOR_BUYS_OFF, PartSpec, StepSpec, md

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
