"""Database guards: triggers that refuse what the services would refuse, whoever sends the SQL.

Models declare them in their Meta (`triggers = [...]`, django-pgtrigger), beside the fields they guard;
migrations install them. The application's database role owns no table and no trigger, so it cannot
drop or disable them (docs/operations.md, "Database roles"); a database superuser can, which is what
the keyed hashes, the checkpoints in the data lake and `manage.py verify_audit` are for.

django-pgtrigger lets a session skip a trigger by setting `pgtrigger.ignore`; any role may set such a
setting, so after every migrate `harden_bypass()` replaces that switch with one that never skips, and
the verifier checks that it is still so and that every declared trigger is installed and enabled.
"""

# ruff: noqa: S608 - trigger bodies are assembled from constant SQL fragments, never from input.

from __future__ import annotations

import pgtrigger
from django.db import connection

REFUSED = "integrity_constraint_violation"
USER_GUARD = "traveler_user_guard"  # auth.User's guard, written by compliance migration 0011

HARDENED_IGNORE = """
CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(trigger_name NAME) RETURNS BOOLEAN AS $$
BEGIN
    -- Traveler: no session may switch a guard off (see mes/compliance/guards.py).
    RETURN FALSE;
END;
$$ LANGUAGE plpgsql;
"""


def raise_sql(message: str, *args: str) -> str:
    """A PL/pgSQL RAISE refusing the statement with `message` ('%' placeholders take `args`)."""
    params = "".join(f", {a}" for a in args)
    return f"RAISE EXCEPTION '{message}'{params} USING ERRCODE = '{REFUSED}';"


def refuse(
    name: str, operation: pgtrigger.Operation, message: str, *args: str, condition: pgtrigger.Condition | None = None
) -> pgtrigger.Trigger:
    """A BEFORE trigger that refuses `operation` (when `condition` holds) with a plain message."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=operation,
        condition=condition,
        func=raise_sql(message, *args),
    )


def append_only(table_label: str) -> pgtrigger.Trigger:
    return refuse(
        "append_only",
        pgtrigger.Update | pgtrigger.Delete,
        f"{table_label} is append-only: % refused",
        "TG_OP",
    )


def check(name: str, operation: pgtrigger.Operation, body: str) -> pgtrigger.Trigger:
    """A BEFORE trigger running `body` (which raises on a violation) and letting the row through."""
    returned = "OLD" if operation == pgtrigger.Delete else "NEW"
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=operation,
        func=f"{body}\nRETURN {returned};",
    )


def head_registered_empty() -> pgtrigger.Trigger:
    """An audit chain is registered empty (0, genesis): its events come one by one after."""
    return check(
        "head_registered_empty",
        pgtrigger.Insert,
        "IF NEW.last_seq <> 0 OR NEW.last_hash <> repeat('0', 64) THEN "
        + raise_sql("audit chain % must be registered empty", "NEW.chain")
        + " END IF;",
    )


def head_only_advances() -> pgtrigger.Trigger:
    """A chain head moves one event forward, onto the event just written; never back, never elsewhere."""
    return check(
        "head_only_advances",
        pgtrigger.Update,
        "IF NEW.chain <> OLD.chain OR NEW.last_seq <> OLD.last_seq + 1 THEN "
        + raise_sql(
            "the head of audit chain % only moves one event forward (% -> % refused)",
            "OLD.chain",
            "OLD.last_seq",
            "NEW.last_seq",
        )
        + " END IF; IF NOT EXISTS (SELECT 1 FROM compliance_auditevent e WHERE e.chain = NEW.chain "
        "AND e.seq = NEW.last_seq AND e.hash = NEW.last_hash) THEN "
        + raise_sql("the head of audit chain % must point at its newest event", "NEW.chain")
        + " END IF;",
    )


def harden_bypass(using: str | None = None) -> None:
    """Make pgtrigger's per-session ignore switch a no-op (run after every migrate)."""
    with connection.cursor() as cursor:
        cursor.execute(HARDENED_IGNORE)


def guard_problems() -> list[str]:
    """Declared triggers that are missing or disabled, and a re-opened bypass switch (for the verifier)."""
    problems = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger WHERE NOT tgisinternal "
            "AND (tgname LIKE 'pgtrigger_%%' OR tgname = %s)",
            [USER_GUARD],
        )
        installed = dict(cursor.fetchall())
        cursor.execute(
            "SELECT prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = '_pgtrigger_should_ignore'"
        )
        row = cursor.fetchone()
    if USER_GUARD not in installed:
        problems.append(f"database guard auth_user.{USER_GUARD} is not installed")
    elif installed[USER_GUARD] == "D":
        problems.append(f"database guard auth_user.{USER_GUARD} is disabled")
    for model, trigger in pgtrigger.registered():
        pgid = trigger.get_pgid(model)
        where = f"{model._meta.db_table}.{trigger.name}"
        if pgid not in installed:
            problems.append(f"database guard {where} is not installed")
        elif installed[pgid] == "D":
            problems.append(f"database guard {where} is disabled")
    if row is None or "RETURN FALSE;" not in row[0] or "CURRENT_SETTING" in row[0].upper():
        problems.append("pgtrigger's ignore switch is not hardened: a session could skip the guards")
    return problems
