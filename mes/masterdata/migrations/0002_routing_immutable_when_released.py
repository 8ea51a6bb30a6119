"""A released (or retired) routing cannot change, not even through SQL.

Triggers refuse: any UPDATE of a non-draft routing other than its retirement (released -> superseded
or obsolete); DELETE of a non-draft routing; INSERT, UPDATE or DELETE of the steps, characteristics
and instruction attachments of a non-draft routing.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION masterdata_routing_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'routing % is %: it cannot be deleted', OLD.id, OLD.status
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'draft' THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'released' AND NEW.status IN ('superseded', 'obsolete')
       AND (NEW.part_revision_id, NEW.revision, NEW.description, NEW.created_at, NEW.created_by_id,
            NEW.released_at, NEW.released_by_id, NEW.based_on_id)
           IS NOT DISTINCT FROM
           (OLD.part_revision_id, OLD.revision, OLD.description, OLD.created_at, OLD.created_by_id,
            OLD.released_at, OLD.released_by_id, OLD.based_on_id) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'routing % is %: it cannot be changed (make a new revision)', OLD.id, OLD.status
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE FUNCTION masterdata_routing_is_draft(routing bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT status = 'draft' FROM masterdata_routing WHERE id = routing), true)
$$;

CREATE FUNCTION masterdata_routing_content_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    routings bigint[];
    r bigint;
BEGIN
    IF TG_TABLE_NAME = 'masterdata_routingstep' THEN
        routings := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN OLD.routing_id END,
                          CASE WHEN TG_OP <> 'DELETE' THEN NEW.routing_id END];
    ELSE
        routings := ARRAY(
            SELECT s.routing_id FROM masterdata_routingstep s
            WHERE s.id IN (CASE WHEN TG_OP <> 'INSERT' THEN OLD.step_id END,
                           CASE WHEN TG_OP <> 'DELETE' THEN NEW.step_id END));
    END IF;
    FOREACH r IN ARRAY routings LOOP
        IF r IS NOT NULL AND NOT masterdata_routing_is_draft(r) THEN
            RAISE EXCEPTION 'routing % is not a draft: its % cannot be changed (make a new revision)',
                r, TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER masterdata_routing_guard BEFORE UPDATE OR DELETE ON masterdata_routing
    FOR EACH ROW EXECUTE FUNCTION masterdata_routing_guard();
CREATE TRIGGER masterdata_routingstep_guard BEFORE INSERT OR UPDATE OR DELETE ON masterdata_routingstep
    FOR EACH ROW EXECUTE FUNCTION masterdata_routing_content_guard();
CREATE TRIGGER masterdata_characteristic_guard BEFORE INSERT OR UPDATE OR DELETE ON masterdata_characteristic
    FOR EACH ROW EXECUTE FUNCTION masterdata_routing_content_guard();
CREATE TRIGGER masterdata_stepattachment_guard BEFORE INSERT OR UPDATE OR DELETE ON masterdata_stepattachment
    FOR EACH ROW EXECUTE FUNCTION masterdata_routing_content_guard();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS masterdata_stepattachment_guard ON masterdata_stepattachment;
DROP TRIGGER IF EXISTS masterdata_characteristic_guard ON masterdata_characteristic;
DROP TRIGGER IF EXISTS masterdata_routingstep_guard ON masterdata_routingstep;
DROP TRIGGER IF EXISTS masterdata_routing_guard ON masterdata_routing;
DROP FUNCTION IF EXISTS masterdata_routing_content_guard();
DROP FUNCTION IF EXISTS masterdata_routing_is_draft(bigint);
DROP FUNCTION IF EXISTS masterdata_routing_guard();
"""


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
