"""judge() and SPC as tables: pure functions, no database. Each row is one case a reviewer can read."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from travelers import spc
from travelers.errors import MeasurementInvalid
from travelers.judging import judge

D = Decimal


def numeric(lower=None, upper=None, unit="mm", decimals=3):
    return SimpleNamespace(
        kind="numeric",
        unit=unit,
        decimals=decimals,
        lower_limit=None if lower is None else D(lower),
        upper_limit=None if upper is None else D(upper),
        choices=[],
    )


# --- judge(): numeric ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "upper", "entered", "unit", "judgment", "value", "deviation"),
    [
        # two-sided, limits inclusive
        ("12.650", "12.750", "12.700", "", "in_spec", "12.700", "0"),
        ("12.650", "12.750", "12.650", "", "in_spec", "12.650", "0"),
        ("12.650", "12.750", "12.750", "", "in_spec", "12.750", "0"),
        ("12.650", "12.750", "12.751", "", "out_of_spec", "12.751", "0.001"),
        ("12.650", "12.750", "12.649", "", "out_of_spec", "12.649", "-0.001"),
        # judged on the value as entered: no rounding to the characteristic's decimals first
        ("12.650", "12.750", "12.7504", "", "out_of_spec", "12.7504", "0.0004"),
        ("12.650", "12.750", "12.6496", "", "out_of_spec", "12.6496", "-0.0004"),
        # one-sided
        (None, "0.8", "0.8", "", "in_spec", "0.8", "0"),
        (None, "0.8", "0.81", "", "out_of_spec", "0.81", "0.01"),
        (None, "0.8", "-5", "", "in_spec", "-5", "0"),
        ("50", None, "50", "", "in_spec", "50", "0"),
        ("50", None, "49.9", "", "out_of_spec", "49.9", "-0.1"),
        ("50", None, "1E+6", "", "in_spec", "1E+6", "0"),
        # no limits: recorded, never out of spec
        (None, None, "-3.2", "", "in_spec", "-3.2", "0"),
        # units converted into the characteristic's unit before judging
        ("12.650", "12.750", "0.5", "in", "in_spec", "12.700000000", "0"),
        ("12.650", "12.750", "1.27", "cm", "in_spec", "12.700000000", "0"),
        ("12.650", "12.750", "12751", "um", "out_of_spec", "12.751000000", "0.001000000"),
        # decimal comma, spaces, signs
        ("12.650", "12.750", " 12,70 ", "", "in_spec", "12.70", "0"),
        ("-1", "1", "+0.5", "", "in_spec", "0.5", "0"),
        ("-1", "1", "-0", "", "in_spec", "-0", "0"),
    ],
)
def test_judge_numeric(lower, upper, entered, unit, judgment, value, deviation):
    result = judge(numeric(lower, upper), entered, unit)
    assert (result.judgment, result.value_numeric, result.deviation) == (judgment, D(value), D(deviation))
    assert result.out_of_spec is (judgment == "out_of_spec")
    assert result.entered_unit == (unit or "mm")


@pytest.mark.parametrize(
    ("entered", "unit", "field", "says"),
    [
        ("", "", "value", "enter a value"),
        ("   ", "", "value", "enter a value"),
        ("twelve", "", "value", "not a number"),
        ("NaN", "", "value", "not a finite number"),
        ("Infinity", "", "value", "not a finite number"),
        ("1e999999999", "", "value", "too large"),
        ("100000000000000", "", "value", "too large"),
        ("1,234", "", "value", "could be 1.234 or 1234"),  # never guessed
        ("12.7", "kg", "unit", "cannot be converted to mm"),
        ("12.7", "furlongs-ish", "unit", "unknown"),
        ("1", "parsec", "value", "beyond anything measured here"),
    ],
)
def test_judge_numeric_refuses_bad_input_by_name(entered, unit, field, says):
    with pytest.raises(MeasurementInvalid) as refused:
        judge(numeric("12.650", "12.750"), entered, unit)
    assert refused.value.field == field
    assert says in refused.value.message


@given(
    st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-2000, max_value=2000, places=4, allow_nan=False, allow_infinity=False),
)
def test_judge_is_in_spec_exactly_within_the_limits_and_the_deviation_is_to_the_nearer_limit(a, b, value):
    lower, upper = min(a, b), max(a, b)
    result = judge(numeric(str(lower), str(upper)), str(value))
    inside = lower <= value <= upper
    assert result.judgment == ("in_spec" if inside else "out_of_spec")
    if inside:
        assert result.deviation == 0
    else:
        assert result.deviation == (value - upper if value > upper else value - lower)


# --- judge(): the other kinds ----------------------------------------------------------------------------------


def other(kind, choices=()):
    return SimpleNamespace(kind=kind, unit="", decimals=0, lower_limit=None, upper_limit=None, choices=list(choices))


@pytest.mark.parametrize(
    ("kind", "entered", "judgment", "text", "flag"),
    [
        ("pass_fail", "pass", "in_spec", "pass", True),
        ("pass_fail", " OK ", "in_spec", "pass", True),
        ("pass_fail", "1", "in_spec", "pass", True),
        ("pass_fail", "fail", "out_of_spec", "fail", False),
        ("pass_fail", "NOK", "out_of_spec", "fail", False),
        ("pass_fail", "0", "out_of_spec", "fail", False),
        ("choice", "blue", "recorded", "blue", None),
        ("text", "  burr removed  ", "recorded", "burr removed", None),
        ("attachment", "", "recorded", "", None),
    ],
)
def test_judge_other_kinds(kind, entered, judgment, text, flag):
    result = judge(other(kind, choices=["red", "blue"]), entered)
    assert (result.judgment, result.value_text, result.value_bool, result.value_numeric) == (judgment, text, flag, None)


@pytest.mark.parametrize(
    ("kind", "entered", "unit", "says"),
    [
        ("pass_fail", "maybe", "", "neither pass nor fail"),
        ("pass_fail", "pass", "mm", "has no unit"),
        ("choice", "green", "", "not one of red, blue"),
        ("text", "", "", "enter a value"),
        ("text", "x" * 501, "", "longer than 500"),
        ("colour", "red", "", "unknown characteristic kind"),
    ],
)
def test_judge_other_kinds_refuse_bad_input(kind, entered, unit, says):
    with pytest.raises(MeasurementInvalid) as refused:
        judge(other(kind, choices=["red", "blue"]), entered, unit)
    assert says in refused.value.message


# --- SPC: control limits -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "centre", "mr_bar"),
    [
        (["10", "12"], "11", "2"),
        (["10", "12", "11", "13"], "11.5", "1.666666666666666666666666667"),  # ranges 2, 1, 2
        (["5", "5", "5"], "5", "0"),
        (["-1", "1", "-1", "1"], "0", "2"),
    ],
)
def test_individuals_limits_are_the_mean_plus_minus_2_66_mean_moving_range(values, centre, mr_bar):
    limits = spc.individuals_limits([D(v) for v in values])
    assert limits is not None and limits.n == len(values)
    assert (limits.centre, limits.mr_bar) == (D(centre), D(mr_bar))
    assert limits.ucl == D(centre) + D("2.66") * D(mr_bar)
    assert limits.lcl == D(centre) - D("2.66") * D(mr_bar)


@pytest.mark.parametrize("values", [[], [D("1")]])
def test_individuals_limits_need_two_values(values):
    assert spc.individuals_limits(values) is None
    assert spc.beyond_limits(values, None) == []


def test_beyond_limits_flags_exactly_the_values_outside_and_not_those_on_a_limit():
    limits = spc.ControlLimits(centre=D(0), mr_bar=D(1), ucl=D("2.66"), lcl=D("-2.66"), n=5)
    values = [D("2.66"), D("2.67"), D("-2.66"), D("-2.67"), D(0)]
    assert spc.beyond_limits(values, limits) == [1, 3]


@pytest.mark.parametrize(
    ("value", "lower", "upper", "out"),
    [("5", "1", "5", False), ("5.01", "1", "5", True), ("0.99", "1", "5", True), ("9", None, None, False)],
)
def test_spc_out_of_spec_matches_judge(value, lower, upper, out):
    assert spc.out_of_spec(D(value), None if lower is None else D(lower), None if upper is None else D(upper)) is out
    if lower or upper:
        assert judge(numeric(lower, upper), value).out_of_spec is out


# --- SPC: the Western Electric rules (centre 0, sigma 1: a value is its z) ---------------------------------------


@pytest.mark.parametrize(
    ("zs", "fired"),
    [
        # rule 1: one value beyond 3 sigma (either side); exactly 3 is not beyond
        ([0.5, 3.1], {1: (1,)}),
        ([0.5, -3.5], {1: (1,)}),
        ([0.5, 3.0], {}),
        # rule 2: two of three beyond 2 sigma, same side, flagged on the completing value
        ([2.5, 0.0, 2.1], {2: (2,)}),
        ([2.5, 2.1], {}),  # only two values: no window of three yet
        ([0.0, 2.5, -2.1], {}),  # opposite sides
        ([0.0, 2.5, 1.9], {}),  # the completing value is not beyond
        ([-2.5, -2.2, 0.0], {}),  # the last value is not beyond, so it completes nothing
        # rule 3: four of five beyond 1 sigma, same side
        ([1.5, 1.2, 0.0, 1.1, 1.3], {4: (3,)}),
        ([1.5, 1.2, 0.0, 1.1, 0.9], {}),
        ([1.5, -1.2, 0.0, 1.1, 1.3], {}),
        # rule 4: eight in a row on one side of the centre
        ([0.1] * 8, {7: (4,)}),
        ([-0.1] * 7, {}),
        ([0.1] * 7 + [-0.1], {}),
        ([0.1] * 3 + [0.0] + [0.1] * 4, {}),  # a value on the centre line breaks the run
    ],
)
def test_western_electric_rules_fire_and_hold_back(zs, fired):
    assert spc.western_electric([D(str(z)) for z in zs], D(0), D(1)) == fired


def test_western_electric_reports_every_rule_a_value_completes_and_scales_with_centre_and_sigma():
    # Centre 10, sigma 0.5, so the values are z = 1.2 (six times), 2.4 and 5.2: four of five beyond 1 sigma
    # from the fifth value on; 2.4 is the first beyond 2 sigma, so rule 2 waits for 5.2, which also breaks
    # 3 sigma and ends eight in a row above the centre line.
    values = [D(v) for v in ["10.6", "10.6", "10.6", "10.6", "10.6", "10.6", "11.2", "12.6"]]
    assert spc.western_electric(values, D(10), D("0.5")) == {4: (3,), 5: (3,), 6: (3,), 7: (1, 2, 3, 4)}


@pytest.mark.parametrize("sigma", [None, D(0), D(-1)])
def test_western_electric_without_a_spread_fires_nothing(sigma):
    assert spc.western_electric([D(100), D(-100)], D(0), sigma) == {}
