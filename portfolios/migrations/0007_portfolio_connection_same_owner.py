from django.db import migrations

from thetavue_site.rls import same_owner


class Migration(migrations.Migration):
    """A portfolio's broker connection belongs to the portfolio's owner."""

    dependencies = [
        ("portfolios", "0006_positions_fillfactor"),
        ("brokers", "0004_sync_states"),
    ]

    operations = [same_owner("portfolios", "broker_connection_id", "broker_connections")]
