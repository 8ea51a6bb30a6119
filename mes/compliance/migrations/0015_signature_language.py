from django.db import migrations, models

HELP = "The language the signer read the signing statement in; the meaning's code is what is signed."


class Migration(migrations.Migration):
    """Signatures made before Traveler spoke French and Spanish were all read in English: the column is
    added with 'en' for them (DDL: the append-only guard is not involved); signature_record fills it in for
    new ones with the language the signer read."""

    dependencies = [
        ("compliance", "0014_profile_language"),
    ]

    operations = [
        migrations.AddField(
            model_name="signature",
            name="language",
            field=models.CharField(blank=True, default="en", help_text=HELP, max_length=8),
            preserve_default=False,
        ),
    ]
