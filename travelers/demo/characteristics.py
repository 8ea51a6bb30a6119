"""What a demo routing step measures (CharSpec), and the shorthands the parts are written with: num,
pass_fail, choice, photo, text (plain data)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class CharSpec:
    code: str
    name: str
    kind: str = "numeric"
    unit: str = ""
    nominal: Decimal | None = None
    lower_limit: Decimal | None = None
    upper_limit: Decimal | None = None
    decimals: int = 3
    choices: tuple[str, ...] = ()
    required: bool = True
    on_out_of_spec: str = "hold"

    def as_kwargs(self) -> dict:
        """Keyword arguments for services.characteristic_add."""
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit,
            "nominal": self.nominal,
            "lower_limit": self.lower_limit,
            "upper_limit": self.upper_limit,
            "decimals": self.decimals,
            "choices": list(self.choices),
            "required": self.required,
            "on_out_of_spec": self.on_out_of_spec,
        }


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def num(
    code: str,
    name: str,
    unit: str,
    *,
    nominal: str | None = None,
    low: str | None = None,
    high: str | None = None,
    decimals: int = 3,
    warn: bool = False,
) -> CharSpec:
    return CharSpec(
        code=code,
        name=name,
        unit=unit,
        nominal=_dec(nominal),
        lower_limit=_dec(low),
        upper_limit=_dec(high),
        decimals=decimals,
        on_out_of_spec="warn" if warn else "hold",
    )


def pass_fail(code: str, name: str) -> CharSpec:
    return CharSpec(code=code, name=name, kind="pass_fail")


def choice(code: str, name: str, answers: tuple[str, ...]) -> CharSpec:
    return CharSpec(code=code, name=name, kind="choice", choices=answers)


def photo(code: str, name: str, *, required: bool = True) -> CharSpec:
    return CharSpec(code=code, name=name, kind="attachment", required=required)


def text(code: str, name: str) -> CharSpec:
    return CharSpec(code=code, name=name, kind="text")


BORE_12_700 = {"nominal": "12.700", "low": "12.687", "high": "12.713"}  # Ø 12.700 ±0.013 mm
PENETRANT_INDICATION = ("none", "linear", "rounded")
