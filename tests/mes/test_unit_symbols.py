"""Units are stored as pint spells them and printed as people write them."""

from __future__ import annotations

import pytest

from mes.masterdata.units import unit_symbol


@pytest.mark.parametrize(
    ("stored", "shown"),
    [("um", "µm"), ("N*m", "N·m"), ("degC", "°C"), ("mm", "mm"), ("in", "in"), ("", ""), (None, "")],
)
def test_a_stored_unit_is_shown_with_its_symbol(stored, shown):
    assert unit_symbol(stored) == shown
