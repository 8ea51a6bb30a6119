"""The search box's small query language, parsed into structured filters.

A scanned serial just works: a bare word is looked up as every kind of record number at once (serial
or lot, traveler, work order, part, NCR), then as master data (operation or any site's alias of it,
site, work center, person), and only then as part of a serial or lot number. Keys narrow it down:

    SN-0001                         anything with that number
    part:HSG-1 rev:B site:WIC       a part revision made at a site
    op:CT1                          any traveler with a coating step — CT1 is one site's alias of it
    by:olga  by:E00042  by:"Olga Smith"   performed, inspected, recorded or signed by that person
    wc:CELL-1  wo:WO-1  ncr:NCR-000003  traveler:T-0000042  lot:L-77  serial:SN-9
    from:2026-01-01 to:2026-03-31   travelers open at some time in that range (dates are UTC days)
    BORE_DIA out of spec            = oos:BORE_DIA   a current value of that characteristic out of spec
    BORE_DIA within 5% of limit     = near:BORE_DIA:5   a current value within 5 % of the tolerance
                                      band from a limit (inside or outside it)
    SN-00*                          a wildcard: serial/lot numbers starting with SN-00

The same key twice means either (site:WIC site:TLS); different keys and bare words must all hold.
Whatever is typed, parsing never fails: what cannot be used is said in `problems`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

MAX_LENGTH = 500
MAX_TERMS = 12
MAX_VALUE_LENGTH = 100

KEYS = {
    "unit": "unit",
    "id": "unit",
    "serial": "unit",
    "sn": "unit",
    "lot": "unit",
    "traveler": "traveler",
    "t": "traveler",
    "wo": "work_order",
    "workorder": "work_order",
    "part": "part",
    "pn": "part",
    "rev": "revision",
    "revision": "revision",
    "op": "operation",
    "operation": "operation",
    "wc": "work_center",
    "workcenter": "work_center",
    "site": "site",
    "by": "person",
    "signer": "person",
    "operator": "person",
    "inspector": "person",
    "ncr": "ncr",
    "from": "date_from",
    "since": "date_from",
    "to": "date_to",
    "until": "date_to",
    "oos": "out_of_spec",
    "near": "near",
}
LIST_KINDS = ("unit", "traveler", "work_order", "part", "revision", "operation", "work_center", "site", "person", "ncr")

OUT_OF_SPEC = re.compile(r"(?<!\S)([A-Za-z0-9][\w.\-/]*)\s+out[\s_-]+of[\s_-]+spec(?:ification)?\b", re.IGNORECASE)
NEAR = re.compile(
    r"(?<!\S)([A-Za-z0-9][\w.\-/]*)\s+within\s+(\d{1,3}(?:\.\d+)?)\s*%(?:\s+of)?(?:\s+(?:a|the|its))?"
    r"(?:\s+(?:spec\s+)?limits?)?",
    re.IGNORECASE,
)
TOKEN = re.compile(r'([A-Za-z]+):"([^"]*)"?|"([^"]*)"?|(\S+)')


@dataclass
class Query:
    """What was asked, as filters. Lists are alternatives (either value); filters all must hold."""

    text: str = ""
    terms: list[str] = field(default_factory=list)  # bare words: any kind of number
    unit: list[str] = field(default_factory=list)
    traveler: list[str] = field(default_factory=list)
    work_order: list[str] = field(default_factory=list)
    part: list[str] = field(default_factory=list)
    revision: list[str] = field(default_factory=list)
    operation: list[str] = field(default_factory=list)
    work_center: list[str] = field(default_factory=list)
    site: list[str] = field(default_factory=list)
    person: list[str] = field(default_factory=list)
    ncr: list[str] = field(default_factory=list)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    out_of_spec: list[str] = field(default_factory=list)
    near: list[tuple[str, Decimal]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    refused: bool = False  # nothing is searched (e.g. far too long); `problems` says why

    @property
    def is_empty(self) -> bool:
        return not (
            self.terms
            or any(getattr(self, kind) for kind in LIST_KINDS)
            or self.date_from
            or self.date_to
            or self.out_of_spec
            or self.near
        )

    @property
    def needs_lake(self) -> bool:
        """Whether archived travelers can only be matched through the data lake's facts."""
        return bool(self.operation or self.person or self.out_of_spec or self.near)


