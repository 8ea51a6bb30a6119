"""Audit events and signatures are append-only: the database refuses UPDATE and DELETE.

TRUNCATE is left to privileges, not triggers: Django's test flush truncates every table, and in
production the application's database role is granted no TRUNCATE (see docs/operations.md)."""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION traveler_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE TRIGGER compliance_auditevent_append_only BEFORE UPDATE OR DELETE ON compliance_auditevent
    FOR EACH ROW EXECUTE FUNCTION traveler_refuse_change();
CREATE TRIGGER compliance_signature_append_only BEFORE UPDATE OR DELETE ON compliance_signature
    FOR EACH ROW EXECUTE FUNCTION traveler_refuse_change();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS compliance_signature_append_only ON compliance_signature;
DROP TRIGGER IF EXISTS compliance_auditevent_append_only ON compliance_auditevent;
DROP FUNCTION IF EXISTS traveler_refuse_change();
"""


class Migration(migrations.Migration):
    dependencies = [("compliance", "0002_audit_trail_and_signatures")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
