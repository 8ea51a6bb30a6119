"""The database guards of traveler records (see mes.compliance.guards): what the services refuse, the
database refuses too, so a row written behind their back fails the same way.

- Nothing is ever deleted.
- Nothing is added to a closed or scrapped traveler, and a closed one never changes again.
- What was copied at release (a step's snapshot, every characteristic with its limits) never changes.
- A record that was signed or ended (a completed step, a released hold, a dispositioned NCR, a
  removed component) never changes; the others change once, in one statement, from open to ended.
"""

# ruff: noqa: S608 - trigger bodies are assembled from constant SQL fragments, never from input.

from __future__ import annotations

import pgtrigger

from mes.compliance import guards

OPEN = "('active', 'awaiting_signoff')"


def not_deleted(what: str) -> pgtrigger.Trigger:
    return guards.refuse(
        "not_deleted", pgtrigger.Delete, f"{what} % is part of the record: it is never deleted", "OLD.id"
    )


def _traveler_open_check(traveler_sql: str, what: str, row: str = "NEW") -> str:
    return (
        f"IF NOT EXISTS (SELECT 1 FROM travelers_traveler t WHERE t.id = {traveler_sql} AND t.status IN {OPEN}) "
        f"THEN {guards.raise_sql(f'the traveler of {what} % is closed: nothing is added or changed', f'{row}.id')} "
        "END IF;"
    )


def insert_while_open(what: str, *, via_step: bool = False) -> pgtrigger.Trigger:
    """Refuse a new row whose traveler is closed or scrapped (found directly or through its step)."""
    traveler = (
        "(SELECT s.traveler_id FROM travelers_travelerstep s WHERE s.id = NEW.step_id)"
        if via_step
        else "NEW.traveler_id"
    )
    return guards.check("insert_while_open", pgtrigger.Insert, _traveler_open_check(traveler, what))


def update_while_open(what: str) -> pgtrigger.Trigger:
    """Refuse any change to a row of a closed or scrapped traveler."""
    return guards.check("update_while_open", pgtrigger.Update, _traveler_open_check("OLD.traveler_id", what, "OLD"))


class _Lazy(pgtrigger.Condition):
    """A condition whose SQL is built once the model is known."""

    def __init__(self, build):
        self.build = build

    def resolve(self, model) -> str:
        return self.build(model)


def frozen_fields(what: str, fields: list[str]) -> pgtrigger.Trigger:
    """Refuse a change of any of `fields` (what was true when the row was made stays true)."""
    return guards.refuse(
        "frozen_fields",
        pgtrigger.Update,
        f"{what} %: {', '.join(fields)} never change",
        "OLD.id",
        condition=pgtrigger.AnyChange(*fields),
    )


def frozen_once(what: str, state_sql: str, state: str, *, allow: tuple[str, ...] = ()) -> pgtrigger.Trigger:
    """Refuse any change (but of `allow`) to a row that was already `state` (`state_sql` on OLD)."""

    def build(model) -> str:
        return f"(({state_sql}) AND ({pgtrigger.AnyChange(exclude=list(allow)).resolve(model)}))"

    return guards.refuse(
        "frozen_once",
        pgtrigger.Update,
        f"{what} % is {state}: it never changes again",
        "OLD.id",
        condition=_Lazy(build),
    )


def refuse_when(name: str, condition_sql: str, message: str) -> pgtrigger.Trigger:
    """Refuse an UPDATE when `condition_sql` (on OLD and NEW) holds."""
    return guards.refuse(name, pgtrigger.Update, message, "OLD.id", condition=pgtrigger.Condition(f"({condition_sql})"))


def set_once(what: str, columns: list[str]) -> pgtrigger.Trigger:
    """Refuse changing `columns` once they hold a value (a signature, once attached, stays)."""
    sql = "(" + " OR ".join(f"(OLD.{c} IS NOT NULL AND OLD.{c} IS DISTINCT FROM NEW.{c})" for c in columns) + ")"
    return guards.refuse(
        "set_once",
        pgtrigger.Update,
        f"{what} %: a signature once attached is never changed",
        "OLD.id",
        condition=pgtrigger.Condition(sql),
    )


def insert_on_pending_step() -> pgtrigger.Trigger:
    """A characteristic joins a step when the step does (pending, on an open traveler), never later."""
    return guards.check(
        "insert_on_new_step",
        pgtrigger.Insert,
        "IF NOT EXISTS (SELECT 1 FROM travelers_travelerstep s JOIN travelers_traveler t ON t.id = s.traveler_id "
        f"WHERE s.id = NEW.step_id AND s.status = 'pending' AND t.status IN {OPEN}) THEN "
        + guards.raise_sql(
            "a characteristic is only added to a pending step of an open traveler (step %)", "NEW.step_id"
        )
        + " END IF;",
    )
