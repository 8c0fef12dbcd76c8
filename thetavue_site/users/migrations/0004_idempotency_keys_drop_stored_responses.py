"""Delete every stored Idempotency-Key response.

They were stored unscoped and may hold secrets (new API tokens); the keys
live 24 hours anyway, so losing them only makes a pending retry run afresh.
"""

from django.db import migrations


def drop_stored(apps, schema_editor):
    # Runs as the migrating role; forced RLS needs the service context to see rows.
    schema_editor.execute("SELECT set_config('app.service', 'on', true)")
    apps.get_model("users", "IdempotencyKey").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("users", "0003_allauth_tables_rls")]

    operations = [migrations.RunPython(drop_stored, migrations.RunPython.noop)]
