"""The application's database role cannot switch the guards off (docs/operations.md, "Database roles"):
it owns no table and no trigger, so it can neither drop, disable nor bypass them, nor truncate."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.regulation("21 CFR 11.10(c)", "21 CFR 11.10(d)"),
]  # the role connects separately: it sees committed rows


@pytest.fixture
def app_role():
    """A login role granted exactly what docs/operations.md grants the application."""
    name = f"traveler_app_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {name} LOGIN")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {name}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}")
    settings = connection.settings_dict
    params = {"dbname": settings["NAME"], "host": settings.get("HOST") or None, "port": settings.get("PORT") or None}
    conn = psycopg.connect(**{k: v for k, v in params.items() if v}, user=name, autocommit=True)
    try:
        yield conn
    finally:
        conn.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {name}")
            cursor.execute(f"DROP ROLE {name}")


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("ALTER TABLE travelers_measurement DISABLE TRIGGER USER", "must be owner"),
        ("ALTER TABLE compliance_auditevent DISABLE TRIGGER ALL", "must be owner"),
        ("DROP TRIGGER {trigger} ON compliance_auditevent", "must be owner"),
        ("SET session_replication_role = replica", "permission denied"),
        ("TRUNCATE compliance_auditevent", "permission denied"),
        ("CREATE OR REPLACE FUNCTION public._pgtrigger_should_ignore(n name) RETURNS boolean "
         "AS 'SELECT true' LANGUAGE sql", "must be owner|permission denied"),
        ("INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) VALUES ('forged', 7, 'x')",
         "must be registered empty"),
    ],
)  # fmt: skip
def test_the_application_role_cannot_switch_the_guards_off(app_role, statement, refusal):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger "
            "WHERE tgrelid = 'compliance_auditevent'::regclass AND tgname LIKE 'pgtrigger_%%'"
        )
        trigger = cursor.fetchone()[0]
    with pytest.raises(psycopg.Error, match=refusal):
        app_role.execute(statement.format(trigger=trigger))
    with connection.cursor() as cursor:  # and every guard is still there and enabled
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgtrigger_%%' AND tgenabled = 'D'")
        assert cursor.fetchone()[0] == 0


def test_the_application_role_does_its_work(app_role):
    """The same role writes what the services write: the grants are not too tight."""
    app_role.execute(
        "INSERT INTO compliance_auditchainhead (chain, last_seq, last_hash) VALUES ('role-test', 0, repeat('0', 64))"
    )
    assert app_role.execute("SELECT count(*) FROM compliance_auditchainhead WHERE chain = 'role-test'").fetchone() == (
        1,
    )
