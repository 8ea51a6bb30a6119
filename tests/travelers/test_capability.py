"""Capability indices, yields and the Western Electric rules against hand-computed fixtures (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from travelers import capability, spc

# x = 10 12 11 13 14: x̄ = 12, Σ(x − x̄)² = 10, s = √(10/4) = 1.5811388, MR = 2 1 2 1, MR̄ = 1.5,
# σ within = 1.5 / 1.128 = 1.3297872. LSL 8, USL 17:
#   Cp  = 9 / (6 · 1.3297872) = 1.128         Cpk = min(5, 4) / (3 · 1.3297872) = 1.0026667
#   Pp  = 9 / (6 · 1.5811388) = 0.9486833     Ppk = 4 / (3 · 1.5811388)         = 0.8432740
SERIES = [10, 12, 11, 13, 14]


def test_capability_of_a_series_matches_the_hand_computation():
    c = capability.capability_of(SERIES, lsl=8, usl=17)
    assert c.n == 5
    assert c.mean == pytest.approx(12)
    assert c.sigma_overall == pytest.approx(1.5811388, rel=1e-7)
    assert c.sigma_within == pytest.approx(1.3297872, rel=1e-7)
    assert c.cp == pytest.approx(1.128, rel=1e-7)
    assert c.cpk == pytest.approx(1.0026667, rel=1e-6)
    assert c.pp == pytest.approx(0.9486833, rel=1e-6)
    assert c.ppk == pytest.approx(0.8432740, rel=1e-6)


def test_one_sided_spec_has_no_cp_but_a_cpk_on_that_side():
    c = capability.capability_of(SERIES, usl=17)
    assert c.cp is None and c.pp is None
    assert c.cpk == pytest.approx(5 / (3 * 1.5 / 1.128), rel=1e-7)
    assert c.ppk == pytest.approx(5 / (3 * 1.5811388), rel=1e-6)


@pytest.mark.parametrize("values", [[], [12], [12, 12, 12]])
def test_capability_without_spread_is_undefined_not_an_error(values):
    c = capability.capability_of(values, lsl=8, usl=17)
    assert (c.cp, c.cpk, c.pp, c.ppk) == (None, None, None, None)
    assert c.n == len(values)


def test_capability_from_aggregates_equals_capability_of_the_values():
    c = capability.capability(n=5, mean=12.0, sigma_overall=1.5811388, mr_bar=1.5, lsl=Decimal(8), usl=Decimal(17))
    assert c.cpk == pytest.approx(capability.capability_of(SERIES, lsl=8, usl=17).cpk, rel=1e-6)


@pytest.mark.parametrize(("good", "total", "expected"), [(7, 8, 0.875), (0, 3, 0.0), (5, 5, 1.0), (0, 0, None)])
def test_first_pass_yield(good, total, expected):
    assert capability.yield_ratio(good, total) == expected


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([0, 3.5, 0], {1: (1,)}),
        ([0, -3.2], {1: (1,)}),
        ([0, 2.5, 0, 2.2], {3: (2,)}),
        ([0, -2.5, -0.1, -2.2], {3: (2,)}),
        ([2.5, -2.5, 0, 2.1], {}),  # beyond 2σ on opposite sides is no pattern
        ([1.5, 1.2, 0.3, 1.1, 1.4], {4: (3,)}),
        ([0.5] * 8, {7: (4,)}),
        ([-0.5] * 9, {7: (4,), 8: (4,)}),
        ([0.5, -0.5] * 10, {}),
        ([2.5, 2.6, 2.7], {2: (2,)}),  # the window needs three values
    ],
)
def test_western_electric_rules_fire_on_crafted_series(series, expected):
    assert spc.western_electric(series, centre=0, sigma=1) == expected


def test_western_electric_scales_by_centre_and_sigma():
    # centre 10, σ 0.5: 11.6 is 3.2σ above
    assert spc.western_electric([10, 11.6], centre=10, sigma=0.5) == {1: (1,)}
    assert spc.western_electric([10, 11.6], centre=10, sigma=0) == {}


def test_individuals_chart_flags_rule_points_only_when_asked():
    values = [Decimal(v) for v in ("10.0", "10.2", "9.8", "10.1", "9.9", "10.0", "10.2", "9.8", "10.1")]
    values += [Decimal("10.3")] * 8  # eight on one side of the centre, inside the limits
    points = [(str(i), v) for i, v in enumerate(values)]
    plain = spc.individuals_chart(points)
    ruled = spc.individuals_chart(points, rules=True)
    assert not any(p.out_of_control for p in plain.points)
    assert [i for i, p in enumerate(ruled.points) if 4 in p.rules]
    assert all(p.out_of_control for p in ruled.points if p.rules)


def test_histogram_chart_places_bars_and_limits():
    chart = capability.histogram_chart(
        [1, 3, 0, 2], low=0.0, high=4.0, lsl=1.0, usl=3.5, mean=2.0, width=108, height=100
    )
    assert [b.count for b in chart.bars] == [1, 3, 0, 2]
    assert chart.bars[1].height == pytest.approx(chart.bottom - chart.top)
    assert chart.bars[0].height == pytest.approx((chart.bottom - chart.top) / 3)
    assert {m.kind: round(m.x, 1) for m in chart.markers} == {"lsl": 31.0, "usl": 88.5, "mean": 54.0}  # plot 8..100
