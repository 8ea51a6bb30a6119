"""SPC as tables, at the scale of real parts: control limits, the Western Electric rules and capability
(Cp, Cpk, Pp, Ppk) for series a reviewer can recompute by hand. Pure functions, no database.

test_judging_table.py holds the rules in units of sigma (centre 0, sigma 1) and the limits' formula; here
every expectation is a number worked out in the comment beside its row."""

from __future__ import annotations

from decimal import Decimal

import pytest

from travelers import capability, spc

D = Decimal


def decimals(values):
    return [D(v) for v in values]


# --- Control limits: X̄ ± 2.66 · MR̄ ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "centre", "mr_bar", "ucl", "lcl"),
    [
        # x̄ = 12 / 2 = 6; MR = 2; 2.66 · 2 = 5.32
        (["5", "7"], "6", "2", "11.32", "0.68"),
        # x̄ = 50.0 / 5 = 10.0; MR = 0.4 0.2 0.4 0.8, MR̄ = 1.8 / 4 = 0.45; 2.66 · 0.45 = 1.197
        (["9.8", "10.2", "10.0", "10.4", "9.6"], "10.0", "0.45", "11.197", "8.803"),
        # a bore in mm: x̄ = 63.500 / 5 = 12.700; MR = .002 .004 .002 0, MR̄ = .008 / 4 = .002; 2.66 · .002 = .00532
        (["12.700", "12.702", "12.698", "12.700", "12.700"], "12.700", "0.002", "12.70532", "12.69468"),
        # below zero: x̄ = −6 / 3 = −2; MR = 2 1, MR̄ = 1.5; 2.66 · 1.5 = 3.99
        (["-3", "-1", "-2"], "-2", "1.5", "1.99", "-5.99"),
        # no spread: the limits close on the centre line
        (["5", "5", "5"], "5", "0", "5", "5"),
    ],
)
def test_individuals_limits_by_hand(values, centre, mr_bar, ucl, lcl):
    limits = spc.individuals_limits(decimals(values))
    assert limits is not None and limits.n == len(values)
    assert (limits.centre, limits.mr_bar, limits.ucl, limits.lcl) == (D(centre), D(mr_bar), D(ucl), D(lcl))


@pytest.mark.parametrize(
    ("values", "beyond"),
    [
        # x̄ = 104 / 10 = 10.4; MR̄ = 4 / 9 = 0.444…; UCL = 10.4 + 1.1822… = 11.582…, LCL = 9.2177…: only 14 is out
        (["10"] * 9 + ["14"], [9]),
        # x̄ = 10.0, UCL 11.197, LCL 8.803 (the second row above): every value inside
        (["9.8", "10.2", "10.0", "10.4", "9.6"], []),
        # x̄ = 60 / 6 = 10; MR = 0 0 0 0 12, MR̄ = 2.4; UCL = 10 + 6.384 = 16.384, LCL = 3.616: 20 above, the 8s inside
        (["8", "8", "8", "8", "8", "20"], [5]),
    ],
)
def test_beyond_the_limits_of_its_own_series(values, beyond):
    series = decimals(values)
    assert spc.beyond_limits(series, spc.individuals_limits(series)) == beyond


# --- The Western Electric rules at a part's scale ------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fired"),
    [
        # centre 12.700 mm, σ 0.010 mm: z = (x − 12.700) / 0.010
        (["12.700", "12.735"], {1: (1,)}),  # z 0, 3.5: beyond 3σ
        (["12.700", "12.669"], {1: (1,)}),  # z 0, −3.1
        (["12.700", "12.672"], {}),  # z −2.8: beyond 2σ once, within 3σ
        (["12.725", "12.700", "12.722"], {2: (2,)}),  # z 2.5, 0, 2.2: two of three beyond 2σ above
        (["12.725", "12.700", "12.678"], {}),  # z 2.5, 0, −2.2: on opposite sides
        (["12.689", "12.688", "12.700", "12.687", "12.686"], {4: (3,)}),  # z −1.1 −1.2 0 −1.3 −1.4
        (["12.701"] * 8, {7: (4,)}),  # z 0.1 eight times: eight in a row above the centre line
        (["12.701"] * 7 + ["12.699"], {}),  # the eighth crosses the centre line
    ],
)
def test_western_electric_at_a_parts_scale(values, fired):
    assert spc.western_electric(decimals(values), D("12.700"), D("0.010")) == fired


