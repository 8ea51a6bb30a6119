"""The shape of a demo part and its routing: PartSpec, its StepSpecs, who signs a step off, and `md` for
work instructions written indented in the part modules (plain data)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from .characteristics import CharSpec
from .pictures import DrawingSpec

OPERATOR_SIGNS = "operator"
INSPECTOR_BUYS_OFF = "operator+inspector"


def md(text: str) -> str:
    """Work instructions written indented in the part modules, stored flush-left as Markdown."""
    return inspect.cleandoc(text)


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
