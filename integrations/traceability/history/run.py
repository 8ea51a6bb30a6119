"""HistoryRun: what one generation knows as it goes — its size, clock and random source, how it reports
progress, and what each stage leaves for the next (master data ids, the traveler count).

Generated signatures have ids computed from what they sign, all above `signature_base`: a step's
performed signature is base + step id × 4 (inspected + 1), a traveler's approval base + 10¹² + traveler
id, a correction base + 2·10¹² + characteristic id, an NCR's disposition base + 3·10¹² + NCR id."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from mes.masterdata.models import Operation, Site


@dataclass
class HistoryRun:
    n: int  # travelers, a multiple of `block`
    block: int  # travelers a block (shape.sizes)
    families: int  # part families (shape.sizes)
    m: int  # measurements per traveler
    rng: random.Random
    now: dt.datetime
    origin: dt.datetime  # how far back the history goes
    say: Callable[[str], None]  # a progress line, with the time since the start
    # set by masterdata.master_data
    sites: list[Site] = field(default_factory=list)
    ops: dict[str, Operation] = field(default_factory=dict)
    work_centers: dict[tuple[int, int], int] = field(default_factory=dict)  # (site, operation) -> work center
    operators: list[int] = field(default_factory=list)
    inspectors: list[int] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    parts: dict[tuple[int, str], tuple] = field(default_factory=dict)  # (family, kind) -> part, rev, routing
    units: dict[tuple[int, str], str] = field(default_factory=dict)  # (family, kind) -> a work order's unit
    step_index: dict[int, list[int]] = field(default_factory=dict)  # routing -> its step ids in sequence
    # set by load.generate: generated signature ids are this base + an offset (module docstring), past every signature
    # already there (the routings' releases sign through the services, from the table's sequence)
    signature_base: int = 0
    # set by entities.copy_entities
    traveler_count: int = 0
    raw_lots: list[tuple[int, int]] = field(default_factory=list)  # (item id, block) of raw-material lots
