"""Chart geometry for the capability pages (server-rendered SVG, like the control charts): the control
chart of a group's newest values with the Western Electric rules, its histogram, and the NCR Pareto."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from travelers import capability as cap
from travelers import spc

from .queries import Group


def _dec(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def control_chart(group: Group) -> spc.Chart:
    return spc.individuals_chart(
        [(label, _dec(v)) for label, v in group.series],
        lower_spec=_dec(group.lsl),
        upper_spec=_dec(group.usl),
        width=520,
        height=220,
        margin=(12, 12, 20, 56),
        rules=True,
    )


def histogram(group: Group) -> cap.Histogram:
    return cap.histogram_chart(
        group.histogram, low=group.hist_low, high=group.hist_high, lsl=group.lsl, usl=group.usl, mean=group.mean
    )


@dataclass(frozen=True)
class ParetoBar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    cumulative: float


@dataclass
class Pareto:
    width: int
    height: int
    bars: list[ParetoBar]
    line: str  # polyline points of the cumulative share
    top: float
    bottom: float


def pareto_chart(rows: list[dict], *, width: int = 520, height: int = 200) -> Pareto:
    """Bars of NCR counts by operation, most first, and the cumulative share as a line (0–100 %)."""
    top, bottom, left, right = 12.0, height - 36.0, 36.0, width - 36.0
    chart = Pareto(width, height, [], "", top, bottom)
    if not rows:
        return chart
    most = max(r["count"] for r in rows)
    slot = (right - left) / len(rows)
    points = []
    for i, r in enumerate(rows):
        h = r["count"] / most * (bottom - top)
        x = left + i * slot
        chart.bars.append(
            ParetoBar(r["operation"], r["count"], x + slot * 0.1, bottom - h, slot * 0.8, h, r["cumulative"])
        )
        points.append(f"{x + slot / 2:.1f},{bottom - r['cumulative'] * (bottom - top):.1f}")
    chart.line = " ".join(points)
    return chart
