from django.db import migrations

from thetavue_site.db_constraints import on_delete_in_database


class Migration(migrations.Migration):
    dependencies = [("portfolios", "0002_initial"), ("brokers", "0002_initial")]

    operations = [
        on_delete_in_database("portfolios", "user_id", "users", "clerk_id", "CASCADE"),
        on_delete_in_database("portfolios", "broker_connection_id", "broker_connections", "id", "SET NULL"),
        on_delete_in_database("positions", "portfolio_id", "portfolios", "id", "CASCADE"),
        on_delete_in_database("account_balances", "portfolio_id", "portfolios", "id", "CASCADE"),
        on_delete_in_database("transactions", "portfolio_id", "portfolios", "id", "CASCADE"),
    ]
