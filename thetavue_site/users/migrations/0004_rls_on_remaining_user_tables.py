from django.db import migrations

from thetavue_site.rls import SERVICE, owner_rule, protect


class Migration(migrations.Migration):
    """The remaining tables with user data get forced RLS like the tenant tables.

    Group and permission links and the admin's log belong to a user; the
    processed webhook ids belong to no trader and are for the service context
    (the webhook view) only.
    """

    dependencies = [
        ("users", "0003_allauth_tables_rls"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        protect("users_groups", owner_rule()),
        protect("users_user_permissions", owner_rule()),
        protect("django_admin_log", owner_rule()),
        protect("processed_webhooks", SERVICE),
    ]