def test_the_rules_on_a_series_own_limits():
    # Nine 10s and a 14: x̄ = 10.4, MR̄ = 4/9, σ = MR̄ / 1.128 = 0.39401. The 10s sit at z = −0.4 / 0.39401 =
    # −1.015: from the fifth on, four of five are beyond 1σ below (rule 3), from the eighth on, eight in a
    # row are below the centre line (rule 4); 14 is at z = 3.6 / 0.39401 = 9.14 (rule 1) and breaks both runs.
    values = decimals(["10"] * 9 + ["14"])
    limits = spc.individuals_limits(values)
    assert limits is not None
    sigma = limits.mr_bar / D("1.128")
    assert spc.western_electric(values, limits.centre, sigma) == {
        4: (3,),
        5: (3,),
        6: (3,),
        7: (3, 4),
        8: (3, 4),
        9: (1,),
    }


# --- Capability: Cp, Cpk (σ within = MR̄ / 1.128) and Pp, Ppk (σ overall = s, n − 1) ------------------------------

# A: x = 9.8 10.2 10.0 10.4 9.6, LSL 9, USL 11. x̄ = 10.0; Σ(x − x̄)² = .04 + .04 + 0 + .16 + .16 = 0.40,
#    s = √(0.40 / 4) = 0.3162278; MR̄ = 0.45, σw = 0.45 / 1.128 = 0.3989362. Centred, so Cpk = Cp:
#    Cp = 2 / (6 · 0.3989362) = 2 · 1.128 / 2.7 = 0.8355556      Pp = 2 / (6 · 0.3162278) = 1.0540926
# B: x = 4 6 5 7 8, LSL 0, USL 10. x̄ = 6; Σ(x − x̄)² = 4 + 0 + 1 + 1 + 4 = 10, s = √2.5 = 1.5811388;
#    MR = 2 1 2 1, MR̄ = 1.5, σw = 1.3297872. The nearer limit is USL, 4 away:
#    Cp = 10 · 1.128 / 9 = 1.2533333     Cpk = 4 · 1.128 / 4.5 = 1.0026667
#    Pp = 10 / (6 · 1.5811388) = 1.0540926     Ppk = 4 / (3 · 1.5811388) = 0.8432740
# C: B with USL only: no Cp or Pp; Cpk and Ppk as B's (USL is the side they use)
# D: B with LSL 5 only, 1 below x̄: Cpk = 1 · 1.128 / 4.5 = 0.2506667, Ppk = 1 / 4.7434165 = 0.2108185
# E: x = 12 12.5 12 12.5, LSL 8, USL 11.5: x̄ = 12.25 lies above USL, so Cpk and Ppk are negative.
#    Σ(x − x̄)² = 4 · 0.0625 = 0.25, s = √(0.25 / 3) = 0.2886751; MR̄ = 0.5, σw = 0.4432624;
#    Cp = 3.5 · 1.128 / 3 = 1.316     Cpk = −0.75 · 1.128 / 1.5 = −0.564
#    Pp = 3.5 / (6 · 0.2886751) = 2.0207259     Ppk = −0.75 / (3 · 0.2886751) = −0.8660254
# F: two values 10 12, LSL 8, USL 14: x̄ = 11, s = √2 = 1.4142136, MR̄ = 2, σw = 1.7730496;
#    Cp = Cpk = 3 · 1.128 / 6 = 0.564     Pp = Ppk = 6 / (6 · 1.4142136) = 0.7071068
# G: B without limits: the spreads are known, no index is
CAPABILITY = [
    ("A", ["9.8", "10.2", "10.0", "10.4", "9.6"], 9, 11,
     10.0, 0.3989362, 0.3162278, 0.8355556, 0.8355556, 1.0540926, 1.0540926),
    ("B", ["4", "6", "5", "7", "8"], 0, 10,
     6.0, 1.3297872, 1.5811388, 1.2533333, 1.0026667, 1.0540926, 0.8432740),
    ("C", ["4", "6", "5", "7", "8"], None, 10,
     6.0, 1.3297872, 1.5811388, None, 1.0026667, None, 0.8432740),
    ("D", ["4", "6", "5", "7", "8"], 5, None,
     6.0, 1.3297872, 1.5811388, None, 0.2506667, None, 0.2108185),
    ("E", ["12", "12.5", "12", "12.5"], 8, "11.5",
     12.25, 0.4432624, 0.2886751, 1.316, -0.564, 2.0207259, -0.8660254),
    ("F", ["10", "12"], 8, 14,
     11.0, 1.7730496, 1.4142136, 0.564, 0.564, 0.7071068, 0.7071068),
    ("G", ["4", "6", "5", "7", "8"], None, None,
     6.0, 1.3297872, 1.5811388, None, None, None, None),
]  # fmt: skip


