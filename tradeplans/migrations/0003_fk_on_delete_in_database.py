from django.db import migrations

from thetavue_site.db_constraints import on_delete_in_database


class Migration(migrations.Migration):
    dependencies = [("tradeplans", "0002_initial"), ("portfolios", "0002_initial")]

    operations = [
        on_delete_in_database("trade_plans", "user_id", "users", "clerk_id", "CASCADE"),
        on_delete_in_database("trade_plans", "portfolio_id", "portfolios", "id", "CASCADE"),
        on_delete_in_database("trade_plan_strategies", "trade_plan_id", "trade_plans", "id", "CASCADE"),
    ]
