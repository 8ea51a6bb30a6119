"""The parts Toulouse makes: the main landing-gear bracket (a 15-5PH forging aged to H1025) and the
hinge pin (4340 steel, hardened and zinc-nickel plated) (plain data)."""

from __future__ import annotations

from ..characteristics import PENETRANT_INDICATION, choice, num, pass_fail, photo, text
from ..routings import INSPECTOR_BUYS_OFF, PartSpec, StepSpec, md

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
