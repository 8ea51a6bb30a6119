"""Cells a spreadsheet opens safely: text that starts like a formula (=, +, -, @, tab, carriage return)
gets a leading apostrophe, so Excel or LibreOffice shows it instead of running it (CSV/formula
injection). Numbers stay numbers: "-0.013" is a deviation, not a formula."""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def cell(value):
    """`value` as a spreadsheet cell: formula-like text neutralised, anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def row(values) -> list:
    return [cell(v) for v in values]
