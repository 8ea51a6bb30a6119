"""Keyed hashes (key id on audit events and signatures; the record seal on events), the integrity
checkpoints and verifier runs, and the append-only guards declared with the models (django-pgtrigger)
instead of the hand-written triggers of 0003, which are dropped here. Events and signatures written
before this migration have no key id: the verifier reports them as not keyed."""

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("compliance", "0006_signature_meaning_disposed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(
            "DROP TRIGGER IF EXISTS compliance_signature_append_only ON compliance_signature;"
            "DROP TRIGGER IF EXISTS compliance_auditevent_append_only ON compliance_auditevent;",
            "CREATE TRIGGER compliance_auditevent_append_only BEFORE UPDATE OR DELETE ON compliance_auditevent "
            "FOR EACH ROW EXECUTE FUNCTION traveler_refuse_change();"
            "CREATE TRIGGER compliance_signature_append_only BEFORE UPDATE OR DELETE ON compliance_signature "
            "FOR EACH ROW EXECUTE FUNCTION traveler_refuse_change();",
        ),
        migrations.CreateModel(
            name="CheckpointedHead",
            fields=[
                ("chain", models.CharField(max_length=80, primary_key=True, serialize=False)),
                ("seq", models.PositiveBigIntegerField()),
                (
                    "checkpoint",
                    models.PositiveBigIntegerField(default=0, help_text="Number of the checkpoint that listed it."),
                ),
            ],
        ),
        migrations.CreateModel(
            name="IntegrityCheckpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveBigIntegerField(unique=True)),
                (
                    "kind",
                    models.CharField(
                        choices=[("full", "Every chain"), ("delta", "Chains moved since the previous checkpoint")],
                        max_length=5,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                ("chains", models.PositiveBigIntegerField(help_text="Chains listed in this checkpoint.")),
                ("chains_total", models.PositiveBigIntegerField(help_text="Chains registered when it was made.")),
                ("digest", models.CharField(help_text="SHA-256 of every head, in chain order.", max_length=64)),
                ("key_id", models.CharField(max_length=32)),
                ("seal", models.CharField(help_text="HMAC of the checkpoint document.", max_length=64)),
                ("uri", models.CharField(max_length=500)),
                ("object_lock", models.CharField(blank=True, max_length=20)),
            ],
            options={
                "ordering": ["-number"],
            },
        ),
        migrations.CreateModel(
            name="IntegrityRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "scope",
                    models.CharField(
                        default="all", help_text="What was checked (all, or named chains).", max_length=200
                    ),
                ),
                ("ok", models.BooleanField(null=True)),
                ("counts", models.JSONField(blank=True, default=dict, help_text="What was checked, by kind.")),
                ("problems", models.JSONField(blank=True, default=list, help_text="Plain findings (the first 500).")),
                ("problem_count", models.PositiveIntegerField(default=0)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledgement", models.TextField(blank=True)),
            ],
            options={
                "ordering": ["-started_at"],
                "permissions": [("view_integrity", "Can see integrity alerts and verifier runs")],
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(blank=True, help_text="The integrity key of the hash.", max_length=32),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seal",
            field=models.CharField(
                blank=True, help_text="SHA-256 of the record's content after the change.", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="signature",
            name="key_id",
            field=models.CharField(blank=True, help_text="The integrity key of the content hash.", max_length=32),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditchainhead",
            trigger=pgtrigger.compiler.Trigger(
                name="head_not_deleted",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'audit chain % is registered: it cannot be removed', OLD.chain USING ERRCODE = 'integrity_constraint_violation';",
                    hash="06ea96bc8b841b39cc2615fc9f32468aa3b1d348",
                    operation="DELETE",
                    pgid="pgtrigger_head_not_deleted_3d6e8",
                    table="compliance_auditchainhead",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditchainhead",
            trigger=pgtrigger.compiler.Trigger(
                name="head_registered_empty",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF NEW.last_seq <> 0 OR NEW.last_hash <> repeat('0', 64) THEN RAISE EXCEPTION 'audit chain % must be registered empty', NEW.chain USING ERRCODE = 'integrity_constraint_violation'; END IF;\nRETURN NEW;",
                    hash="35901099fac93ced55a398339627433b38796e88",
                    operation="INSERT",
                    pgid="pgtrigger_head_registered_empty_9f3d8",
                    table="compliance_auditchainhead",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditchainhead",
            trigger=pgtrigger.compiler.Trigger(
                name="head_only_advances",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="IF NEW.chain <> OLD.chain OR NEW.last_seq <> OLD.last_seq + 1 THEN RAISE EXCEPTION 'the head of audit chain % only moves one event forward (% -> % refused)', OLD.chain, OLD.last_seq, NEW.last_seq USING ERRCODE = 'integrity_constraint_violation'; END IF; IF NOT EXISTS (SELECT 1 FROM compliance_auditevent e WHERE e.chain = NEW.chain AND e.seq = NEW.last_seq AND e.hash = NEW.last_hash) THEN RAISE EXCEPTION 'the head of audit chain % must point at its newest event', NEW.chain USING ERRCODE = 'integrity_constraint_violation'; END IF;\nRETURN NEW;",
                    hash="0a7f0602d2675dcfc64983e43a14a807640160e7",
                    operation="UPDATE",
                    pgid="pgtrigger_head_only_advances_9fa8b",
                    table="compliance_auditchainhead",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="auditevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';",
                    hash="b6e1de7686f887643b6fda2267f6a0962067d09d",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_f6049",
                    table="compliance_auditevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="signature",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'a signature is append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';",
                    hash="cb48c0e8ac8e1f825817bd0b4c8853450239a741",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_ee1f3",
                    table="compliance_signature",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="integritycheckpoint",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'an integrity checkpoint is append-only: % refused', TG_OP USING ERRCODE = 'integrity_constraint_violation';",
                    hash="fd0e1ed074c5688993a7ffd422ebd8eb856de500",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_a185d",
                    table="compliance_integritycheckpoint",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.AddField(
            model_name="integrityrun",
            name="acknowledged_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
