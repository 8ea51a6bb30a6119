"""The filters of a traceability search as SQL: each a Condition over the live travelers and over the
archive records (or a note that the archive index cannot answer it), and the classification of a bare
word by which kinds of record number it is (one round trip of indexed EXISTS probes)."""

# ruff: noqa: S608 - SQL is assembled from this module's constant fragments only; every value that comes
# from a user is a bound parameter (psycopg placeholders), never text in the statement.

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from .sources import fetch


@dataclass
class Condition:
    """One filter, as SQL over the live travelers (t, i) and over archive records (a). `archive` None:
    the archive index cannot answer it (then archived travelers are not searched)."""

    live: str
    live_params: list
    archive: str | None = None
    archive_params: list = field(default_factory=list)
    lake: bool = False  # archived travelers meet it through the data lake's facts
    what: str = ""  # what the archive index cannot answer (when `archive` is None and not `lake`)


def like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%") if "*" in term else f"%{escaped}%"


def unit_condition(values):
    return Condition("i.identifier = ANY(%s)", [values], "a.identifier = ANY(%s)", [values])


def traveler_condition(values):
    return Condition("t.number = ANY(%s)", [values], "a.traveler_number = ANY(%s)", [values])


def work_order_condition(values):
    return Condition(
        "t.work_order_id IN (SELECT id FROM travelers_workorder WHERE number = ANY(%s))",
        [values],
        "a.work_order = ANY(%s)",
        [values],
    )


def part_condition(values):
    return Condition(
        "i.part_id IN (SELECT id FROM masterdata_part WHERE number = ANY(%s))",
        [values],
        "a.part_number = ANY(%s)",
        [values],
    )


def ncr_condition(values):
    return Condition(
        "t.id IN (SELECT traveler_id FROM travelers_nonconformance WHERE number = ANY(%s))", [values], what="NCR number"
    )


def any_of(conditions: list[Condition]) -> Condition:
    """Either condition: a union of traveler ids (each branch keeps its own index)."""
    if len(conditions) == 1:
        return conditions[0]
    live = " UNION ".join(
        f"SELECT t.id FROM travelers_traveler t JOIN travelers_item i ON i.id = t.item_id WHERE {c.live}"
        for c in conditions
    )
    live_params = [p for c in conditions for p in c.live_params]
    archived = [c for c in conditions if c.archive is not None]
    archive = None
    if archived:
        archive = (
            "a.id IN ("
            + " UNION ".join(f"SELECT a.id FROM archive_archiverecord a WHERE {c.archive}" for c in archived)
            + ")"
        )
    return Condition(
        f"t.id IN ({live})",
        live_params,
        archive,
        [p for c in archived for p in c.archive_params],
        what=" or ".join(c.what for c in conditions if c.archive is None),
    )


MAX_PARTIAL_IDS = 20_000
BUSY_SIGNER = 2_000  # signatures from which a person counts as busy (found along the keyset order)


