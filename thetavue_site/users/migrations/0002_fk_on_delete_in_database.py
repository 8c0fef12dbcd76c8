from django.db import migrations

from thetavue_site.db_constraints import on_delete_in_database


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial")]

    operations = [
        on_delete_in_database("api_tokens", "user_id", "users", "clerk_id", "CASCADE"),
        on_delete_in_database("notifications", "user_id", "users", "clerk_id", "CASCADE"),
        on_delete_in_database("idempotency_keys", "user_id", "users", "clerk_id", "CASCADE"),
        on_delete_in_database("consents", "user_id", "users", "clerk_id", "CASCADE"),
    ]
