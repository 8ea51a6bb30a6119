"""Gap-tolerant, race-free numbers for travelers (T-0000001) and nonconformances (NCR-000001)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("travelers", "0003_measurements_append_only")]
    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE travelers_traveler_number_seq; CREATE SEQUENCE travelers_ncr_number_seq;",
            "DROP SEQUENCE travelers_traveler_number_seq; DROP SEQUENCE travelers_ncr_number_seq;",
        )
    ]