def person_condition(user_ids: list[int]) -> Condition:
    """Travelers a person started a step of, recorded a value on, performed, inspected, skipped or signed
    off. Someone with few signatures: the sets of their travelers, each from its own index, hashed
    once and checked along the keyset order. Someone busy (a shift's operator): those sets are large
    but their travelers are everywhere, so each traveler in keyset order is probed instead and the
    first page comes after a few hundred probes."""
    busy = (
        bool(user_ids)
        and fetch(
            "SELECT count(*) FROM (SELECT 1 FROM compliance_signature WHERE signer_id = ANY(%s) LIMIT %s) x",
            [user_ids, BUSY_SIGNER],
        )[0][0]
        >= BUSY_SIGNER
    )
    if busy:
        # OFFSET 0 keeps each EXISTS a per-traveler probe: PostgreSQL would otherwise turn it into a
        # hashed set, built in full before the first row — the slow path this branch avoids.
        sql = (
            "(EXISTS (SELECT 1 FROM travelers_travelerstep s WHERE s.traveler_id = t.id "
            "AND (s.started_by_id = ANY(%s) OR EXISTS (SELECT 1 FROM compliance_signature g "
            "WHERE g.signer_id = ANY(%s) AND g.id IN (s.performed_signature_id, s.inspected_signature_id, "
            "s.skip_signature_id) OFFSET 0)) OFFSET 0) "
            "OR EXISTS (SELECT 1 FROM compliance_signature g WHERE g.id = t.final_signature_id "
            "AND g.signer_id = ANY(%s) OFFSET 0) "
            "OR EXISTS (SELECT 1 FROM travelers_travelerstep s JOIN travelers_measurement m ON m.step_id = s.id "
            "WHERE s.traveler_id = t.id AND m.recorded_by_id = ANY(%s) OFFSET 0))"
        )
        return Condition(sql, [user_ids] * 4, lake=True)
    sets = [
        f"SELECT s.traveler_id FROM compliance_signature g JOIN travelers_travelerstep s ON s.{col} = g.id "
        "WHERE g.signer_id = ANY(%s)"
        for col in ("performed_signature_id", "inspected_signature_id", "skip_signature_id")
    ] + [
        "SELECT t2.id FROM compliance_signature g JOIN travelers_traveler t2 ON t2.final_signature_id = g.id "
        "WHERE g.signer_id = ANY(%s)",
        "SELECT traveler_id FROM travelers_travelerstep WHERE started_by_id = ANY(%s)",
        "SELECT s.traveler_id FROM travelers_measurement m JOIN travelers_travelerstep s ON s.id = m.step_id "
        "WHERE m.recorded_by_id = ANY(%s)",
    ]
    return Condition("(" + " OR ".join(f"t.id IN ({sql})" for sql in sets) + ")", [user_ids] * len(sets), lake=True)


def partial_condition(like: str) -> Condition:
    """Serial/lot numbers matching a pattern. The trigram index finds the matching items first; their
    ids then go to the page query as an array, so the planner knows how few they are (an ILIKE left
    in the page query is guessed at 1 % and checked row by row along the keyset order). More matches
    than MAX_PARTIAL_IDS: the pattern stays in the page query, where dense matches are found early."""
    found = []
    for sql in (
        "SELECT id FROM travelers_item WHERE identifier ILIKE %s LIMIT %s",
        "SELECT id FROM archive_archiverecord WHERE identifier ILIKE %s LIMIT %s",
    ):
        ids = [row[0] for row in fetch(sql, [like, MAX_PARTIAL_IDS + 1])]
        found.append(ids if len(ids) <= MAX_PARTIAL_IDS else None)
    live, archived = found
    return Condition(
        "t.item_id = ANY(%s)" if live is not None else "i.identifier ILIKE %s",
        [live if live is not None else like],
        "a.id = ANY(%s)" if archived is not None else "a.identifier ILIKE %s",
        [archived if archived is not None else like],
    )


PROBES = (
    ("unit", "SELECT 1 FROM travelers_item WHERE identifier = %s"),
    ("traveler", "SELECT 1 FROM travelers_traveler WHERE number = %s"),
    ("work_order", "SELECT 1 FROM travelers_workorder WHERE number = %s"),
    ("part", "SELECT 1 FROM masterdata_part WHERE number = %s"),
    ("ncr", "SELECT 1 FROM travelers_nonconformance WHERE number = %s"),
    ("unit", "SELECT 1 FROM archive_archiverecord WHERE identifier = %s"),
    ("traveler", "SELECT 1 FROM archive_archiverecord WHERE traveler_number = %s"),
    ("work_order", "SELECT 1 FROM archive_archiverecord WHERE work_order = %s"),
    ("part", "SELECT 1 FROM archive_archiverecord WHERE part_number = %s"),
)
KIND_LABEL = {
    "unit": "serial/lot number",
    "traveler": "traveler number",
    "work_order": "work order",
    "part": "part number",
    "ncr": "NCR number",
}
KIND_CONDITION = {
    "unit": unit_condition,
    "traveler": traveler_condition,
    "work_order": work_order_condition,
    "part": part_condition,
    "ncr": ncr_condition,
}


def classify(term: str) -> list[str]:
    """Which kinds of record number `term` is, exactly (one round trip)."""
    sql = "SELECT " + ", ".join(f"EXISTS ({probe})" for _, probe in PROBES)
    with connection.cursor() as cursor:
        cursor.execute(sql, [term] * len(PROBES))
        row = cursor.fetchone()
    return list(dict.fromkeys(kind for (kind, _), hit in zip(PROBES, row, strict=True) if hit))
