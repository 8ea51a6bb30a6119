"""Checks shared by the admin forms, the services and master-data documents."""

from __future__ import annotations

from decimal import Decimal

from .errors import InvalidUnit
from .units import check_unit


def characteristic_problems(
    *,
    kind: str,
    unit: str | None,
    nominal: Decimal | None,
    lower_limit: Decimal | None,
    upper_limit: Decimal | None,
    choices: list | None,
) -> list[tuple[str, str]]:
    """Every (field, message) wrong with a characteristic's definition; empty when it is sound."""
    problems: list[tuple[str, str]] = []
    if kind == "numeric":
        try:
            check_unit(unit or "")
        except InvalidUnit as exc:
            problems.append(("unit", exc.message))
        if lower_limit is None and upper_limit is None:
            problems.append(("lower_limit", "a numeric characteristic needs a lower or an upper limit"))
        if lower_limit is not None and upper_limit is not None and lower_limit > upper_limit:
            problems.append(("lower_limit", f"lower limit {lower_limit} is above upper limit {upper_limit}"))
        if nominal is not None:
            if lower_limit is not None and nominal < lower_limit:
                problems.append(("nominal", f"nominal {nominal} is below the lower limit {lower_limit}"))
            if upper_limit is not None and nominal > upper_limit:
                problems.append(("nominal", f"nominal {nominal} is above the upper limit {upper_limit}"))
    else:
        if unit:
            problems.append(("unit", f"a {kind} characteristic has no unit"))
        if any(v is not None for v in (nominal, lower_limit, upper_limit)):
            problems.append(("nominal", f"a {kind} characteristic has no nominal or limits"))
    if kind == "choice":
        if not choices or not all(isinstance(c, str) and c.strip() for c in choices):
            problems.append(("choices", "a choice characteristic needs a list of non-empty answers"))
        elif len(set(choices)) != len(choices):
            problems.append(("choices", "the answers of a choice characteristic must differ"))
    elif choices:
        problems.append(("choices", f"only a choice characteristic has answers, not a {kind} one"))
    return problems