def approx(expected):
    return None if expected is None else pytest.approx(expected, abs=5e-7)


@pytest.mark.parametrize(
    ("case", "values", "lsl", "usl", "mean", "sigma_within", "sigma_overall", "cp", "cpk", "pp", "ppk"),
    CAPABILITY,
    ids=[row[0] for row in CAPABILITY],
)
def test_capability_by_hand(case, values, lsl, usl, mean, sigma_within, sigma_overall, cp, cpk, pp, ppk):
    c = capability.capability_of(
        decimals(values), lsl=None if lsl is None else D(lsl), usl=None if usl is None else D(usl)
    )
    assert c.n == len(values)
    assert c.mean == approx(mean)
    assert (c.sigma_within, c.sigma_overall) == (approx(sigma_within), approx(sigma_overall))
    assert (c.cp, c.cpk, c.pp, c.ppk) == (approx(cp), approx(cpk), approx(pp), approx(ppk))


@pytest.mark.parametrize(
    ("case", "values", "lsl", "usl", "mean", "sigma_within", "sigma_overall", "cp", "cpk", "pp", "ppk"),
    CAPABILITY,
    ids=[row[0] for row in CAPABILITY],
)
def test_capability_from_the_warehouses_aggregates_is_the_same(
    case, values, lsl, usl, mean, sigma_within, sigma_overall, cp, cpk, pp, ppk
):
    # The warehouse hands over n, x̄, s and MR̄ (σw · 1.128) from SQL instead of the values.
    c = capability.capability(
        n=len(values), mean=mean, sigma_overall=sigma_overall, mr_bar=sigma_within * 1.128, lsl=lsl, usl=usl
    )
    assert (c.cp, c.cpk, c.pp, c.ppk) == (approx(cp), approx(cpk), approx(pp), approx(ppk))


@pytest.mark.parametrize(
    ("n", "mean", "sigma_overall", "mr_bar"),
    [
        (0, None, None, None),  # nothing measured
        (1, 10.0, 0.5, 0.2),  # one value has no spread, whatever the aggregates say
        (5, 10.0, 0.0, 0.0),  # every value the same
    ],
)
def test_capability_without_spread_from_aggregates_is_undefined(n, mean, sigma_overall, mr_bar):
    c = capability.capability(n=n, mean=mean, sigma_overall=sigma_overall, mr_bar=mr_bar, lsl=8, usl=12)
    assert (c.cp, c.cpk, c.pp, c.ppk) == (None, None, None, None)