def clean_text(text: str) -> str:
    """NUL, other control characters and lone surrogates become spaces; runs of space collapse."""
    text = unicodedata.normalize("NFC", "".join(ch for ch in text if unicodedata.category(ch) != "Cs"))
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return " ".join(text.split())


def _date(value: str, key: str, problems: list[str]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{key}:{value[:40]} is not a date; write it as YYYY-MM-DD")
        return None


def _percent(value: str, problems: list[str], code: str) -> Decimal | None:
    try:
        pct = Decimal(value.rstrip("%").strip())
    except InvalidOperation:
        pct = None
    if pct is None or not pct.is_finite() or pct <= 0 or pct > 100:
        problems.append(f"near:{code}:{value[:20]} needs a percentage between 0 and 100, e.g. near:{code}:5")
        return None
    return pct


def parse(text: str | None, **filters) -> Query:
    """The query typed in the box, plus structured filters from the form or API (same names as the
    keys: site, part, op, by, wc, from, to…). Never raises."""
    raw = text or ""
    query = Query()
    if len(raw) > MAX_LENGTH * 4:
        query.refused = True
        query.problems.append(
            f"the search is {len(raw):,} characters long; at most {MAX_LENGTH} are searched — "
            "scan or type one serial, lot or number"
        )
        return query
    cleaned = clean_text(raw)
    if len(cleaned) > MAX_LENGTH:
        query.problems.append(f"only the first {MAX_LENGTH} characters were searched")
        cleaned = cleaned[:MAX_LENGTH]
    query.text = cleaned

    def take(match: re.Match, replacement_tokens: list[str]) -> str:
        replacement_tokens.append(match.group(0))
        return " "

    phrases: list[str] = []
    for match in OUT_OF_SPEC.finditer(cleaned):
        query.out_of_spec.append(match.group(1))
    cleaned = OUT_OF_SPEC.sub(lambda m: take(m, phrases), cleaned)
    for match in NEAR.finditer(cleaned):
        pct = _percent(match.group(2), query.problems, match.group(1))
        if pct is not None:
            query.near.append((match.group(1), pct))
    cleaned = NEAR.sub(lambda m: take(m, phrases), cleaned)

    pairs: list[tuple[str | None, str]] = []
    for key, quoted_value, quoted, word in TOKEN.findall(cleaned):
        if key:
            pairs.append((key, quoted_value))
        elif quoted:
            pairs.append((None, quoted))
        elif word:
            head, sep, tail = word.partition(":")
            if sep and head.lower() in KEYS:
                pairs.append((head, tail))
            else:
                pairs.append((None, word))
    for name, value in filters.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item not in (None, ""):
                pairs.append((name, clean_text(str(item))))

    count = 0
    for key, value in pairs:
        value = value.strip()
        if not value:
            if key:
                query.problems.append(f"{key}: needs a value after the colon")
            continue
        count += 1
        if count > MAX_TERMS:
            query.problems.append(f"only the first {MAX_TERMS} terms were searched")
            break
        if len(value) > MAX_VALUE_LENGTH:
            query.problems.append(f"'{value[:20]}…' is longer than any number or code ({MAX_VALUE_LENGTH} characters)")
            value = value[:MAX_VALUE_LENGTH]
        kind = KEYS.get(key.lower()) if key else None
        if key and kind is None:
            kind = key if key in LIST_KINDS or key in ("date_from", "date_to", "out_of_spec", "near") else None
        if kind is None:
            query.terms.append(value)
        elif kind in LIST_KINDS:
            target = getattr(query, kind)
            if value not in target:
                target.append(value)
        elif kind == "date_from":
            query.date_from = _date(value, key, query.problems) or query.date_from
        elif kind == "date_to":
            query.date_to = _date(value, key, query.problems) or query.date_to
        elif kind == "out_of_spec":
            query.out_of_spec.append(value)
        elif kind == "near":
            code, _, pct = value.partition(":")
            pct_value = _percent(pct or "", query.problems, code) if code else None
            if pct_value is not None:
                query.near.append((code, pct_value))
    if query.date_from and query.date_to and query.date_from > query.date_to:
        query.problems.append("the date range ends before it starts: from and to were swapped")
        query.date_from, query.date_to = query.date_to, query.date_from
    return query
