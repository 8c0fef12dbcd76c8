from django.db import migrations

from thetavue_site.rls import same_owner


class Migration(migrations.Migration):
    """A trade plan scoped to one portfolio is scoped to one of its owner's portfolios."""

    dependencies = [
        ("tradeplans", "0004_add_trade_plan_breaches"),
        ("portfolios", "0007_portfolio_connection_same_owner"),
    ]

    operations = [same_owner("trade_plans", "portfolio_id", "portfolios")]
