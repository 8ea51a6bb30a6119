"""A user is never deleted (deactivate instead) and its username never changes, so a user id that signed
a record always names the same person. auth.User is Django's model, so its guard is written here (and
checked by the verifier, mes.compliance.guards.USER_GUARD) rather than declared in a Meta."""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION traveler_user_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'user % is never deleted: deactivate the account instead', OLD.username
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.username IS DISTINCT FROM OLD.username THEN
        RAISE EXCEPTION 'user id % is never changed nor reassigned: deactivate it and make a new one', OLD.username
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER traveler_user_guard BEFORE UPDATE OR DELETE ON auth_user
    FOR EACH ROW EXECUTE FUNCTION traveler_user_guard();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS traveler_user_guard ON auth_user;
DROP FUNCTION IF EXISTS traveler_user_guard();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0010_api_token_revoke_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
