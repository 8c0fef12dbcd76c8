from django.db import migrations

from thetavue_site.db_constraints import on_delete_in_database


class Migration(migrations.Migration):
    dependencies = [("brokers", "0002_initial")]

    operations = [
        on_delete_in_database("broker_connections", "user_id", "users", "clerk_id", "CASCADE"),
        on_delete_in_database("sync_runs", "connection_id", "broker_connections", "id", "CASCADE"),
    ]
