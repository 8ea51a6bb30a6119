"""The one rule for decimals as text (mes.numbers), and the representations that print a value with it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integrations.completions import value_out
from mes.compliance.canonical import canonical_bytes
from mes.numbers import decimal_at_places, decimal_text, decimal_text_or_none
from travelers.templatetags.traveler_records import fixed


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("12.700"), "12.7"),
        (Decimal("12.687"), "12.687"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),  # never exponent notation
        (Decimal("0.000"), "0"),
        (Decimal("-0.00"), "0"),  # never "-0"
        (Decimal("-1.50"), "-1.5"),
        (Decimal("0.0000001"), "0.0000001"),
    ],
)
def test_decimal_text_is_exact_and_canonical(value, text):
    assert decimal_text(value) == text
    assert decimal_text_or_none(value) == text


def test_decimal_text_or_none_keeps_a_missing_value_missing():
    assert decimal_text_or_none(None) is None


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("12.7"), 3, "12.700"),  # padded to the characteristic's decimals
        ("12.7", 3, "12.700"),  # a record's decimal string
        (Decimal("12.6875"), 3, "12.6875"),  # more digits than the decimals: in full, never rounded
        (Decimal("12.5"), 0, "12.5"),
        (Decimal("7"), 0, "7"),
        (Decimal("1E+2"), 2, "100.00"),
        (Decimal("-0.000"), 2, "0.00"),
        (Decimal("-1.5"), 2, "-1.50"),
        (Decimal("1E+30"), 2, "1000000000000000000000000000000"),  # beyond the context: in full
        ("12.7", "3", "12.700"),  # places as a template passes them
        (None, 2, ""),
        ("", 2, ""),
        ("pass", 2, "pass"),  # not a number: shown as it is
        ("NaN", 2, "NaN"),
    ],
)
def test_decimal_at_places_pads_and_never_rounds(value, places, text):
    assert decimal_at_places(value, places) == text


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=6),
    st.integers(0, 6),
)
def test_a_value_shown_at_places_reads_back_as_the_same_value(value, places):
    shown = decimal_at_places(value, places)
    assert Decimal(shown) == value
    assert "E" not in shown and not shown.startswith("-0" if value == 0 else "+")


def test_signed_content_carries_the_canonical_text():
    assert canonical_bytes({"v": Decimal("12.700")}) == b'{"v":"12.7"}'


def test_the_print_page_and_the_b2mml_export_print_one_value_identically():
    char = SimpleNamespace(code="BORE", name="Bore", kind="numeric", decimals=3)
    for recorded in (Decimal("12.7"), Decimal("12.6875"), Decimal("-0.5")):
        m = SimpleNamespace(
            characteristic=char,
            value_numeric=recorded,
            value_bool=None,
            attachment_id=None,
            value_text="",
            spec_unit="mm",
            judgment="in_spec",
            spec_nominal=Decimal("12.7"),
            spec_lower=Decimal("12.65"),
            spec_upper=None,
            recorded_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC),
            source="manual",
            supersedes_id=None,
        )
        exported = value_out(m)
        assert exported.value == fixed(decimal_text(recorded), char.decimals)  # the record holds canonical text
        assert (exported.nominal, exported.lower_limit, exported.upper_limit) == ("12.700", "12.650", None)
