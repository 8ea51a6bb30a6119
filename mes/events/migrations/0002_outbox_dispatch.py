"""The relay gives each outbox message one delivery per outbound adapter (integrations.relay): a message
is dispatched once. Messages already delivered need no delivery rows; undelivered ones are dispatched
anew, keeping whatever delivery rows they already have."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="dispatched_at",
            field=models.DateTimeField(
                blank=True, help_text="When the relay gave it a delivery for each outbound adapter.", null=True
            ),
        ),
        migrations.RunSQL(
            "UPDATE events_outboxmessage SET dispatched_at = delivered_at WHERE delivered_at IS NOT NULL",
            migrations.RunSQL.noop,
        ),
        migrations.AddIndex(
            model_name="outboxmessage",
            index=models.Index(
                condition=models.Q(("dispatched_at__isnull", True)), fields=["id"], name="outbox_undispatched_idx"
            ),
        ),
    ]
