"""HistoryRun: what one generation knows as it goes — its size, clock and random source, how it reports
progress, and what each stage leaves for the next (master data ids, the traveler count)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from mes.masterdata.models import Operation, Site


@dataclass
class HistoryRun:
    n: int  # travelers, a multiple of BLOCK
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
    step_index: dict[int, list[int]] = field(default_factory=dict)  # routing -> its step ids in sequence
    # set by entities.copy_entities
    traveler_count: int = 0
    raw_lots: list[tuple[int, int]] = field(default_factory=list)  # (item id, block) of raw-material lots
