"""Statistical process control for numeric characteristics: pure functions, no database.

An individuals (X) chart from the values in the order they were made:

    moving ranges  MR_i = |x_i - x_(i-1)|            (n - 1 of them)
    centre line    X̄ = mean of the values
    control limits X̄ ± 2.66 · MR̄                     (2.66 = 3 / d2, d2 = 1.128 for ranges of two)

Arithmetic is exact (Decimal); the chart geometry (`individuals_chart`) turns values into SVG
coordinates, which the template draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

E2 = Decimal("2.66")


@dataclass(frozen=True)
class ControlLimits:
    centre: Decimal
    mr_bar: Decimal
    ucl: Decimal
    lcl: Decimal
    n: int


def moving_ranges(values: Sequence[Decimal]) -> list[Decimal]:
    """|x_i - x_(i-1)| for each value after the first."""
    return [abs(b - a) for a, b in zip(values, values[1:], strict=False)]


def mean(values: Sequence[Decimal]) -> Decimal:
    if not values:
        raise ValueError("the mean of no values")
    return sum(values, Decimal(0)) / Decimal(len(values))


def individuals_limits(values: Sequence[Decimal]) -> ControlLimits | None:
    """Centre line and control limits of an individuals chart; None with fewer than two values (no
    moving range yet)."""
    values = [Decimal(v) for v in values]
    if len(values) < 2:
        return None
    centre = mean(values)
    mr_bar = mean(moving_ranges(values))
    spread = E2 * mr_bar
    return ControlLimits(centre=centre, mr_bar=mr_bar, ucl=centre + spread, lcl=centre - spread, n=len(values))


def beyond_limits(values: Sequence[Decimal], limits: ControlLimits | None) -> list[int]:
    """Indexes of the values outside the control limits (a signal the process changed)."""
    if limits is None:
        return []
    return [i for i, v in enumerate(values) if v > limits.ucl or v < limits.lcl]


def western_electric(values: Sequence, centre, sigma) -> dict[int, tuple[int, ...]]:
    """The Western Electric rules each value completes (index -> rule numbers), for a chart with centre
    line `centre` and process σ `sigma` (individuals: MR̄ / 1.128, so 3σ = 2.66·MR̄):

        1  one value beyond 3σ
        2  two of three successive values beyond 2σ, on the same side
        3  four of five successive values beyond 1σ, on the same side
        4  eight successive values on the same side of the centre line

    The value that completes a pattern is flagged (as Minitab and most charts do)."""
    if sigma is None or float(sigma) <= 0:
        return {}
    c, s = float(centre), float(sigma)
    zs = [(float(v) - c) / s for v in values]
    fired: dict[int, list[int]] = {}

    def window(i: int, size: int, need: int, beyond: float) -> bool:
        if i + 1 < size:
            return False
        last = zs[i + 1 - size : i + 1]
        return any(sum(1 for z in last if sign * z > beyond) >= need and sign * zs[i] > beyond for sign in (1, -1))

    for i, z in enumerate(zs):
        rules = []
        if abs(z) > 3:
            rules.append(1)
        if window(i, 3, 2, 2):
            rules.append(2)
        if window(i, 5, 4, 1):
            rules.append(3)
        if i >= 7 and (all(v > 0 for v in zs[i - 7 : i + 1]) or all(v < 0 for v in zs[i - 7 : i + 1])):
            rules.append(4)
        if rules:
            fired[i] = rules
    return {i: tuple(r) for i, r in fired.items()}


def out_of_spec(value: Decimal, lower: Decimal | None, upper: Decimal | None) -> bool:
    return (upper is not None and value > upper) or (lower is not None and value < lower)


# --- Chart geometry ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    value: Decimal
    label: str
    out_of_spec: bool
    out_of_control: bool
    rules: tuple[int, ...] = ()  # the Western Electric rules this point completes, when asked for


@dataclass
class ChartLine:
    kind: str  # ucl, lcl, centre, usl, lsl, nominal
    label: str
    value: Decimal
    y: float
    label_y: float = 0.0  # where its label sits: near the line, never on top of another label
    side: str = "right"  # control limits are labelled on the right, spec limits on the left

    @property
    def is_spec(self) -> bool:
        return self.kind in SPEC_LINES


SPEC_LINES = {"usl", "lsl", "nominal"}
LABEL_GAP = 13.0  # px between two labels on the same side


@dataclass
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    points: list[ChartPoint] = field(default_factory=list)
    lines: list[ChartLine] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    limits: ControlLimits | None = None

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def plot_width(self) -> float:
        return self.right - self.left

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top


def _nice_step(span: float, ticks: int) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving about `ticks` ticks over `span`."""
    raw = span / max(ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def spread_labels(lines: list[ChartLine], top: float, bottom: float, gap: float = LABEL_GAP) -> None:
    """Set each line's label_y as close to its line as possible, at least `gap` apart, within [top, bottom]."""
    ordered = sorted(lines, key=lambda line: line.y)
    for i, line in enumerate(ordered):
        line.label_y = max(line.y, top) if i == 0 else max(line.y, ordered[i - 1].label_y + gap)
    for i in range(len(ordered) - 1, -1, -1):
        limit = bottom if i == len(ordered) - 1 else ordered[i + 1].label_y - gap
        ordered[i].label_y = min(ordered[i].label_y, limit)


def individuals_chart(
    points: Sequence[tuple[str, Decimal]],
    *,
    lower_spec: Decimal | None = None,
    upper_spec: Decimal | None = None,
    nominal: Decimal | None = None,
    width: int = 900,
    height: int = 320,
    margin: tuple[int, int, int, int] = (16, 16, 28, 72),  # top, right, bottom, left
    rules: bool = False,
) -> Chart:
    """Where to draw each value and line: x by order of the values, y scaled so that every value, control
    limit and spec limit is inside the plot. `points` are (label, value) in time order. With `rules`, a
    point is out of control when it completes any Western Electric rule (not only rule 1)."""
    values = [Decimal(v) for _, v in points]
    limits = individuals_limits(values)
    top, right_margin, bottom_margin, left = margin
    chart = Chart(
        width=width,
        height=height,
        left=float(left),
        right=float(width - right_margin),
        top=float(top),
        bottom=float(height - bottom_margin),
        limits=limits,
    )
    if not values:
        return chart
    span_values = list(values)
    if limits is not None:
        span_values += [limits.ucl, limits.lcl]
    span_values += [v for v in (lower_spec, upper_spec, nominal) if v is not None]
    low, high = float(min(span_values)), float(max(span_values))
    if high == low:
        pad = abs(high) * 0.01 or 1.0
    else:
        pad = (high - low) * 0.08
    low, high = low - pad, high + pad

    def y_of(value) -> float:
        return chart.bottom - (float(value) - low) / (high - low) * chart.plot_height

    count = len(values)
    step = chart.plot_width / (count - 1) if count > 1 else 0.0
    flagged = set(beyond_limits(values, limits))
    fired = western_electric(values, limits.centre, limits.mr_bar / Decimal("1.128")) if rules and limits else {}
    flagged |= set(fired)
    for i, ((label, _), value) in enumerate(zip(points, values, strict=True)):
        x = chart.left + (i * step if count > 1 else chart.plot_width / 2)
        chart.points.append(
            ChartPoint(
                x=x,
                y=y_of(value),
                value=value,
                label=label,
                out_of_spec=out_of_spec(value, lower_spec, upper_spec),
                out_of_control=i in flagged,
                rules=fired.get(i, ()),
            )
        )
    if limits is not None:
        chart.lines += [
            ChartLine("ucl", "UCL", limits.ucl, y_of(limits.ucl)),
            ChartLine("centre", "X̄", limits.centre, y_of(limits.centre)),
            ChartLine("lcl", "LCL", limits.lcl, y_of(limits.lcl)),
        ]
    for kind, label, value in (("usl", "USL", upper_spec), ("nominal", "Nominal", nominal), ("lsl", "LSL", lower_spec)):
        if value is not None:
            chart.lines.append(ChartLine(kind, label, value, y_of(value)))
    for line in chart.lines:
        line.side = "left" if line.is_spec else "right"
    for side in ("left", "right"):
        spread_labels([line for line in chart.lines if line.side == side], chart.top + LABEL_GAP, chart.bottom)
    tick = _nice_step(high - low, 6)
    places = max(0, -math.floor(math.log10(tick)))
    first = math.ceil(low / tick)
    for n in range(first, first + 50):
        if n * tick > high:
            break
        chart.y_ticks.append((y_of(n * tick), f"{n * tick:.{places}f}"))
    return chart
