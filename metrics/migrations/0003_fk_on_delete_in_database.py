from django.db import migrations

from thetavue_site.db_constraints import on_delete_in_database


class Migration(migrations.Migration):
    dependencies = [("metrics", "0002_initial")]

    operations = [
        on_delete_in_database("historical_metrics", "portfolio_id", "portfolios", "id", "CASCADE"),
    ]
