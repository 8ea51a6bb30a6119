"""Process capability and yields: pure functions, no database.

For values x_1…x_n of one characteristic, in the order they were made, against spec limits LSL/USL:

    σ within   = MR̄ / d2            (MR̄ the mean moving range of two, d2 = 1.128: short-term spread)
    σ overall  = sample standard deviation (n − 1)
    Cp  = (USL − LSL) / 6σ_within    Cpk = min(USL − x̄, x̄ − LSL) / 3σ_within
    Pp  = (USL − LSL) / 6σ_overall   Ppk = min(USL − x̄, x̄ − LSL) / 3σ_overall

With one limit only, Cp and Pp are undefined and Cpk/Ppk use that side. Everything undefined (no spread,
too few values) is None, never a division error. The warehouse computes n, x̄, σ overall and MR̄ in SQL
and calls `capability`; `capability_of` does the same from a list (tests, small series).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

D2 = 1.128


@dataclass(frozen=True)
class Capability:
    n: int
    mean: float | None
    sigma_within: float | None
    sigma_overall: float | None
    lsl: float | None
    usl: float | None
    cp: float | None
    cpk: float | None
    pp: float | None
    ppk: float | None


def _indices(mean, sigma, lsl, usl) -> tuple[float | None, float | None]:
    """(the two-sided index, the worst-side index) for one σ."""
    if mean is None or sigma is None or sigma <= 0:
        return None, None
    both = (usl - lsl) / (6 * sigma) if lsl is not None and usl is not None else None
    sides = [(usl - mean) / (3 * sigma)] if usl is not None else []
    sides += [(mean - lsl) / (3 * sigma)] if lsl is not None else []
    return both, (min(sides) if sides else None)


def capability(
    *, n: int, mean: float | None, sigma_overall: float | None, mr_bar: float | None, lsl=None, usl=None
) -> Capability:
    lsl = None if lsl is None else float(lsl)
    usl = None if usl is None else float(usl)
    sigma_within = mr_bar / D2 if mr_bar is not None and n >= 2 else None
    if n < 2:
        sigma_overall = None
    cp, cpk = _indices(mean, sigma_within, lsl, usl)
    pp, ppk = _indices(mean, sigma_overall, lsl, usl)
    return Capability(n, mean, sigma_within, sigma_overall, lsl, usl, cp, cpk, pp, ppk)


def capability_of(values: Sequence[float], *, lsl=None, usl=None) -> Capability:
    """Capability of `values` in the order they were made."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        return capability(n=0, mean=None, sigma_overall=None, mr_bar=None, lsl=lsl, usl=usl)
    mean = math.fsum(xs) / n
    sigma = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    ranges = [abs(b - a) for a, b in zip(xs, xs[1:], strict=False)]
    mr_bar = math.fsum(ranges) / len(ranges) if ranges else None
    return capability(n=n, mean=mean, sigma_overall=sigma, mr_bar=mr_bar, lsl=lsl, usl=usl)


def yield_ratio(good: int, total: int) -> float | None:
    """good / total (first-pass yield: units through a step with no out-of-spec value and no NCR the
    first time, over units through it); None when nothing went through."""
    return good / total if total else None


# --- Histogram geometry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class Marker:
    kind: str  # lsl, usl, mean
    label: str
    value: float
    x: float


@dataclass
class Histogram:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bars: list[Bar]
    markers: list[Marker]
    max_count: int


def histogram_range(low: float, high: float, lsl=None, usl=None) -> tuple[float, float]:
    """The x range a histogram spans: the values and both spec limits, padded a little."""
    points = [low, high] + [float(v) for v in (lsl, usl) if v is not None]
    lo, hi = min(points), max(points)
    pad = (hi - lo) * 0.05 or (abs(hi) * 0.01 or 1.0)
    return lo - pad, hi + pad


def histogram_chart(
    counts: Sequence[int],
    *,
    low: float,
    high: float,
    lsl=None,
    usl=None,
    mean=None,
    width: int = 420,
    height: int = 160,
    margin: tuple[int, int, int, int] = (14, 8, 20, 8),
) -> Histogram:
    """Bars for `counts` of equal bins over [low, high], with the spec limits and the mean as markers."""
    top, right_margin, bottom_margin, left = margin
    chart = Histogram(
        width,
        height,
        float(left),
        float(width - right_margin),
        float(top),
        float(height - bottom_margin),
        [],
        [],
        max(counts, default=0),
    )
    span = high - low
    plot_w, plot_h = chart.right - chart.left, chart.bottom - chart.top
    if not counts or span <= 0:
        return chart
    bin_w = span / len(counts)

    def x_of(value: float) -> float:
        return chart.left + (value - low) / span * plot_w

    for i, count in enumerate(counts):
        h = count / chart.max_count * plot_h if chart.max_count else 0.0
        b_low = low + i * bin_w
        chart.bars.append(Bar(x_of(b_low), chart.bottom - h, plot_w / len(counts), h, b_low, b_low + bin_w, count))
    for kind, label, value in (("lsl", "LSL", lsl), ("usl", "USL", usl), ("mean", "x̄", mean)):
        if value is not None and low <= float(value) <= high:
            chart.markers.append(Marker(kind, label, float(value), x_of(float(value))))
    return chart
