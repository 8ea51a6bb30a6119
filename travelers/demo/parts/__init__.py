"""The six demo parts, each in the module of the site that makes it, and PARTS: the order they load in,
components before the assembly that consumes them (plain data)."""

from __future__ import annotations

from ..routings import PartSpec
from .queretaro import FLANGED_BUSHING, FUEL_VALVE_BODY
from .toulouse import HINGE_PIN, LANDING_GEAR_BRACKET
from .wichita import ACTUATOR_ASSEMBLY, ACTUATOR_HOUSING

# Components before the assembly that consumes them.
PARTS: tuple[PartSpec, ...] = (
    ACTUATOR_HOUSING,
    LANDING_GEAR_BRACKET,
    HINGE_PIN,
    FUEL_VALVE_BODY,
    FLANGED_BUSHING,
    ACTUATOR_ASSEMBLY,
)
