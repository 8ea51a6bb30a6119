"""How a traceability query becomes its plan: each bare word read (a record number, master data, or
part of a serial/lot number), each filter resolved against master data (resolve.py) and turned into a
Condition, and what the data lake must be asked for archived travelers."""

# ruff: noqa: S608 - SQL is assembled from this module's constant fragments only; every value that comes
# from a user is a bound parameter (psycopg placeholders), never text in the statement.

from __future__ import annotations

import datetime as dt

from . import resolve
from .conditions import (
    KIND_CONDITION,
    KIND_LABEL,
    Condition,
    any_of,
    classify,
    like_pattern,
    ncr_condition,
    part_condition,
    partial_condition,
    person_condition,
    traveler_condition,
    unit_condition,
    work_order_condition,
)
from .hits import SearchResult
from .query import Query

MIN_PARTIAL = 3


class Plan:
    """The conditions a query comes to, and what the lake must be asked."""

    def __init__(self):
        self.conditions: list[Condition] = []
        self.lake_operations: tuple[list[str], list[str]] | None = None
        self.lake_people: list[str] | None = None
        self.empty_live = False


def read_terms(query: Query, result: SearchResult, plan: Plan) -> None:
    """Each bare word: a record number of some kinds, else master data, else part of a serial/lot number."""
    for term in query.terms:
        kinds = classify(term)
        if kinds:
            result.readings.append(f"{term}: " + " or ".join(KIND_LABEL[k] for k in kinds))
            plan.conditions.append(any_of([KIND_CONDITION[k]([term]) for k in kinds]))
            continue
        for kind, resolver in (
            ("operation", resolve.operations),
            ("site", resolve.sites),
            ("work_center", resolve.work_centers),
            ("person", lambda v: resolve.people(v, partial=False)),
        ):
            found = resolver([term])
            if found.ids:
                getattr(query, kind).append(term)
                break
        else:
            pattern = term.replace("*", "")
            if len(pattern) < MIN_PARTIAL:
                result.messages.append(
                    f"nothing is numbered '{term}' exactly; a partial match needs at least {MIN_PARTIAL} characters"
                )
                plan.conditions.append(Condition("false", [], "false", []))
                continue
            like = like_pattern(term)
            how = "starting with" if term.endswith("*") and term.count("*") == 1 else "containing"
            result.readings.append(f"{term}: no exact match — serial/lot numbers {how} '{pattern}'")
            plan.conditions.append(partial_condition(like))


def plan_of(query: Query, result: SearchResult) -> Plan:
    """The conditions `query` comes to; how its words were read and what could not be used go into `result`."""
    plan = Plan()
    read_terms(query, result, plan)
    if query.unit:
        plan.conditions.append(unit_condition(query.unit))
    if query.traveler:
        plan.conditions.append(traveler_condition(query.traveler))
    if query.work_order:
        plan.conditions.append(work_order_condition(query.work_order))
    if query.part:
        plan.conditions.append(part_condition(resolve.parts(query.part)))
    if query.revision:
        plan.conditions.append(
            Condition(
                "i.part_revision_id IN (SELECT id FROM masterdata_partrevision WHERE revision = ANY(%s))",
                [query.revision],
                "a.part_revision = ANY(%s)",
                [query.revision],
            )
        )
    if query.ncr:
        plan.conditions.append(ncr_condition(query.ncr))
    if query.site:
        found = resolve.sites(query.site)
        result.readings += found.labels
        if found.unknown:
            result.messages.append(f"no site {', '.join(found.unknown)} is known")
        plan.conditions.append(
            Condition("t.site_id = ANY(%s)", [found.ids], "a.site_code = ANY(%s)", [found.lake_codes + found.unknown])
        )
    if query.work_center:
        found = resolve.work_centers(query.work_center)
        result.readings += found.labels
        if found.unknown:
            result.messages.append(f"no work center {', '.join(found.unknown)} is known")
        plan.conditions.append(
            Condition(
                "t.id IN (SELECT traveler_id FROM travelers_travelerstep WHERE work_center_id = ANY(%s))",
                [found.ids],
                what="work center",
            )
        )
    if query.operation:
        found = resolve.operations(query.operation)
        result.readings += found.labels
        if found.unknown:
            result.messages.append(f"no operation, code or alias {', '.join(found.unknown)} is known here")
        plan.conditions.append(
            Condition(
                "t.id IN (SELECT traveler_id FROM travelers_travelerstep WHERE operation_id = ANY(%s))",
                [found.ids],
                lake=True,
            )
        )
        plan.lake_operations = (found.lake_codes, found.lake_aliases)
    if query.person:
        found = resolve.people(query.person)
        result.readings += [f"person {label}" for label in found.labels]
        if found.unknown:
            result.messages.append(f"no person {', '.join(found.unknown)} is known (username, badge or name)")
        plan.conditions.append(person_condition(found.ids))
        plan.lake_people = found.lake_codes
    current = "NOT EXISTS (SELECT 1 FROM travelers_measurement m2 WHERE m2.supersedes_id = m.id)"
    values_from = (
        "SELECT s.traveler_id FROM travelers_travelercharacteristic c "
        "JOIN travelers_measurement m ON m.characteristic_id = c.id "
        "JOIN travelers_travelerstep s ON s.id = m.step_id WHERE c.code = %s AND " + current
    )
    for code in query.out_of_spec:
        result.readings.append(f"a current value of {code} out of spec")
        plan.conditions.append(Condition(f"t.id IN ({values_from} AND m.judgment = 'out_of_spec')", [code], lake=True))
    for code, pct in query.near:
        result.readings.append(f"a current value of {code} within {pct} % of the tolerance band from a limit")
        share = pct / 100
        near = (
            "m.value_numeric IS NOT NULL AND ("
            "(m.spec_lower IS NOT NULL AND m.spec_upper IS NOT NULL AND m.spec_upper > m.spec_lower AND "
            "least(abs(m.value_numeric - m.spec_lower), abs(m.value_numeric - m.spec_upper)) "
            "<= %s * (m.spec_upper - m.spec_lower)) OR "
            "(m.spec_lower IS NULL AND m.spec_upper IS NOT NULL AND abs(m.value_numeric - m.spec_upper) "
            "<= %s * abs(m.spec_upper)) OR "
            "(m.spec_upper IS NULL AND m.spec_lower IS NOT NULL AND abs(m.value_numeric - m.spec_lower) "
            "<= %s * abs(m.spec_lower)))"
        )
        plan.conditions.append(Condition(f"t.id IN ({values_from} AND {near})", [code, share, share, share], lake=True))
    if query.date_from or query.date_to:
        start = dt.datetime.combine(query.date_from or dt.date(1, 1, 1), dt.time.min, tzinfo=dt.UTC)
        end = dt.datetime.combine(query.date_to or dt.date(9999, 12, 30), dt.time.min, tzinfo=dt.UTC)
        if query.date_to:
            end += dt.timedelta(days=1)
        result.readings.append(
            f"open at some time from {query.date_from or 'the beginning'} to {query.date_to or 'now'} (UTC)"
        )
        plan.conditions.append(
            Condition(
                "t.released_at < %s AND (t.closed_at IS NULL OR t.closed_at >= %s)",
                [end, start],
                "a.released_at < %s AND a.closed_at >= %s",
                [end, start],
            )
        )
    return plan
