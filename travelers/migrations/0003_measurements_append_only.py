"""A recorded value is never updated or deleted: corrections supersede it (a new row)."""

from django.db import migrations

FORWARD = r"""
CREATE TRIGGER travelers_measurement_append_only BEFORE UPDATE OR DELETE ON travelers_measurement
    FOR EACH ROW EXECUTE FUNCTION traveler_refuse_change();
"""

REVERSE = r"""
DROP TRIGGER IF EXISTS travelers_measurement_append_only ON travelers_measurement;
"""


class Migration(migrations.Migration):
    dependencies = [("travelers", "0002_execution_records"), ("compliance", "0003_records_append_only")]
    operations = [migrations.RunSQL(FORWARD, REVERSE)]
