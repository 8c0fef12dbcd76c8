from django.db import migrations

from thetavue_site.rls import owner_rule, protect, via_parent_rule


class Migration(migrations.Migration):
    """allauth's email tables hold a trader's addresses: tenant rows like any other."""

    dependencies = [
        ("users", "0002_fk_on_delete_in_database"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        protect("account_emailaddress", owner_rule()),
        protect(
            "account_emailconfirmation",
            via_parent_rule("account_emailconfirmation", "email_address_id", "account_emailaddress"),
        ),
    ]
