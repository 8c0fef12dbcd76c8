from django.db import migrations


class Migration(migrations.Migration):
    """Sessions live in Redis (SESSION_ENGINE cache): drop the table of everyone's sessions.

    The table belonged to django.contrib.sessions, no longer installed; it
    holds nothing the cache-backed sessions read. The reverse leaves it gone:
    re-creating it empty would serve nothing.
    """

    dependencies = [("users", "0004_rls_on_remaining_user_tables")]

    operations = [
        migrations.RunSQL(sql="DROP TABLE IF EXISTS django_session;", reverse_sql=migrations.RunSQL.noop)
    ]
